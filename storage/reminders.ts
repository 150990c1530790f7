/**
 * The reminder outbox: a reminder is recorded once under its deterministic key, together with the
 * message to send, in the transaction of the pass that found it due. Delivery claims a row for a
 * lease, sends, then marks it delivered; an unexpired claim keeps a second worker off it. On
 * PostgreSQL the claim also skips rows another process is claiming right now (`FOR UPDATE SKIP
 * LOCKED`), so several processes never deliver the same reminder twice and never wait on each other.
 */
import type { Db } from './db.js';
import { inList } from './rows.js';
import type { reminders } from './schema.js';

export type NewReminder = Omit<typeof reminders.$inferInsert, 'createdAt' | 'claimedBy' | 'claimedAt' | 'deliveredAt' | 'attempts' | 'lastError'>;

const INSERT_REMINDER = `INSERT INTO reminders (key, kind, "to", cadre_id, platform, target, reply, due_date, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`;

// PostgreSQL: a batch as one statement, the columns as arrays unnested side by side. A key twice
// in one batch is inserted once (DO NOTHING also skips a row that conflicts with one inserted by
// the same statement), as one row after the other would.
const INSERT_REMINDERS_PG = `INSERT INTO reminders (key, kind, "to", cadre_id, platform, target, reply, due_date, created_at)
  SELECT u.key, u.kind, u.recipient, u.cadre_id, u.platform, u.target, u.reply, u.due_date, ?::bigint
  FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[])
    AS u(key, kind, recipient, cadre_id, platform, target, reply, due_date)
  ON CONFLICT (key) DO NOTHING RETURNING key`;
const PG_BATCH = 5_000;

/**
 * Records what is not recorded yet; returns the keys that were new, in the order of `items`.
 * (Hot: 100,000 rows a pass. SQLite: one cached statement per row. PostgreSQL: a round trip per
 * row would cost more than the pass, so batches of {@link PG_BATCH} rows go in one statement.)
 */
export async function recordReminders(db: Db, items: NewReminder[], at: number): Promise<string[]> {
  const fresh: string[] = [];
  if (db.dialect === 'postgres') {
    for (let i = 0; i < items.length; i += PG_BATCH) {
      const batch = items.slice(i, i + PG_BATCH);
      const col = <K extends keyof NewReminder>(k: K) => batch.map((r) => r[k] ?? null);
      const added = new Set((await db.all<{ key: string }>(INSERT_REMINDERS_PG, [at, col('key'), col('kind'), col('to'), col('cadreId'),
        col('platform'), col('target'), col('reply'), col('dueDate')])).map((r) => r.key));
      // Each new key once, where it first appears.
      for (const r of batch) if (added.delete(r.key)) fresh.push(r.key);
    }
    return fresh;
  }
  for (const r of items) {
    if (await db.run(INSERT_REMINDER, [r.key, r.kind, r.to, r.cadreId ?? null, r.platform ?? null, r.target ?? null, r.reply ?? null, r.dueDate, at]) === 1) fresh.push(r.key);
  }
  return fresh;
}

export async function reminderExists(db: Db, key: string): Promise<boolean> {
  return (await db.value('SELECT 1 FROM reminders WHERE key = ?', [key])) !== undefined;
}

/** Keys with a message still to deliver, oldest first (for catch-up after a restart). */
export async function undeliveredKeys(db: Db, limit = 10_000): Promise<string[]> {
  return (await db.all<{ key: string }>('SELECT key FROM reminders WHERE delivered_at IS NULL AND reply IS NOT NULL ORDER BY created_at LIMIT ?', [limit]))
    .map((r) => r.key);
}

// Parameters: worker, now, …, stale (now − lease).
const CLAIM_ONE = `UPDATE reminders SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1
  WHERE key = ? AND delivered_at IS NULL AND reply IS NOT NULL AND (claimed_at IS NULL OR claimed_at < ?)
  RETURNING key, reply, created_at AS "createdAt"`;
// The locking subquery as ARRAY(…), not `key IN (…)`: an IN is planned as a semi join, and with
// statistics from before a pass recorded 100,000 rows (delivery starts right after it) PostgreSQL
// was seen to put the subquery on the inner side of a nested loop, re-running it per row — a claim
// of 5,000 keys ran for minutes. ARRAY(…) is an InitPlan: run once, then a primary-key lookup.
const CLAIM_PG = `UPDATE reminders SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE key = ANY(ARRAY(
    SELECT r.key FROM reminders r WHERE r.key = ANY(?::text[]) AND r.delivered_at IS NULL AND r.reply IS NOT NULL
      AND (r.claimed_at IS NULL OR r.claimed_at < ?)
    LIMIT ? FOR UPDATE SKIP LOCKED))
  RETURNING key, reply, created_at AS "createdAt"`;

/**
 * Takes the given rows for `leaseMs`, all in one transaction; returns the ones taken, in the
 * order of `keys`. A row is not taken when it is delivered or anyone (even another job of the
 * same worker) holds a live claim. A failed send releases its claim, so a retry needs no
 * exception for its own worker.
 *
 * SQLite: one writer, so a row-by-row UPDATE in the transaction is the whole story. PostgreSQL:
 * one UPDATE of the rows its subquery locks, skipping rows another process has locked — that
 * process is claiming them this instant and will hold the claim once it commits (a row whose
 * claim has committed meanwhile is re-checked under the lock and no longer matches). So two
 * processes handed the same keys split them; neither waits, and none is taken twice.
 */
export interface ClaimedReminder { key: string; reply: string; /** When the pass recorded it. */ createdAt: number }

export async function claimReminders(db: Db, keys: string[], worker: string, now: number, leaseMs: number): Promise<ClaimedReminder[]> {
  if (!keys.length) return [];
  return db.withWrite(async (tx) => {
    if (tx.dialect === 'postgres') {
      const rows = await tx.all<ClaimedReminder>(CLAIM_PG, [worker, now, keys, now - leaseMs, keys.length]);
      const pos = new Map<string, number>();
      keys.forEach((k, i) => { if (!pos.has(k)) pos.set(k, i); });
      return rows.sort((a, b) => pos.get(a.key)! - pos.get(b.key)!);
    }
    const out: ClaimedReminder[] = [];
    for (const k of keys) {
      const row = await tx.get<ClaimedReminder>(CLAIM_ONE, [worker, now, k, now - leaseMs]);
      if (row) out.push(row);
    }
    return out;
  });
}

/**
 * Of `keys`, the undelivered ones under a live claim (someone else's, or a send of ours still
 * under way), and when the last of those leases runs out. A process that dies holding a claim
 * leaves its rows here until then: whoever found them held looks again at that instant
 * (jobs/deliver-job.ts), so the work passes on after the lease, not at the next day's pass.
 */
export async function heldReminders(db: Db, keys: string[], now: number, leaseMs: number): Promise<{ keys: string[]; until: number }> {
  if (!keys.length) return { keys: [], until: 0 };
  const list = inList(db, 'key', keys, 'text');
  const rows = await db.all<{ key: string; claimedAt: number }>(
    `SELECT key, claimed_at AS "claimedAt" FROM reminders WHERE ${list.sql} AND delivered_at IS NULL AND reply IS NOT NULL AND claimed_at >= ?`,
    [...list.params, now - leaseMs]);
  return { keys: rows.map((r) => r.key), until: rows.reduce((m, r) => Math.max(m, r.claimedAt + leaseMs + 1), 0) };
}

const MARK_PG = `UPDATE reminders r SET delivered_at = ?, last_error = u.note
  FROM unnest(?::text[], ?::text[]) AS u(key, note) WHERE r.key = u.key`;

/** Marks the sent (or given up) reminders delivered, in one transaction (PostgreSQL: one statement). */
export async function markDelivered(db: Db, done: Array<{ key: string; note: string | null }>, now: number): Promise<void> {
  if (!done.length) return;
  await db.withWrite(async (tx) => {
    if (tx.dialect === 'postgres') {
      // One row per key (an UPDATE … FROM joins each target row to one source row, or to an arbitrary one).
      const last = new Map(done.map((x) => [x.key, x.note]));
      await tx.run(MARK_PG, [now, [...last.keys()], [...last.values()]]);
      return;
    }
    for (const x of done) await tx.run('UPDATE reminders SET delivered_at = ?, last_error = ? WHERE key = ?', [now, x.note, x.key]);
  });
}

/** Gives the claim back so a retry (ours or another worker's) may take it. */
export async function releaseReminder(db: Db, key: string, error: string): Promise<void> {
  await db.run('UPDATE reminders SET claimed_at = NULL, claimed_by = NULL, last_error = ? WHERE key = ?', [error.slice(0, 500), key]);
}

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  return db.value<string>('SELECT value FROM settings WHERE key = ?', [key]);
}

export async function setSetting(db: Db, key: string, value: string): Promise<void> {
  await db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
}

/** Per cadre, the newest due date of a reminder of `kind` on or after `from`. */
export async function lastReminderDates(db: Db, kind: string, from: string): Promise<Map<number, string>> {
  const rows = await db.all<{ c: number; d: string }>(
    'SELECT cadre_id AS c, max(due_date) AS d FROM reminders WHERE kind = ? AND due_date >= ? AND cadre_id IS NOT NULL GROUP BY cadre_id', [kind, from]);
  const m = new Map<number, string>();
  for (const r of rows) m.set(r.c, r.d);
  return m;
}

/** Active leaders per unit id (each unit's in id order). */
export async function leadersByUnit(db: Db): Promise<Map<number, Array<{ id: number; name: string }>>> {
  const m = new Map<number, Array<{ id: number; name: string }>>();
  for (const c of await db.all<{ id: number; name: string; unitId: number }>(
    `SELECT id, name, unit_id AS "unitId" FROM cadres WHERE rank = 'leader' AND active = TRUE ORDER BY id`)) {
    const xs = m.get(c.unitId) ?? [];
    xs.push({ id: c.id, name: c.name });
    m.set(c.unitId, xs);
  }
  return m;
}

export async function allChatGroups(db: Db): Promise<Array<{ platform: string; chatId: string; unitId: number; committee: boolean }>> {
  const rows = await db.all<{ platform: string; chatId: string; unitId: number; committee: boolean | number }>(
    'SELECT platform, chat_id AS "chatId", unit_id AS "unitId", committee FROM chat_groups');
  return rows.map((g) => ({ ...g, committee: !!g.committee }));
}
