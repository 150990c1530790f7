/** Visits and volunteer records: written once, verified or returned by a lead, voided on /撤销. */
import { and, desc, eq, gte, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { issues, recordEdits, visits, volunteers } from './schema.js';
import { prepared } from './prepared.js';
import type { Origin, Visit, Volunteer } from './types.js';

export type NewVisit = Omit<typeof visits.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;
export type NewVolunteer = Omit<typeof volunteers.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;


const VISIT_COLS = ['cadre_id', 'unit_id', 'date', 'hours', 'place', 'status', 'backdated', 'kind', 'households', 'content', 'evidence', 'time_of_day', 'platform', 'chat_id', 'message_id', 'created_at'] as const;
const VOLUNTEER_COLS = ['cadre_id', 'unit_id', 'date', 'hours', 'place', 'status', 'backdated', 'activity', 'platform', 'chat_id', 'message_id', 'created_at'] as const;
const insertSql = (table: string, cols: readonly string[]) =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) RETURNING id`;

/** Inserts a visit; returns its id. (A plain prepared statement: this is the benchmark's hot path.) */
export function insertVisit(db: Db, v: NewVisit, o: Origin): number {
  const q = prepared(db, 'insertVisit', (d) => d.$client.prepare(insertSql('visits', VISIT_COLS)).pluck());
  return q.get(v.cadreId, v.unitId, v.date, v.hours, v.place, v.status ?? 'ok', v.backdated ? 1 : 0, v.kind, v.households ?? 0,
    v.content ?? '', v.evidence ?? null, v.timeOfDay ?? null, o.platform, o.chatId, o.messageId, o.at) as number;
}

export function insertVolunteer(db: Db, v: NewVolunteer, o: Origin): number {
  const q = prepared(db, 'insertVolunteer', (d) => d.$client.prepare(insertSql('volunteers', VOLUNTEER_COLS)).pluck());
  return q.get(v.cadreId, v.unitId, v.date, v.hours, v.place, v.status ?? 'ok', v.backdated ? 1 : 0, v.activity ?? '',
    o.platform, o.chatId, o.messageId, o.at) as number;
}

export function visitById(db: Db, id: number): Visit | undefined {
  return db.select().from(visits).where(eq(visits.id, id)).get();
}

export function volunteerById(db: Db, id: number): Volunteer | undefined {
  return db.select().from(volunteers).where(eq(volunteers.id, id)).get();
}

export function setVerification(db: Db, type: 'visit' | 'volunteer', id: number, status: 'verified' | 'returned', by: number, note: string | null): void {
  const t = type === 'visit' ? visits : volunteers;
  db.update(t).set({ status, verifiedBy: by, verifyNote: note }).where(eq(t.id, id)).run();
}

export type UndoCandidate = { type: 'visit' | 'volunteer' | 'issue'; id: number; createdAt: number };

/** The cadre's newest record (of any kind) created since `since` and not yet voided. */
export function lastRecordSince(db: Db, cadreId: number, since: number): UndoCandidate | undefined {
  const pick = (type: UndoCandidate['type'], row: { id: number; createdAt: number } | undefined) =>
    row ? { type, id: row.id, createdAt: row.createdAt } : undefined;
  const v = pick('visit', db.select({ id: visits.id, createdAt: visits.createdAt }).from(visits)
    .where(and(eq(visits.cadreId, cadreId), gte(visits.createdAt, since), isNull(visits.voidedAt))).orderBy(desc(visits.id)).get());
  const z = pick('volunteer', db.select({ id: volunteers.id, createdAt: volunteers.createdAt }).from(volunteers)
    .where(and(eq(volunteers.cadreId, cadreId), gte(volunteers.createdAt, since), isNull(volunteers.voidedAt))).orderBy(desc(volunteers.id)).get());
  const i = pick('issue', db.select({ id: issues.id, createdAt: issues.createdAt }).from(issues)
    .where(and(eq(issues.reporterCadreId, cadreId), gte(issues.createdAt, since), isNull(issues.voidedAt))).orderBy(desc(issues.id)).get());
  return [v, z, i].filter((x): x is UndoCandidate => !!x).sort((a, b) => b.createdAt - a.createdAt)[0];
}

export function voidRecord(db: Db, type: 'visit' | 'volunteer', id: number, at: number): void {
  const t = type === 'visit' ? visits : volunteers;
  db.update(t).set({ voidedAt: at }).where(eq(t.id, id)).run();
}

/** Sum of this cadre's counted visit hours in [from, to]; used for the receipt of /走访. */
export function visitTotals(db: Db, cadreId: number, from: string, to: string): { count: number; hours: number } {
  const q = prepared(db, 'visitTotals', (d) => d.$client.prepare(
    `SELECT count(*) AS count, coalesce(sum(hours), 0) AS hours FROM visits
     WHERE cadre_id = ? AND date BETWEEN ? AND ? AND voided_at IS NULL AND status IN ('ok','verified')`));
  return q.get(cadreId, from, to) as { count: number; hours: number };
}

export type VisitPatch = Partial<Pick<Visit, 'date' | 'timeOfDay' | 'place' | 'kind' | 'hours' | 'households' | 'content' | 'status' | 'backdated'>>;
export type VolunteerPatch = Partial<Pick<Volunteer, 'date' | 'place' | 'hours' | 'activity' | 'status' | 'backdated'>>;

/**
 * /修改: changes fields of a record and writes one audit row per changed field, old and new
 * value, in the caller's transaction.
 */
export function editRecord(db: Db, type: 'visit' | 'volunteer', id: number, patch: VisitPatch | VolunteerPatch, by: number, at: number): string[] {
  const t = type === 'visit' ? visits : volunteers;
  const before = (type === 'visit' ? visitById(db, id) : volunteerById(db, id)) as Record<string, unknown> | undefined;
  if (!before) return [];
  const changed = Object.entries(patch).filter(([k, v]) => v !== undefined && before[k] !== v);
  if (!changed.length) return [];
  db.update(t).set(Object.fromEntries(changed)).where(eq(t.id, id)).run();
  for (const [field, v] of changed) {
    db.insert(recordEdits).values({ recordKind: type, recordId: id, cadreId: by, field, oldValue: before[field] == null ? null : String(before[field]), newValue: v == null ? null : String(v), at }).run();
  }
  return changed.map(([k]) => k);
}
