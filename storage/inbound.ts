/** Platform messages already handled: a redelivered message gets the recorded replies back. */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { inboundMessages } from './schema.js';
import { prepared } from './prepared.js';

export function recordedReplies(db: Db, platform: string, messageId: string): string | undefined {
  const q = prepared(db, 'recordedReplies', (d) => d.select({ r: inboundMessages.replies }).from(inboundMessages)
    .where(and(eq(inboundMessages.platform, sql.placeholder('p')), eq(inboundMessages.messageId, sql.placeholder('m')))).prepare());
  return q.get({ p: platform, m: messageId })?.r;
}

/** Records a handled message with its replies; false when it was already recorded. */
export function claimMessage(db: Db, platform: string, messageId: string, at: number, replies: string): boolean {
  const q = prepared(db, 'claimMessage', (d) => d.insert(inboundMessages)
    .values({ platform: sql.placeholder('p'), messageId: sql.placeholder('m'), receivedAt: sql.placeholder('at'), replies: sql.placeholder('r') })
    .onConflictDoNothing().prepare());
  return q.run({ p: platform, m: messageId, at, r: replies }).changes === 1;
}
