/** Platform messages already handled: a redelivered message gets the recorded replies back. */
import { inTransaction, type Db } from './db.js';
import { prepared } from './prepared.js';
import { enqueueReplies } from './outbox.js';

export function recordedReplies(db: Db, platform: string, messageId: string): string | undefined {
  const q = prepared(db, 'recordedReplies', (d) => d.$client.prepare('SELECT replies FROM inbound_messages WHERE platform = ? AND message_id = ?').pluck());
  return q.get(platform, messageId) as string | undefined;
}

/**
 * Records a handled message with its replies; false when it was already recorded. `outgoing`
 * (the addressed messages, JSON each) go into the reply outbox in the same transaction, so a
 * message is never recorded without the replies that must be delivered for it.
 */
export function claimMessage(db: Db, platform: string, messageId: string, at: number, replies: string, outgoing: string[] = []): boolean {
  const q = prepared(db, 'claimMessage', (d) => d.$client.prepare(
    'INSERT INTO inbound_messages (platform, message_id, received_at, replies) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'));
  const claim = () => {
    if (q.run(platform, messageId, at, replies).changes !== 1) return false;
    if (outgoing.length) enqueueReplies(db, platform, messageId, outgoing, at);
    return true;
  };
  // Nothing to enqueue, or inside a write command's transaction already (the hot path): no transaction of its own needed.
  return !outgoing.length || db.$client.inTransaction ? claim() : inTransaction(db, claim);
}
