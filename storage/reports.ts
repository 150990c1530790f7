/**
 * Queries of the reports (docs/rules.md#statistics-and-exports): rows for the Excel exports,
 * streamed as async iterators so a 100,000-issue ledger never sits in memory, and the small
 * series behind the charts.
 *
 * An export reads through {@link openSnapshot}: one consistent state however long it takes, on a
 * connection of its own, so the bot's connection stays free for the commands that arrive
 * meanwhile.
 * - SQLite: a second, read-only connection to the same file in one read transaction
 *   (better-sqlite3 refuses other statements on a connection while an iterator is open on it).
 *   Rows stream from better-sqlite3's own iterator (`.raw().iterate()`: no object per row).
 * - PostgreSQL: a pooled connection in a REPEATABLE READ READ ONLY transaction. Rows stream
 *   through a server-side cursor (`DECLARE … CURSOR`, `FETCH` a batch at a time), as arrays
 *   where the export reads them by position.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { toPgText, type Db, type Params } from './db.js';
import { rootUnits } from './units.js';
import { inList } from './rows.js';
import { PENDING_SQL } from './issue-glossary.js';
import { VISIT_KINDS, type Unit } from './types.js';

export interface Snapshot {
  db: Db;
  /** True when reading through its own connection: the export may yield between rows. */
  separate: boolean;
  /** Ends the read transaction and gives the connection back. */
  close(): Promise<void>;
}

/** The connection of each PostgreSQL snapshot, where {@link stream} declares its cursors. */
const snapshotClients = new WeakMap<Db, pg.PoolClient>();
/** The SQLite snapshots' handles: connections of their own, where an iterator may stay open. */
const sqliteReaders = new WeakSet<Db>();

const sqliteParam = (v: unknown): unknown => (v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** A read-only {@link Db} over a second SQLite connection (statements cached per text, as in db.ts). */
function sqliteReader(conn: Database.Database): Db {
  const cache = new Map<string, Database.Statement>();
  const stmt = (text: string, pluck: boolean) => {
    const key = (pluck ? 'p:' : 'r:') + text;
    let st = cache.get(key);
    if (!st) {
      st = conn.prepare(text);
      if (pluck && st.reader) st.pluck();
      cache.set(key, st);
    }
    return st;
  };
  const db: Db = {
    dialect: 'sqlite',
    get inTransaction() { return conn.inTransaction; },
    sqlite: conn,
    all: async <T>(text: string, params: Params = []) => stmt(text, false).all(...params.map(sqliteParam)) as T[],
    get: async <T>(text: string, params: Params = []) => stmt(text, false).get(...params.map(sqliteParam)) as T | undefined,
    value: async <T>(text: string, params: Params = []) => stmt(text, true).get(...params.map(sqliteParam)) as T | undefined,
    run: async (text: string, params: Params = []) => stmt(text, false).run(...params.map(sqliteParam)).changes,
    withWrite: () => Promise.reject(new Error('a report snapshot is read-only')),
    // A snapshot lives for one report: nothing worth keeping between its reads.
    memo: (_key, _tables, read) => read(db),
    // The snapshot owns the connection: Snapshot.close ends it.
    close: async () => undefined,
  };
  sqliteReaders.add(db);
  return db;
}

/** A read-only {@link Db} over one pooled PostgreSQL connection inside the snapshot's transaction. */
function pgReader(client: pg.PoolClient, of: Db): Db {
  const q = (text: string, params: Params) => client.query(toPgText(text), params.map((v) => (v === undefined ? null : v)));
  const db: Db = {
    dialect: 'postgres',
    inTransaction: true,
    pool: of.pool,
    schema: of.schema,
    all: async <T>(text: string, params: Params = []) => (await q(text, params)).rows as T[],
    get: async <T>(text: string, params: Params = []) => (await q(text, params)).rows[0] as T | undefined,
    value: async <T>(text: string, params: Params = []) => {
      const r = await q(text, params);
      const row = r.rows[0] as Record<string, unknown> | undefined;
      return row ? (row[r.fields[0].name] as T) : undefined;
    },
    run: async (text: string, params: Params = []) => (await q(text, params)).rowCount ?? 0,
    withWrite: () => Promise.reject(new Error('a report snapshot is read-only')),
    memo: (_key, _tables, read) => read(db),
    close: async () => undefined,
  };
  snapshotClients.set(db, client);
  return db;
}

export async function openSnapshot(db: Db): Promise<Snapshot> {
  if (db.dialect === 'postgres') {
    const client = await db.pool!.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (e) {
      client.release(e as Error);
      throw e;
    }
    return {
      db: pgReader(client, db),
      separate: true,
      async close() {
        try {
          await client.query('COMMIT');
        } catch (e) {
          client.release(e as Error);
          return;
        }
        client.release();
      },
    };
  }
  const c = db.sqlite!;
  const file = c.name;
  if (c.memory || !file || file === ':memory:') return { db, separate: false, async close() {} };
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  conn.pragma('busy_timeout = 5000');
  conn.exec('BEGIN');
  return {
    db: sqliteReader(conn),
    separate: true,
    async close() {
      try { conn.exec('COMMIT'); } finally { conn.close(); }
    },
  };
}

const BATCH = 1000;
let cursorSeq = 0;

/**
 * The rows of one query, streamed: arrays (`arrays`, read by position) or objects keyed by the
 * column names. SQLite: better-sqlite3's iterator on a snapshot's connection; on the bot's own
 * connection (an in-memory database has no snapshot) the rows are read at once instead, since an
 * iterator left open there between rows would make every write of other commands fail. PostgreSQL:
 * a cursor on the snapshot's connection, or — for any other handle — on a pooled connection of
 * its own in a read-only transaction, released when the rows end or the reader stops early.
 */
async function* stream<T>(db: Db, text: string, params: unknown[], arrays: boolean): AsyncGenerator<T> {
  if (db.dialect !== 'postgres') {
    const st = db.sqlite!.prepare(text);
    if (arrays) st.raw(true);
    const args = params.map(sqliteParam);
    yield* (sqliteReaders.has(db) ? st.iterate(...args) : st.all(...args)) as Iterable<T>;
    return;
  }
  const own = snapshotClients.get(db);
  const client = own ?? await db.pool!.connect();
  const cursor = `minqing_rows_${++cursorSeq}`;
  let open = false, ok = false;
  try {
    if (!own) await client.query('BEGIN READ ONLY');
    await client.query(toPgText(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${text}`), params.map((v) => (v === undefined ? null : v)));
    open = true;
    for (;;) {
      const fetch = `FETCH ${BATCH} FROM ${cursor}`;
      const rows: unknown[] = arrays ? (await client.query({ text: fetch, rowMode: 'array' })).rows : (await client.query(fetch)).rows;
      for (const row of rows) yield row as T;
      if (rows.length < BATCH) break;
    }
    ok = true;
  } finally {
    if (own) {
      // Stopped early or done: the snapshot's transaction goes on, so the cursor is closed here.
      if (open) await client.query(`CLOSE ${cursor}`).catch(() => undefined);
    } else {
      await client.query(ok ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
      client.release();
    }
  }
}

/** The path that selects a unit with its sub-units, or null when that is every unit (no filter: faster). */
export async function scopePath(db: Db, unit: Unit): Promise<string | null> {
  return unit.parentId == null && (await rootUnits(db)).length === 1 ? null : unit.path;
}

const COUNTED = `status IN ('ok','verified') AND voided_at IS NULL`;

/** A cadre's name by id, memoised for one export (a name is looked up once, when first asked for). */
export function cadreNames(db: Db): (id: number | null) => Promise<string> {
  const seen = new Map<number, Promise<string>>();
  return (id) => {
    if (id == null) return Promise.resolve('');
    let n = seen.get(id);
    if (n === undefined) seen.set(id, (n = db.value<string>('SELECT name FROM cadres WHERE id = ?', [id]).then((x) => x ?? `#${id}`)));
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
// which for 100,000 wide rows costs more than the query itself. On SQLite, CROSS JOIN keeps the
// issues as the outer loop (one pass over the table) instead of a lookup per unit; PostgreSQL has
// no such hint (and needs none: it hashes the units).

const ledgerSql = (join: string, scope: string) => `SELECT i.id, i.ledger, i.category, i.place, i.description, i.source, r.name, l.name, i.department, u.name,
      i.created_date, i.deadline, i.state, i.extensions, i.supervise_count, i.resolved_date, i.result, i.answered, i.satisfaction, i.closed_at,
      i.citizen_satisfaction
    FROM issues i ${join} units u ON u.id = i.unit_id
    LEFT JOIN cadres r ON r.id = i.responsible_cadre_id LEFT JOIN cadres l ON l.id = i.lead_cadre_id
    WHERE i.voided_at IS NULL${scope}
    ORDER BY CASE WHEN i.state IN ${PENDING_SQL} THEN 0 WHEN i.state = 'resolved' THEN 1 ELSE 2 END, i.deadline, i.id`;
const UNDER = ' AND i.unit_id IN (SELECT id FROM units WHERE path LIKE ?)';

/** The ledger of a unit with its sub-units (issues they own now): pending by deadline, then resolved, then closed. */
export async function* ledgerRows(db: Db, unitPath: string | null): AsyncGenerator<LedgerRow> {
  const text = ledgerSql(db.dialect === 'postgres' ? 'JOIN' : 'CROSS JOIN', unitPath ? UNDER : '');
  for await (const r of stream<unknown[]>(db, text, unitPath ? [unitPath + '%'] : [], true)) {
    yield {
      id: r[0] as number, ledger: r[1] as string, category: r[2] as string, place: r[3] as string, description: r[4] as string,
      source: r[5] as string, responsible: r[6] as string | null, lead: r[7] as string | null, department: r[8] as string | null,
      unit: r[9] as string, createdDate: r[10] as string, deadline: r[11] as string, state: r[12] as string, extensions: r[13] as number,
      // answered: 0/1 on SQLite, a boolean on PostgreSQL.
      superviseCount: r[14] as number, resolvedDate: r[15] as string | null, result: r[16] as string | null, answered: r[17] == null ? null : r[17] ? 1 : 0,
      satisfaction: r[18] as string | null, closedAt: r[19] as number | null, citizenSatisfaction: r[20] as string | null,
    };
  }
}

export interface LedgerEventRow {
  issueId: number; date: string; at: number; actor: string | null; action: string;
  fromState: string | null; toState: string | null; note: string | null;
}

/** The audit trail of every issue of {@link ledgerRows}, by issue, oldest first. */
export async function* ledgerEvents(db: Db, unitPath: string | null): AsyncGenerator<LedgerEventRow> {
  const text = `SELECT e.issue_id, e.date, e.at, a.name, e.action, e.from_state, e.to_state, e.note
    FROM issues i JOIN issue_events e ON e.issue_id = i.id LEFT JOIN cadres a ON a.id = e.actor_cadre_id
    WHERE i.voided_at IS NULL${unitPath ? UNDER : ''} ORDER BY i.id, e.id`;
  for await (const r of stream<unknown[]>(db, text, unitPath ? [unitPath + '%'] : [], true)) {
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
export function projectRows(db: Db, unitPath: string, from: string, to: string): AsyncIterableIterator<ProjectRow> {
  // The measures joined in order: group_concat on SQLite, string_agg on PostgreSQL.
  const tasks = db.dialect === 'postgres' ? "string_agg(e.note, '；' ORDER BY e.id)" : "group_concat(e.note, '；' ORDER BY e.id)";
  return stream<ProjectRow>(db, `SELECT i.id, i.place, i.description, i.deadline, l.name AS lead, i.department, u.name AS unit, i.state,
      i.result, i.resolved_date AS "resolvedDate",
      (SELECT ${tasks} FROM issue_events e
        WHERE e.issue_id = i.id AND e.action = 'progress' AND e.date <= ?) AS tasks
    FROM issues i JOIN units u ON u.id = i.unit_id LEFT JOIN cadres l ON l.id = i.lead_cadre_id
    WHERE i.voided_at IS NULL AND i.origin_unit_id IN (SELECT id FROM units WHERE path LIKE ?)
      AND i.created_date <= ? AND NOT (i.state IN ('resolved','closed') AND i.resolved_date < ?)
    ORDER BY i.id`, [to, unitPath + '%', to, from], false);
}

export interface LogRow {
  type: 'visit' | 'volunteer'; id: number; date: string; cadre: string; unit: string; place: string;
  kind: string | null; content: string; hours: number; households: number | null; status: string;
}

/** 工作日志: visits and volunteer service of a unit (with sub-units) or of one cadre, by date. */
export function logRows(db: Db, who: { unitPath: string } | { cadreId: number }, from: string, to: string): AsyncIterableIterator<LogRow> {
  const scope = 'unitPath' in who ? 'r.unit_id IN (SELECT id FROM units WHERE path LIKE ?)' : 'r.cadre_id = ?';
  const part = (type: string, table: string, kind: string, content: string, hh: string, which: string) =>
    `SELECT '${type}' AS type, r.id AS id, r.date AS date, c.name AS cadre, u.name AS unit, r.place AS place, ${kind} AS kind,
      ${content} AS content, r.hours AS hours, ${hh} AS households, r.status AS status, c.id AS cid
    FROM ${table} r JOIN cadres c ON c.id = r.cadre_id JOIN units u ON u.id = r.unit_id
    WHERE ${which} AND r.date BETWEEN ? AND ? AND ${scope}`;
  const w = 'unitPath' in who ? who.unitPath + '%' : who.cadreId;
  // Visits in two parts, each matching a partial index (schema.ts): the counted ones, every kind
  // named, through visits_counted; the rest not voided (补报 waiting for /核查, returned) through
  // visits_date, which holds only those — so an ordinary /走访 writes one index fewer.
  const kinds = inList(db, 'r.kind', VISIT_KINDS, 'text');
  const visits = (which: string) => part('visit', 'visits', 'r.kind', 'r.content', 'r.households', which);
  return stream<LogRow>(db, `${visits(`${kinds.sql} AND r.status IN ('ok','verified') AND r.voided_at IS NULL`)}
    UNION ALL ${visits(`r.status IN ('pending','returned') AND r.voided_at IS NULL`)}
    UNION ALL ${part('volunteer', 'volunteers', 'NULL', 'r.activity', 'NULL', 'r.voided_at IS NULL')}
    ORDER BY date, cid, type, id`, [...kinds.params, from, to, w, from, to, w, from, to, w], false);
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
export function householdRows(db: Db, unitPath: string, cadreId?: number): AsyncIterableIterator<HouseholdExportRow> {
  return stream<HouseholdExportRow>(db, `SELECT h.id, h.head_name AS "headName", h.phone, h.size, h.income_source AS "incomeSource", h.difficulties,
      h.opinions, p.name AS place, c.name AS cadre, u.name AS unit, h.created_at AS "createdAt"
    FROM households h JOIN units u ON u.id = h.unit_id
    LEFT JOIN contact_points p ON p.id = h.contact_point_id LEFT JOIN cadres c ON c.id = h.cadre_id
    WHERE u.path LIKE ?${cadreId === undefined ? '' : ' AND h.cadre_id = ?'} ORDER BY u.path, p.name, h.id`,
  [unitPath + '%', ...(cadreId === undefined ? [] : [cadreId])], false);
}

/** Counted visits per date in [from, to], of a unit with its sub-units (`null`: everyone). */
export function visitsPerDate(db: Db, unitPath: string | null, from: string, to: string): Promise<Array<{ date: string; n: number; hours: number }>> {
  const scope = unitPath ? ' AND unit_id IN (SELECT id FROM units WHERE path LIKE ?)' : '';
  // Every kind named: SQLite can then answer from the partial index of counted visits alone
  // (kinds as a JSON array there, as a text[] on PostgreSQL, whose planner seeks the same index).
  const kinds = inList(db, 'kind', VISIT_KINDS, 'text');
  return db.all(`SELECT date, count(*) AS n, sum(hours) AS hours FROM visits
    WHERE ${kinds.sql} AND date BETWEEN ? AND ?${scope} AND ${COUNTED} GROUP BY date`,
  [...kinds.params, from, to, ...(unitPath ? [unitPath + '%'] : [])]);
}

/** Issues raised and resolved per month ('2026-11') in [from, to], by the unit where they were raised. */
export async function issuesPerMonth(db: Db, unitPath: string, from: string, to: string): Promise<{ raised: Map<string, number>; resolved: Map<string, number> }> {
  const scope = `voided_at IS NULL AND origin_unit_id IN (SELECT id FROM units WHERE path LIKE ?)`;
  const q = async (sql: string) => new Map((await db.all<{ m: string; n: number }>(sql, [from, to, unitPath + '%'])).map((r) => [r.m, r.n]));
  return {
    raised: await q(`SELECT substr(created_date, 1, 7) AS m, count(*) AS n FROM issues WHERE created_date BETWEEN ? AND ? AND ${scope} GROUP BY 1`),
    resolved: await q(`SELECT substr(resolved_date, 1, 7) AS m, count(*) AS n FROM issues WHERE resolved_date BETWEEN ? AND ?
      AND state IN ('resolved','closed') AND ${scope} GROUP BY 1`),
  };
}
