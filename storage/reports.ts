/**
 * Queries of the reports (docs/rules.md#statistics-and-exports): rows for the Excel exports, streamed with iterators so a
 * 100,000-issue ledger never sits in memory, and the small series behind the charts.
 *
 * An export reads through {@link openSnapshot}: a second, read-only connection to the same file
 * in one read transaction. The export then sees one consistent state however long it takes, and
 * the bot's own connection stays free for the commands that arrive meanwhile (better-sqlite3
 * refuses other statements on a connection while an iterator is open on it).
 */
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { Db } from './db.js';
import * as schema from './schema.js';
import { rootUnits } from './units.js';
import { VISIT_KINDS, type Unit } from './types.js';

export interface Snapshot {
  db: Db;
  /** True when reading through its own connection: the export may yield between rows. */
  separate: boolean;
  close(): void;
}

export function openSnapshot(db: Db): Snapshot {
  const file = db.$client.name;
  if (db.$client.memory || !file || file === ':memory:') return { db, separate: false, close() {} };
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  conn.pragma('busy_timeout = 5000');
  conn.exec('BEGIN');
  return {
    db: drizzle(conn, { schema }) as Db,
    separate: true,
    close() {
      try { conn.exec('COMMIT'); } finally { conn.close(); }
    },
  };
}

/** The path that selects a unit with its sub-units, or null when that is every unit (no filter: faster). */
export function scopePath(db: Db, unit: Unit): string | null {
  return unit.parentId == null && rootUnits(db).length === 1 ? null : unit.path;
}

const COUNTED = `status IN ('ok','verified') AND voided_at IS NULL`;
const PENDING = `('open','in_progress','escalated')`;
const raw = (db: Db, sql: string) => db.$client.prepare(sql);

/** A cadre's name by id, memoised for one export. */
export function cadreNames(db: Db): (id: number | null) => string {
  const q = raw(db, 'SELECT name FROM cadres WHERE id = ?').pluck();
  const seen = new Map<number, string>();
  return (id) => {
    if (id == null) return '';
    let n = seen.get(id);
    if (n === undefined) seen.set(id, (n = (q.get(id) as string | undefined) ?? `#${id}`));
    return n;
  };
}

export interface LedgerRow {
  id: number; ledger: string; category: string; place: string; description: string; source: string;
  responsible: string | null; lead: string | null; department: string | null; unit: string;
  createdDate: string; deadline: string; state: string; extensions: number; superviseCount: number;
  resolvedDate: string | null; result: string | null; answered: number | null; satisfaction: string | null; closedAt: number | null;
  /** The citizen's own rating from their link; it outranks `satisfaction` (the cadre's /评价). */
  citizenSatisfaction: string | null;
}

// The two big exports read rows as arrays: better-sqlite3 builds an object per row key by key,
// which for 100,000 wide rows costs more than the query itself. CROSS JOIN keeps the issues as
// the outer loop (one pass over the table) instead of a lookup per unit.

/** The ledger of a unit with its sub-units (issues they own now): pending by deadline, then resolved, then closed. */
export function* ledgerRows(db: Db, unitPath: string | null): Generator<LedgerRow> {
  const scope = unitPath ? ' AND i.unit_id IN (SELECT id FROM units WHERE path LIKE ?)' : '';
  const rows = raw(db, `SELECT i.id, i.ledger, i.category, i.place, i.description, i.source, r.name, l.name, i.department, u.name,
      i.created_date, i.deadline, i.state, i.extensions, i.supervise_count, i.resolved_date, i.result, i.answered, i.satisfaction, i.closed_at,
      i.citizen_satisfaction
    FROM issues i CROSS JOIN units u ON u.id = i.unit_id
    LEFT JOIN cadres r ON r.id = i.responsible_cadre_id LEFT JOIN cadres l ON l.id = i.lead_cadre_id
    WHERE i.voided_at IS NULL${scope}
    ORDER BY CASE WHEN i.state IN ${PENDING} THEN 0 WHEN i.state = 'resolved' THEN 1 ELSE 2 END, i.deadline, i.id`)
    .raw(true).iterate(...(unitPath ? [unitPath + '%'] : [])) as IterableIterator<unknown[]>;
  for (const r of rows) {
    yield {
      id: r[0] as number, ledger: r[1] as string, category: r[2] as string, place: r[3] as string, description: r[4] as string,
      source: r[5] as string, responsible: r[6] as string | null, lead: r[7] as string | null, department: r[8] as string | null,
      unit: r[9] as string, createdDate: r[10] as string, deadline: r[11] as string, state: r[12] as string, extensions: r[13] as number,
      superviseCount: r[14] as number, resolvedDate: r[15] as string | null, result: r[16] as string | null, answered: r[17] as number | null,
      satisfaction: r[18] as string | null, closedAt: r[19] as number | null, citizenSatisfaction: r[20] as string | null,
    };
  }
}

export interface LedgerEventRow {
  issueId: number; date: string; at: number; actor: string | null; action: string;
  fromState: string | null; toState: string | null; note: string | null;
}

/** The audit trail of every issue of {@link ledgerRows}, by issue, oldest first. */
export function* ledgerEvents(db: Db, unitPath: string | null): Generator<LedgerEventRow> {
  const scope = unitPath ? ' AND i.unit_id IN (SELECT id FROM units WHERE path LIKE ?)' : '';
  const rows = raw(db, `SELECT e.issue_id, e.date, e.at, a.name, e.action, e.from_state, e.to_state, e.note
    FROM issues i JOIN issue_events e ON e.issue_id = i.id LEFT JOIN cadres a ON a.id = e.actor_cadre_id
    WHERE i.voided_at IS NULL${scope} ORDER BY i.id, e.id`)
    .raw(true).iterate(...(unitPath ? [unitPath + '%'] : [])) as IterableIterator<unknown[]>;
  for (const r of rows) {
    yield {
      issueId: r[0] as number, date: r[1] as string, at: r[2] as number, actor: r[3] as string | null, action: r[4] as string,
      fromState: r[5] as string | null, toState: r[6] as string | null, note: r[7] as string | null,
    };
  }
}

export interface ProjectRow {
  id: number; place: string; description: string; tasks: string | null; deadline: string; lead: string | null;
  department: string | null; unit: string; state: string; result: string | null; resolvedDate: string | null;
}

/**
 * The 民生实事清单 (docs/rules.md#three-lists) of a unit with its sub-units for [from, to]: every issue raised
 * there up to `to` that was not already resolved before `from`, with its measures (/进展) up to `to`.
 */
export function projectRows(db: Db, unitPath: string, from: string, to: string): IterableIterator<ProjectRow> {
  return raw(db, `SELECT i.id, i.place, i.description, i.deadline, l.name AS lead, i.department, u.name AS unit, i.state,
      i.result, i.resolved_date AS resolvedDate,
      (SELECT group_concat(e.note, '；' ORDER BY e.id) FROM issue_events e
        WHERE e.issue_id = i.id AND e.action = 'progress' AND e.date <= @to) AS tasks
    FROM issues i JOIN units u ON u.id = i.unit_id LEFT JOIN cadres l ON l.id = i.lead_cadre_id
    WHERE i.voided_at IS NULL AND i.origin_unit_id IN (SELECT id FROM units WHERE path LIKE @path)
      AND i.created_date <= @to AND NOT (i.state IN ('resolved','closed') AND i.resolved_date < @from)
    ORDER BY i.id`).iterate({ path: unitPath + '%', from, to }) as IterableIterator<ProjectRow>;
}

export interface LogRow {
  type: 'visit' | 'volunteer'; id: number; date: string; cadre: string; unit: string; place: string;
  kind: string | null; content: string; hours: number; households: number | null; status: string;
}

/** 工作日志: visits and volunteer service of a unit (with sub-units) or of one cadre, by date. */
export function logRows(db: Db, who: { unitPath: string } | { cadreId: number }, from: string, to: string): IterableIterator<LogRow> {
  const scope = 'unitPath' in who ? 'r.unit_id IN (SELECT id FROM units WHERE path LIKE @who)' : 'r.cadre_id = @who';
  const part = (type: string, table: string, kind: string, content: string, hh: string) =>
    `SELECT '${type}' AS type, r.id AS id, r.date AS date, c.name AS cadre, u.name AS unit, r.place AS place, ${kind} AS kind,
      ${content} AS content, r.hours AS hours, ${hh} AS households, r.status AS status, c.id AS cid
    FROM ${table} r JOIN cadres c ON c.id = r.cadre_id JOIN units u ON u.id = r.unit_id
    WHERE r.date BETWEEN @from AND @to AND r.voided_at IS NULL AND ${scope}`;
  return raw(db, `${part('visit', 'visits', 'r.kind', 'r.content', 'r.households')}
    UNION ALL ${part('volunteer', 'volunteers', 'NULL', 'r.activity', 'NULL')}
    ORDER BY date, cid, type, id`)
    .iterate({ who: 'unitPath' in who ? who.unitPath + '%' : who.cadreId, from, to }) as IterableIterator<LogRow>;
}

export interface HouseholdExportRow {
  id: number; headName: string; phone: string | null; size: number | null; incomeSource: string | null;
  difficulties: string | null; opinions: string | null; place: string | null; cadre: string | null; unit: string; createdAt: number;
}

/**
 * The 民情记录表 (docs/rules.md#households) of a unit with its sub-units, by unit, place and registration;
 * with `cadreId`, only the households that cadre looks after (what a cadre who does not lead the
 * unit may see).
 */
export function householdRows(db: Db, unitPath: string, cadreId?: number): IterableIterator<HouseholdExportRow> {
  return raw(db, `SELECT h.id, h.head_name AS headName, h.phone, h.size, h.income_source AS incomeSource, h.difficulties,
      h.opinions, p.name AS place, c.name AS cadre, u.name AS unit, h.created_at AS createdAt
    FROM households h JOIN units u ON u.id = h.unit_id
    LEFT JOIN contact_points p ON p.id = h.contact_point_id LEFT JOIN cadres c ON c.id = h.cadre_id
    WHERE u.path LIKE ?${cadreId === undefined ? '' : ' AND h.cadre_id = ?'} ORDER BY u.path, p.name, h.id`)
    .iterate(unitPath + '%', ...(cadreId === undefined ? [] : [cadreId])) as IterableIterator<HouseholdExportRow>;
}

/** Counted visits per date in [from, to], of a unit with its sub-units (`null`: everyone). */
export function visitsPerDate(db: Db, unitPath: string | null, from: string, to: string): Array<{ date: string; n: number; hours: number }> {
  const scope = unitPath ? ' AND unit_id IN (SELECT id FROM units WHERE path LIKE ?)' : '';
  // Every kind named: SQLite can then answer from the partial index of counted visits alone.
  return raw(db, `SELECT date, count(*) AS n, sum(hours) AS hours FROM visits
    WHERE kind IN (SELECT value FROM json_each(?)) AND date BETWEEN ? AND ?${scope} AND ${COUNTED} GROUP BY date`)
    .all(JSON.stringify(VISIT_KINDS), from, to, ...(unitPath ? [unitPath + '%'] : [])) as Array<{ date: string; n: number; hours: number }>;
}

/** Issues raised and resolved per month ('2026-11') in [from, to], by the unit where they were raised. */
export function issuesPerMonth(db: Db, unitPath: string, from: string, to: string): { raised: Map<string, number>; resolved: Map<string, number> } {
  const scope = `voided_at IS NULL AND origin_unit_id IN (SELECT id FROM units WHERE path LIKE ?)`;
  const q = (sql: string) => new Map(raw(db, sql).raw(true).all(from, to, unitPath + '%') as Array<[string, number]>);
  return {
    raised: q(`SELECT substr(created_date, 1, 7), count(*) FROM issues WHERE created_date BETWEEN ? AND ? AND ${scope} GROUP BY 1`),
    resolved: q(`SELECT substr(resolved_date, 1, 7), count(*) FROM issues WHERE resolved_date BETWEEN ? AND ?
      AND state IN ('resolved','closed') AND ${scope} GROUP BY 1`),
  };
}
