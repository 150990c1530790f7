/**
 * The console as a terminal chat: type as a cadre, see what the bot answers and whom it
 * messages. `:as u2` switches the speaker, `:group g1` / `:direct` the chat, `:quit` ends.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { makeEvent, type BotEvent } from '../../event.js';
import type { Reply } from '../../reply.js';
import { PLATFORM, stripBotMention } from './jsonl.js';

const T = {
  welcome: (user: string) => `民情 控制台。您现在是 ${user}（私聊）。试试 /帮助、/走访 昨天 石门村 入户 1天 走访困难户、/我的。\n切换身份 :as u2，切换到群聊 :group g1，回到私聊 :direct，退出 :quit。`,
  now: (user: string, chat: string) => `→ 您现在是 ${user}，在${chat}`,
  toChat: '民情',
  toUser: (u: string) => `民情 → 私信 ${u}`,
};

export function formatReply(r: Reply): string {
  const head = r.to === 'chat' ? T.toChat : T.toUser(r.target ?? '?');
  const extras = [
    ...(r.actions ?? []).map((a) => `[${a.label}: ${a.command}]`),
    ...(r.file ? [`📎 ${r.file}`] : []),
    ...(r.image ? [`🖼 ${r.image}`] : []),
  ];
  return `${head}：${r.text}${extras.length ? '\n' + extras.join(' ') : ''}`;
}

export async function runInteractive(opts: {
  input: Readable; output: Writable; log: Logger; botName: string; user?: string;
  handle: (e: BotEvent) => Promise<Reply[]>;
}): Promise<void> {
  const rl = createInterface({ input: opts.input, output: opts.output, terminal: true });
  let user = opts.user ?? 'u1';
  let group: string | null = null;
  const say = (s: string) => opts.output.write(s + '\n');
  say(T.welcome(user));
  for (;;) {
    let line: string;
    try {
      line = await rl.question(`${user}${group ? '@' + group : ''}> `);
    } catch {
      break;
    }
    const meta = /^:(\w+)\s*(\S*)/.exec(line.trim());
    if (meta) {
      const [, cmd, arg] = meta;
      if (cmd === 'quit' || cmd === 'q') break;
      if (cmd === 'as' && arg) user = arg;
      if (cmd === 'group') group = arg || 'g1';
      if (cmd === 'direct') group = null;
      say(T.now(user, group ? `群聊 ${group}` : '私聊'));
      continue;
    }
    if (!line.trim()) continue;
    const { text, mentionsBot } = stripBotMention(line, opts.botName);
    const replies = await opts.handle(makeEvent({
      platform: PLATFORM, chatId: group ?? user, direct: !group, senderId: user, text, mentionsBot, at: new Date(),
    }, opts.log));
    for (const r of replies) say(formatReply(r));
  }
  rl.close();
}
