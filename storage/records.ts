/** Visits and volunteer records: written once, verified or returned by a lead, voided on /撤销. */
import { and, desc, eq, gte, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { issues, visits, volunteers } from './schema.js';
import { prepared } from './prepared.js';
import type { Origin, Visit, Volunteer } from './types.js';

export type NewVisit = Omit<typeof visits.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;
export type NewVolunteer = Omit<typeof volunteers.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;

const originCols = (o: Origin) => ({ platform: o.platform, chatId: o.chatId, messageId: o.messageId, createdAt: o.at });

const VISIT_COLS = ['cadreId', 'unitId', 'date', 'hours', 'place', 'status', 'backdated', 'kind', 'households', 'content', 'evidence', 'platform', 'chatId', 'messageId', 'createdAt'] as const;
const VOLUNTEER_COLS = ['cadreId', 'unitId', 'date', 'hours', 'place', 'status', 'backdated', 'activity', 'platform', 'chatId', 'messageId', 'createdAt'] as const;
const placeholders = (cols: readonly string[]) => Object.fromEntries(cols.map((c) => [c, sql.placeholder(c)]));
const pick = (row: Record<string, unknown>, cols: readonly string[]) => Object.fromEntries(cols.map((c) => [c, row[c] ?? null]));

/** Inserts a visit; returns its id. (Prepared once per handle: this is the benchmark's hot path.) */
export function insertVisit(db: Db, v: NewVisit, o: Origin): number {
  const q = prepared(db, 'insertVisit', (d) => d.insert(visits).values(placeholders(VISIT_COLS) as never).returning({ id: visits.id }).prepare());
  return q.get(pick({ status: 'ok', backdated: false, households: 0, content: '', ...v, ...originCols(o) }, VISIT_COLS))!.id;
}

export function insertVolunteer(db: Db, v: NewVolunteer, o: Origin): number {
  const q = prepared(db, 'insertVolunteer', (d) => d.insert(volunteers).values(placeholders(VOLUNTEER_COLS) as never).returning({ id: volunteers.id }).prepare());
  return q.get(pick({ status: 'ok', backdated: false, activity: '', ...v, ...originCols(o) }, VOLUNTEER_COLS))!.id;
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
  const q = prepared(db, 'visitTotals', (d) => d.select({ count: sql<number>`count(*)`, hours: sql<number>`coalesce(sum(${visits.hours}), 0)` })
    .from(visits).where(and(eq(visits.cadreId, sql.placeholder('c')), sql`${visits.date} BETWEEN ${sql.placeholder('f')} AND ${sql.placeholder('t')}`,
      isNull(visits.voidedAt), sql`${visits.status} IN ('ok','verified')`)).prepare());
  return q.get({ c: cadreId, f: from, t: to }) ?? { count: 0, hours: 0 };
}
