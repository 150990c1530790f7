/**
 * The reply outbox (schema `outbox`): rows are written with the claim of the message they answer
 * (`claimMessage`), then claimed for a lease, sent, and marked delivered, retried or
 * undeliverable. One message's replies go out in order: a reply is not claimed while an earlier
 * one of the same message is still pending. On PostgreSQL the claim skips rows another process
 * has locked (`FOR UPDATE SKIP LOCKED`), so several processes never take the same row.
 */
import type { Db } from './db.js';

export interface OutboxRow {
  id: number;
  key: string;
  platform: string;
  messageId: string;
  idx: number;
  message: string;
  attempts: number;
  /** When the reply was written (with the claim of the message it answers). */
  createdAt: number;
}

/** The idempotency key of the i-th reply to a message; the same as the adapters' `replyKey`. */
export const outboxKey = (platform: string, messageId: string, idx: number): string => `${platform}:${messageId}:${idx}`;

/** Writes the replies of one message (JSON each); a key already there is left alone. */
export async function enqueueReplies(db: Db, platform: string, messageId: string, messages: string[], at: number): Promise<number> {
  let n = 0;
  for (const [i, m] of messages.entries()) {
    n += await db.run(`INSERT INTO outbox (key, platform, message_id, idx, message, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (platform, message_id, idx) DO NOTHING`, [outboxKey(platform, messageId, i), platform, messageId, i, m, at, at]);
  }
  return n;
}

// Parameters: now, stale (now − lease).
const CLAIMABLE = `o.delivered_at IS NULL AND o.failed_at IS NULL AND o.due_at <= ?
  AND (o.claimed_at IS NULL OR o.claimed_at < ?)
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform AND p.message_id = o.message_id
    AND p.idx < o.idx AND p.delivered_at IS NULL AND p.failed_at IS NULL)`;
const RETURNING = `RETURNING id, key, platform, message_id AS "messageId", idx, message, attempts, created_at AS "createdAt"`;
const lock = (db: Db) => (db.dialect === 'postgres' ? 'FOR UPDATE OF o SKIP LOCKED' : '');

/** Takes up to `limit` due rows (the next reply of each message) for `leaseMs`; returns them. */
export function claimDue(db: Db, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  // On PostgreSQL `id = ANY(ARRAY(…))`: the locking subquery runs exactly once; as `IN (…)` the
  // planner may re-run it per row (seen with the reminder claims, storage/reminders.ts).
  const due = `SELECT o.id FROM outbox o WHERE ${CLAIMABLE} ORDER BY o.due_at, o.id LIMIT ? ${lock(db)}`;
  const which = db.dialect === 'postgres' ? `id = ANY(ARRAY(${due}))` : `id IN (${due})`;
  return db.all<OutboxRow>(`UPDATE outbox SET claimed_at = ?, attempts = attempts + 1 WHERE ${which} ${RETURNING}`, [now, now, now - leaseMs, limit]);
}

/** Takes the next due reply of one message, if any. */
export function claimNextOf(db: Db, platform: string, messageId: string, now: number, leaseMs: number): Promise<OutboxRow | undefined> {
  return db.get<OutboxRow>(
    `UPDATE outbox SET claimed_at = ?, attempts = attempts + 1 WHERE id = (
       SELECT o.id FROM outbox o WHERE o.platform = ? AND o.message_id = ? AND ${CLAIMABLE}
       ORDER BY o.idx LIMIT 1 ${lock(db)})
     ${RETURNING}`, [now, platform, messageId, now, now - leaseMs]);
}

export async function markSent(db: Db, id: number, now: number): Promise<void> {
  await db.run('UPDATE outbox SET delivered_at = ?, claimed_at = NULL WHERE id = ?', [now, id]);
}

/** Releases the claim and sets when the next attempt may be made. */
export async function markRetry(db: Db, id: number, dueAt: number, error: string): Promise<void> {
  await db.run('UPDATE outbox SET due_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?', [dueAt, error.slice(0, 500), id]);
}

/** Undeliverable: never attempted again. */
export async function markFailed(db: Db, id: number, now: number, error: string): Promise<void> {
  await db.run('UPDATE outbox SET failed_at = ?, claimed_at = NULL, last_error = ? WHERE id = ?', [now, error.slice(0, 500), id]);
}

/**
 * Drops every claim. Called when the process starts. On SQLite one bot process owns the file, so
 * a claim still held is one its previous life took and never finished (a crash or a stop
 * mid-send). On PostgreSQL other processes may hold live claims: nothing is released, and a dead
 * process's claims pass on when their lease runs out.
 */
export async function releaseClaims(db: Db): Promise<number> {
  if (db.dialect === 'postgres') return 0;
  return db.run('UPDATE outbox SET claimed_at = NULL WHERE claimed_at IS NOT NULL AND delivered_at IS NULL AND failed_at IS NULL');
}

/**
 * The earliest time a pending row can be claimed (a claimed one: when its lease runs out), or
 * undefined when there is none. Rows behind an earlier pending reply of their message are not
 * counted: the end of that reply's attempt schedules them. Counting rows that cannot be claimed
 * yet would wake the timer at once, again and again, while a send is under way.
 */
export async function nextDue(db: Db, leaseMs: number): Promise<number | undefined> {
  const greatest = db.dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const v = await db.value(
    `SELECT MIN(CASE WHEN o.claimed_at IS NULL THEN o.due_at ELSE ${greatest}(o.due_at, o.claimed_at + ? + 1) END) FROM outbox o
     WHERE o.delivered_at IS NULL AND o.failed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform AND p.message_id = o.message_id
         AND p.idx < o.idx AND p.delivered_at IS NULL AND p.failed_at IS NULL)`, [leaseMs]);
  return typeof v === 'number' ? v : undefined;
}

/** Replies not yet delivered nor given up (the queue depth `/metrics` shows); counted over the `outbox_pending` index. */
export async function outboxPending(db: Db): Promise<number> {
  return Number(await db.value('SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL'));
}

export interface OutboxCounts { pending: number; delivered: number; failed: number; attempts: number }

export async function outboxCounts(db: Db): Promise<OutboxCounts> {
  return (await db.get<OutboxCounts>(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending, count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
            count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed, COALESCE(SUM(attempts), 0) AS attempts FROM outbox`))!;
}

/** The rows of one message, in order (tests, diagnostics). */
export function outboxOf(db: Db, platform: string, messageId: string): Promise<Array<OutboxRow & { deliveredAt: number | null; failedAt: number | null; lastError: string | null }>> {
  return db.all(
    `SELECT id, key, platform, message_id AS "messageId", idx, message, attempts, created_at AS "createdAt", delivered_at AS "deliveredAt", failed_at AS "failedAt", last_error AS "lastError"
     FROM outbox WHERE platform = ? AND message_id = ? ORDER BY idx`, [platform, messageId]);
}
