/** Platform messages already handled: a redelivered message gets the recorded replies back. */
import type { Db } from './db.js';
import { enqueueReplies } from './outbox.js';

export function recordedReplies(db: Db, platform: string, messageId: string): Promise<string | undefined> {
  return db.value<string>('SELECT replies FROM inbound_messages WHERE platform = ? AND message_id = ?', [platform, messageId]);
}

/**
 * Records a handled message with its replies; false when it was already recorded. `outgoing`
 * (the addressed messages, JSON each) go into the reply outbox in the same transaction, so a
 * message is never recorded without the replies that must be delivered for it. The claim is a
 * unique key: on PostgreSQL a second process claiming the same message waits for the first to
 * commit and then finds it taken.
 */
export function claimMessage(db: Db, platform: string, messageId: string, at: number, replies: string, outgoing: string[] = []): Promise<boolean> {
  return db.withWrite(async (tx) => {
    const n = await tx.run('INSERT INTO inbound_messages (platform, message_id, received_at, replies) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [platform, messageId, at, replies]);
    if (n !== 1) return false;
    if (outgoing.length) await enqueueReplies(tx, platform, messageId, outgoing, at);
    return true;
  });
}
