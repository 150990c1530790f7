/**
 * The reminder outbox: a reminder is recorded once under its deterministic key, together with the
 * message to send, in the transaction of the pass that found it due. Delivery claims a row for a
 * lease, sends, then marks it delivered; an unexpired claim keeps a second worker off it.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { cadres, chatGroups, reminders, settings } from './schema.js';
import { prepared } from './prepared.js';

export type NewReminder = Omit<typeof reminders.$inferInsert, 'createdAt' | 'claimedBy' | 'claimedAt' | 'deliveredAt' | 'attempts' | 'lastError'>;

/** Records what is not recorded yet; returns the keys that were new. (Hot: 100,000 rows a pass.) */
export function recordReminders(db: Db, items: NewReminder[], at: number): string[] {
  const ins = prepared(db, 'recordReminder', (d) => d.$client.prepare(
    `INSERT INTO reminders (key, kind, "to", cadre_id, platform, target, reply, due_date, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`));
  const fresh: string[] = [];
  for (const r of items) {
    if (ins.run(r.key, r.kind, r.to, r.cadreId ?? null, r.platform ?? null, r.target ?? null, r.reply ?? null, r.dueDate, at).changes === 1) fresh.push(r.key);
  }
  return fresh;
}

export function reminderExists(db: Db, key: string): boolean {
  return !!db.select({ k: reminders.key }).from(reminders).where(eq(reminders.key, key)).get();
}

/** Keys with a message still to deliver, oldest first (for catch-up after a restart). */
export function undeliveredKeys(db: Db, limit = 10_000): string[] {
  return db.select({ k: reminders.key }).from(reminders)
    .where(and(isNull(reminders.deliveredAt), sql`${reminders.reply} IS NOT NULL`))
    .orderBy(asc(reminders.createdAt)).limit(limit).all().map((r) => r.k);
}

/**
 * Takes the given rows for `leaseMs`, in one transaction; returns the ones taken. A row is not
 * taken when it is delivered or anyone (even another job of the same worker) holds a live
 * claim. A failed send releases its claim, so a retry needs no exception for its own worker.
 */
export function claimReminders(db: Db, keys: string[], worker: string, now: number, leaseMs: number): Array<{ key: string; reply: string }> {
  const claim = prepared(db, 'claimReminder', (d) => d.$client.prepare(
    `UPDATE reminders SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1
     WHERE key = ? AND delivered_at IS NULL AND reply IS NOT NULL AND (claimed_at IS NULL OR claimed_at < ?)
     RETURNING key, reply`));
  return db.$client.transaction(() => {
    const out: Array<{ key: string; reply: string }> = [];
    for (const k of keys) {
      const row = claim.get(worker, now, k, now - leaseMs) as { key: string; reply: string } | undefined;
      if (row) out.push(row);
    }
    return out;
  }).immediate();
}

export function markDelivered(db: Db, done: Array<{ key: string; note: string | null }>, now: number): void {
  const mark = prepared(db, 'markDelivered', (d) => d.$client.prepare('UPDATE reminders SET delivered_at = ?, last_error = ? WHERE key = ?'));
  db.$client.transaction(() => { for (const x of done) mark.run(now, x.note, x.key); })();
}

/** Gives the claim back so a retry (ours or another worker's) may take it. */
export function releaseReminder(db: Db, key: string, error: string): void {
  db.update(reminders).set({ claimedAt: null, claimedBy: null, lastError: error.slice(0, 500) }).where(eq(reminders.key, key)).run();
}

export function getSetting(db: Db, key: string): string | undefined {
  return db.select({ v: settings.value }).from(settings).where(eq(settings.key, key)).get()?.v;
}

export function setSetting(db: Db, key: string, value: string): void {
  db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
}

/** Per cadre, the newest due date of a reminder of `kind` on or after `from`. */
export function lastReminderDates(db: Db, kind: string, from: string): Map<number, string> {
  const rows = db.$client.prepare('SELECT cadre_id, max(due_date) FROM reminders WHERE kind = ? AND due_date >= ? AND cadre_id IS NOT NULL GROUP BY cadre_id')
    .raw(true).all(kind, from) as Array<[number, string]>;
  return new Map(rows);
}

/** Active leaders per unit id. */
export function leadersByUnit(db: Db): Map<number, Array<{ id: number; name: string }>> {
  const m = new Map<number, Array<{ id: number; name: string }>>();
  for (const c of db.select({ id: cadres.id, name: cadres.name, unitId: cadres.unitId }).from(cadres)
    .where(and(eq(cadres.rank, 'leader'), eq(cadres.active, true))).all()) {
    const xs = m.get(c.unitId) ?? [];
    xs.push({ id: c.id, name: c.name });
    m.set(c.unitId, xs);
  }
  return m;
}

export function allChatGroups(db: Db): Array<{ platform: string; chatId: string; unitId: number; committee: boolean }> {
  return db.select({ platform: chatGroups.platform, chatId: chatGroups.chatId, unitId: chatGroups.unitId, committee: chatGroups.committee })
    .from(chatGroups).all();
}
