/**
 * The reply outbox (schema `outbox`): rows are written with the claim of the message they answer
 * (`claimMessage`), then claimed for a lease, sent, and marked delivered, retried or
 * undeliverable. One message's replies go out in order: a reply is not claimed while an earlier
 * one of the same message is still pending.
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

export interface OutboxRow {
  id: number;
  key: string;
  platform: string;
  messageId: string;
  idx: number;
  message: string;
  attempts: number;
}

/** The idempotency key of the i-th reply to a message; the same as the adapters' `replyKey`. */
export const outboxKey = (platform: string, messageId: string, idx: number): string => `${platform}:${messageId}:${idx}`;

/** Writes the replies of one message (JSON each); a key already there is left alone. */
export function enqueueReplies(db: Db, platform: string, messageId: string, messages: string[], at: number): number {
  const ins = prepared(db, 'outboxInsert', (d) => d.$client.prepare(
    `INSERT INTO outbox (key, platform, message_id, idx, message, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (platform, message_id, idx) DO NOTHING`));
  let n = 0;
  messages.forEach((m, i) => { n += ins.run(outboxKey(platform, messageId, i), platform, messageId, i, m, at, at).changes; });
  return n;
}

const CLAIMABLE = `o.delivered_at IS NULL AND o.failed_at IS NULL AND o.due_at <= @now
  AND (o.claimed_at IS NULL OR o.claimed_at < @stale)
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform AND p.message_id = o.message_id
    AND p.idx < o.idx AND p.delivered_at IS NULL AND p.failed_at IS NULL)`;

/** Takes up to `limit` due rows (the next reply of each message) for `leaseMs`; returns them. */
export function claimDue(db: Db, now: number, leaseMs: number, limit: number): OutboxRow[] {
  const q = prepared(db, 'outboxClaimDue', (d) => d.$client.prepare(
    `UPDATE outbox SET claimed_at = @now, attempts = attempts + 1 WHERE id IN (
       SELECT o.id FROM outbox o WHERE ${CLAIMABLE} ORDER BY o.due_at, o.id LIMIT @limit)
     RETURNING id, key, platform, message_id AS messageId, idx, message, attempts`));
  return q.all({ now, stale: now - leaseMs, limit }) as OutboxRow[];
}

/** Takes the next due reply of one message, if any. */
export function claimNextOf(db: Db, platform: string, messageId: string, now: number, leaseMs: number): OutboxRow | undefined {
  const q = prepared(db, 'outboxClaimNext', (d) => d.$client.prepare(
    `UPDATE outbox SET claimed_at = @now, attempts = attempts + 1 WHERE id = (
       SELECT o.id FROM outbox o WHERE o.platform = @platform AND o.message_id = @messageId AND ${CLAIMABLE}
       ORDER BY o.idx LIMIT 1)
     RETURNING id, key, platform, message_id AS messageId, idx, message, attempts`));
  return q.get({ now, stale: now - leaseMs, platform, messageId }) as OutboxRow | undefined;
}

export function markSent(db: Db, id: number, now: number): void {
  prepared(db, 'outboxSent', (d) => d.$client.prepare('UPDATE outbox SET delivered_at = ?, claimed_at = NULL WHERE id = ?')).run(now, id);
}

/** Releases the claim and sets when the next attempt may be made. */
export function markRetry(db: Db, id: number, dueAt: number, error: string): void {
  prepared(db, 'outboxRetry', (d) => d.$client.prepare('UPDATE outbox SET due_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?')).run(dueAt, error.slice(0, 500), id);
}

/** Undeliverable: never attempted again. */
export function markFailed(db: Db, id: number, now: number, error: string): void {
  prepared(db, 'outboxFailed', (d) => d.$client.prepare('UPDATE outbox SET failed_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?')).run(now, error.slice(0, 500), id);
}

/**
 * Drops every claim. Called when the process starts: one bot process owns a database, so a claim
 * still held is one its previous life took and never finished (a crash or a stop mid-send).
 */
export function releaseClaims(db: Db): number {
  return db.$client.prepare('UPDATE outbox SET claimed_at = NULL WHERE claimed_at IS NOT NULL AND delivered_at IS NULL AND failed_at IS NULL').run().changes;
}

/**
 * The earliest time a pending row can be claimed (a claimed one: when its lease runs out), or
 * undefined when there is none. Rows behind an earlier pending reply of their message are not
 * counted: the end of that reply's attempt schedules them. Counting rows that cannot be claimed
 * yet would wake the timer at once, again and again, while a send is under way.
 */
export function nextDue(db: Db, leaseMs: number): number | undefined {
  const v = prepared(db, 'outboxNextDue', (d) => d.$client.prepare(
    `SELECT MIN(CASE WHEN o.claimed_at IS NULL THEN o.due_at ELSE MAX(o.due_at, o.claimed_at + @lease + 1) END) FROM outbox o
     WHERE o.delivered_at IS NULL AND o.failed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform AND p.message_id = o.message_id
         AND p.idx < o.idx AND p.delivered_at IS NULL AND p.failed_at IS NULL)`).pluck()).get({ lease: leaseMs });
  return typeof v === 'number' ? v : undefined;
}

export interface OutboxCounts { pending: number; delivered: number; failed: number; attempts: number }

export function outboxCounts(db: Db): OutboxCounts {
  return db.$client.prepare(
    `SELECT COALESCE(SUM(delivered_at IS NULL AND failed_at IS NULL), 0) AS pending, COALESCE(SUM(delivered_at IS NOT NULL), 0) AS delivered,
            COALESCE(SUM(failed_at IS NOT NULL), 0) AS failed, COALESCE(SUM(attempts), 0) AS attempts FROM outbox`).get() as OutboxCounts;
}

/** The rows of one message, in order (tests, diagnostics). */
export function outboxOf(db: Db, platform: string, messageId: string): Array<OutboxRow & { deliveredAt: number | null; failedAt: number | null; lastError: string | null }> {
  return db.$client.prepare(
    `SELECT id, key, platform, message_id AS messageId, idx, message, attempts, delivered_at AS deliveredAt, failed_at AS failedAt, last_error AS lastError
     FROM outbox WHERE platform = ? AND message_id = ? ORDER BY idx`).all(platform, messageId) as never;
}
