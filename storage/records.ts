/** Visits and volunteer records: written once, verified or returned by a lead, voided on /撤销. */
import type { Db } from './db.js';
import { recordEdits, visits, volunteers } from './schema.js';
import { insertRow, rowOf, updateRows } from './rows.js';
import type { Origin, Visit, Volunteer } from './types.js';

export type NewVisit = Omit<typeof visits.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;
export type NewVolunteer = Omit<typeof volunteers.$inferInsert, 'id' | 'platform' | 'chatId' | 'messageId' | 'createdAt'>;

const VISIT_COLS = ['cadre_id', 'unit_id', 'date', 'hours', 'place', 'status', 'backdated', 'kind', 'households', 'content', 'evidence', 'time_of_day', 'platform', 'chat_id', 'message_id', 'created_at'] as const;
const VOLUNTEER_COLS = ['cadre_id', 'unit_id', 'date', 'hours', 'place', 'status', 'backdated', 'activity', 'platform', 'chat_id', 'message_id', 'created_at'] as const;
const insertSql = (table: string, cols: readonly string[]) =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) RETURNING id`;
const INSERT_VISIT = insertSql('visits', VISIT_COLS);
const INSERT_VOLUNTEER = insertSql('volunteers', VOLUNTEER_COLS);

/** Inserts a visit; returns its id. (One literal statement: this is the benchmark's hot path.) */
export async function insertVisit(db: Db, v: NewVisit, o: Origin): Promise<number> {
  return Number(await db.value(INSERT_VISIT, [v.cadreId, v.unitId, v.date, v.hours, v.place, v.status ?? 'ok', !!v.backdated, v.kind, v.households ?? 0,
    v.content ?? '', v.evidence ?? null, v.timeOfDay ?? null, o.platform, o.chatId, o.messageId, o.at]));
}

export async function insertVolunteer(db: Db, v: NewVolunteer, o: Origin): Promise<number> {
  return Number(await db.value(INSERT_VOLUNTEER, [v.cadreId, v.unitId, v.date, v.hours, v.place, v.status ?? 'ok', !!v.backdated, v.activity ?? '',
    o.platform, o.chatId, o.messageId, o.at]));
}

export function visitById(db: Db, id: number): Promise<Visit | undefined> {
  return rowOf(db, visits, 'WHERE id = ?', [id]);
}

export function volunteerById(db: Db, id: number): Promise<Volunteer | undefined> {
  return rowOf(db, volunteers, 'WHERE id = ?', [id]);
}

export async function setVerification(db: Db, type: 'visit' | 'volunteer', id: number, status: 'verified' | 'returned', by: number, note: string | null): Promise<void> {
  await db.run(`UPDATE ${type === 'visit' ? 'visits' : 'volunteers'} SET status = ?, verified_by = ?, verify_note = ? WHERE id = ?`, [status, by, note, id]);
}

export type UndoCandidate = { type: 'visit' | 'volunteer' | 'issue'; id: number; createdAt: number };

/** The cadre's newest record (of any kind) created since `since` and not yet voided. */
export async function lastRecordSince(db: Db, cadreId: number, since: number): Promise<UndoCandidate | undefined> {
  const newest = (table: string, cadreCol: string) => db.get<{ id: number; createdAt: number }>(
    `SELECT id, created_at AS "createdAt" FROM ${table} WHERE ${cadreCol} = ? AND created_at >= ? AND voided_at IS NULL ORDER BY id DESC LIMIT 1`, [cadreId, since]);
  const found: Array<[UndoCandidate['type'], { id: number; createdAt: number } | undefined]> = [
    ['visit', await newest('visits', 'cadre_id')], ['volunteer', await newest('volunteers', 'cadre_id')], ['issue', await newest('issues', 'reporter_cadre_id')]];
  return found.filter((x): x is [UndoCandidate['type'], { id: number; createdAt: number }] => !!x[1])
    .map(([type, r]) => ({ type, id: r.id, createdAt: r.createdAt })).sort((a, b) => b.createdAt - a.createdAt)[0];
}

export async function voidRecord(db: Db, type: 'visit' | 'volunteer', id: number, at: number): Promise<void> {
  await db.run(`UPDATE ${type === 'visit' ? 'visits' : 'volunteers'} SET voided_at = ? WHERE id = ?`, [at, id]);
}

/** Sum of this cadre's counted visit hours in [from, to]; used for the receipt of /走访. */
export async function visitTotals(db: Db, cadreId: number, from: string, to: string): Promise<{ count: number; hours: number }> {
  return (await db.get<{ count: number; hours: number }>(
    `SELECT count(*) AS count, coalesce(sum(hours), 0) AS hours FROM visits
     WHERE cadre_id = ? AND date BETWEEN ? AND ? AND voided_at IS NULL AND status IN ('ok','verified')`, [cadreId, from, to]))!;
}

export type VisitPatch = Partial<Pick<Visit, 'date' | 'timeOfDay' | 'place' | 'kind' | 'hours' | 'households' | 'content' | 'status' | 'backdated'>>;
export type VolunteerPatch = Partial<Pick<Volunteer, 'date' | 'place' | 'hours' | 'activity' | 'status' | 'backdated'>>;

/**
 * /修改: changes fields of a record and writes one audit row per changed field, old and new
 * value, in the caller's transaction.
 */
export async function editRecord(db: Db, type: 'visit' | 'volunteer', id: number, patch: VisitPatch | VolunteerPatch, by: number, at: number): Promise<string[]> {
  const t = type === 'visit' ? visits : volunteers;
  const before = (type === 'visit' ? await visitById(db, id) : await volunteerById(db, id)) as Record<string, unknown> | undefined;
  if (!before) return [];
  const changed = Object.entries(patch).filter(([k, v]) => v !== undefined && before[k] !== v);
  if (!changed.length) return [];
  await updateRows(db, t, Object.fromEntries(changed), 'id = ?', [id]);
  for (const [field, v] of changed) {
    await insertRow(db, recordEdits, { recordKind: type, recordId: id, cadreId: by, field, oldValue: before[field] == null ? null : String(before[field]), newValue: v == null ? null : String(v), at });
  }
  return changed.map(([k]) => k);
}
