/**
 * The console's outbound side: messages the bot sends on its own (reminders) are written to the
 * same output as replies. In JSONL they are extra `{"replies":[…]}` lines marked `"reminder":true`,
 * so a script can tell them from the one line that answers each input line.
 */
import type { Sender } from '../../outbound.js';
import { encodeReply } from './jsonl.js';
import { formatReply } from './interactive.js';

export function consoleSender(write: (line: string) => void, jsonl: boolean, platform = 'console'): Sender {
  return {
    platform,
    async send(reply, key) {
      write(jsonl
        ? JSON.stringify({ replies: [encodeReply(reply)], reminder: true, key })
        : `⏰ ${formatReply(reply)}`);
    },
  };
}
