/**
 * The per-cadre aggregates the quota engine (bot/quota.ts) and the statistics (storage/stats.ts)
 * read, built for 100,000 cadres: one GROUP BY query per (table, period) — never one query per
 * cadre — cached per evaluation so /统计 and the engine share one scan of a period's visits; and a
 * snapshot of the roster (on SQLite kept between commands until the roster changes).
 *
 * Large results are read as one JSON array per column ({@link columns}): a driver builds a JS
 * object or array per row, about a microsecond each, which costs more than the query itself at
 * this size. Both dialects run the same queries; where SQL differs the twins are chosen by
 * `db.dialect`:
 * - a scope's id list: `IN (SELECT value FROM json_each(?))` with a JSON text on SQLite,
 *   `= ANY(?::int[])` with a JS array on PostgreSQL;
 * - index choice: SQLite gets `INDEXED BY` hints (its planner has no statistics worth the name
 *   for our skewed scopes); PostgreSQL's planner chooses from its statistics, plain SQL.
 */
import type { Db } from './db.js';
import { inList } from './rows.js';
import { VISIT_KINDS, type VisitKind } from './types.js';

/**
 * Whose records an aggregate covers. `all`: no filter at all (the root unit; the fastest path).
 * `units`: records made in these units (a unit and its sub-units). `cadres`: these cadres'
 * records, wherever they were made.
 */
export type Scope = { kind: 'all' } | { kind: 'units'; ids: number[] } | { kind: 'cadres'; ids: number[] };

/** A cadre as the engine needs it. */
export interface QuotaCadre {
  id: number;
  name: string;
  unitId: number;
  rank: 'leader' | 'staff';
  residentWorker: boolean;
  mutedUntil: string | null;
}

export const KIND_INDEX = new Map<string, number>(VISIT_KINDS.map((k, i) => [k, i]));
export const AGG_WIDTH = VISIT_KINDS.length * 3;

/**
 * Counted visits per cadre and kind. `at.get(cadreId)` is where the cadre's AGG_WIDTH numbers
 * start in `data`; kind k (VISIT_KINDS order) has [count, hours, households] at +3k, +3k+1,
 * +3k+2. One array for everybody: 100,000 small typed arrays cost more to allocate than to fill.
 */
export interface VisitAgg { at: Map<number, number>; data: Float64Array }

/**
 * Memo of aggregates within one evaluation (one command or one scheduler pass). It holds the
 * promises of the loads, so two callers asking for the same aggregate at once share one query.
 */
export type AggregateCache = Map<string, unknown>;

const COUNTED = `status IN ('ok','verified') AND voided_at IS NULL`;

const isPg = (db: Db) => db.dialect === 'postgres';

const scopeKey = (s: Scope) => (s.kind === 'all' ? 'all' : `${s.kind}:${s.ids.join(',')}`);

// Few cadres: walk each one's (cadre_id, date) index. Many: one range scan of the date index,
// testing membership from the index itself, so rows of other cadres are never read.
const MANY = 500;

/** ` AND <the scope's condition>`, or nothing for everybody. */
function scopeSql(db: Db, s: Scope, cadreCol: string, unitCol: string): { sql: string; params: unknown[] } {
  if (s.kind === 'all') return { sql: '', params: [] };
  const l = inList(db, s.kind === 'cadres' ? cadreCol : unitCol, s.ids);
  return { sql: ` AND ${l.sql}`, params: l.params };
}

/** Loads once per cache and key; a failed load is forgotten, so a retry loads again. */
function memo<T>(cache: AggregateCache | undefined, key: string, load: () => Promise<T>): Promise<T> {
  if (!cache) return load();
  const hit = cache.get(key);
  if (hit !== undefined) return hit as Promise<T>;
  const p = load();
  cache.set(key, p);
  p.catch(() => { if (cache.get(key) === p) cache.delete(key); });
  return p;
}

/**
 * The result of `sql` as one array per named column. The database packs each column into one
 * JSON array, and V8 parses them natively.
 * - SQLite: json_group_array steps through the rows in the same order for every column, so the
 *   arrays stay aligned; three to four times faster than row arrays for 100,000 rows. SQLite
 *   (3.45 and later, bundled with better-sqlite3) prints a REAL so that it reads back as the
 *   same double. The arrays arrive as text and are parsed here.
 * - PostgreSQL: json_agg, the same way (all aggregates of one query are fed the same rows in the
 *   same order, and a plain aggregate over a sorted subquery gets its rows in that order, so an
 *   ORDER BY in `sql` is kept). node-postgres parses the json itself. A bigint (count, sum of
 *   integers) is written as a JSON number and reads back as a number; array_agg would hand
 *   bigints over as strings, and was slower than json_agg (and than rows) for 50,000 groups.
 * No rows give NULL, read as empty arrays.
 */
export async function columns(db: Db, sql: string, names: readonly string[], params: unknown[]): Promise<unknown[][]> {
  const agg = isPg(db) ? 'json_agg' : 'json_group_array';
  const row = await db.get<Record<string, unknown>>(`SELECT ${names.map((c, i) => `${agg}(${c}) AS c${i}`).join(', ')} FROM (${sql}) q`, params);
  return names.map((_, i) => {
    const v = row?.[`c${i}`];
    return typeof v === 'string' ? (JSON.parse(v) as unknown[]) : ((v ?? []) as unknown[]);
  });
}

/** `SELECT k, v …` as a Map. */
async function mapOf(db: Db, sql: string, params: unknown[]): Promise<Map<number, number>> {
  const [k, v] = (await columns(db, sql, ['k', 'v'], params)) as [number[], number[]];
  const out = new Map<number, number>();
  for (let i = 0; i < k.length; i++) out.set(k[i], v[i]);
  return out;
}

const cadreScope = (db: Db, scope: Scope) => scopeSql(db, scope, 'id', 'unit_id');

/**
 * Active cadres of the scope: in id order, or for a unit scope in (unit, id) order — the order
 * SQLite's plans yield (rowid; the cadres_unit index), written out so PostgreSQL, whose heap
 * has no order, gives the same.
 */
export function cadresInScope(db: Db, scope: Scope, cache?: AggregateCache): Promise<QuotaCadre[]> {
  return memo(cache, 'cadres|' + scopeKey(scope), async () => {
    const s = cadreScope(db, scope);
    const order = scope.kind === 'units' ? 'unit_id, id' : 'id';
    const [id, name, unit, rank, rw, muted] = (await columns(db, `SELECT id, name, unit_id, rank, resident_worker, muted_until FROM cadres
      WHERE active = TRUE${s.sql} ORDER BY ${order}`, ['id', 'name', 'unit_id', 'rank', 'resident_worker', 'muted_until'], s.params)) as
      [number[], string[], number[], Array<'leader' | 'staff'>, Array<number | boolean>, Array<string | null>];
    const out: QuotaCadre[] = new Array(id.length);
    for (let i = 0; i < id.length; i++) {
      // 0/1 on SQLite, false/true on PostgreSQL.
      out[i] = { id: id[i], name: name[i], unitId: unit[i], rank: rank[i], residentWorker: !!rw[i], mutedUntil: muted[i] };
    }
    return out;
  });
}

// --- the roster snapshot ----------------------------------------------------------------------

/** The bits of what rule filters look at, as a {@link Roster} stores them. */
export const LEADER = 1, RESIDENT = 2;

/** The active cadres: id → unit id × 4 + LEADER/RESIDENT bits; how many there are per bits. */
export interface Roster { cadres: Map<number, number>; counts: number[] }

/** Reads the active cadres (of a scope, given as its SQL) packed as a {@link Roster} stores them. */
async function readRoster(db: Db, scope: { sql: string; params: unknown[] }): Promise<Roster> {
  const [ids, packed] = (await columns(db, `SELECT id, unit_id * 4 + CASE WHEN rank = 'leader' THEN ${LEADER} ELSE 0 END
      + CASE WHEN resident_worker = TRUE THEN ${RESIDENT} ELSE 0 END AS p
    FROM cadres WHERE active = TRUE${scope.sql}`, ['id', 'p'], scope.params)) as [number[], number[]];
  const roster: Roster = { cadres: new Map(), counts: [0, 0, 0, 0] };
  for (let i = 0; i < ids.length; i++) {
    roster.cadres.set(ids[i], packed[i]);
    roster.counts[packed[i] % 4]++;
  }
  return roster;
}

const WHOLE = { sql: '', params: [] };

interface Watch { changes: number; seen: number; version: number; roster: Roster | null }
const watches = new WeakMap<object, Watch | null>();
const TRIGGERS = ['INSERT', 'UPDATE OF id, unit_id, rank, resident_worker, active', 'DELETE'];
const TRIGGER_SQL = TRIGGERS.map((on, i) => `CREATE TEMP TRIGGER IF NOT EXISTS minqing_roster_${i} AFTER ${on} ON cadres
  BEGIN SELECT minqing_roster_changed(); END`);

/**
 * SQLite only. The counter of this connection's writes to `cadres`: a JS function registered on
 * the connection, which TEMP triggers (connection-local, not in the schema; see {@link armed})
 * call on every insert, relevant update and delete, whoever issues it — storage functions and
 * raw SQL alike. Null where the connection refuses the function; callers then read afresh.
 *
 * This is the one place that needs the raw better-sqlite3 handle (`db.sqlite`): registering a JS
 * function on a connection has no SQL form. The handle is also the key of the watch, shared by
 * the `Db` and the transaction view of the same connection.
 */
function watch(db: Db): Watch | null {
  const c = db.sqlite;
  if (!c) return null;
  let w = watches.get(c);
  if (w === undefined) {
    try {
      const counter: Watch = { changes: 0, seen: -1, version: -1, roster: null };
      c.function('minqing_roster_changed', { deterministic: false }, () => { counter.changes++; return null; });
      w = counter;
    } catch {
      w = null;
    }
    watches.set(c, w);
  }
  return w;
}

const triggersIntact = async (db: Db) => (await db.value<number>(
  `SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' AND name GLOB 'minqing_roster_*'`)) === TRIGGERS.length;

/**
 * Whether the triggers are in place, creating them when they are not — never inside a
 * transaction, whose rollback would drop them again. Whatever was kept while they were missing
 * was not watched and is dropped. (Checked on every read: a group commit may have rolled back
 * the transaction they were created in.)
 */
async function armed(db: Db, w: Watch): Promise<boolean> {
  if (await triggersIntact(db)) return true;
  w.roster = null;
  if (db.inTransaction) return false;
  try {
    for (const text of TRIGGER_SQL) await db.run(text);
  } catch {
    return false;
  }
  return !db.inTransaction && triggersIntact(db);
}

/**
 * The active cadres' filter attributes. /统计 of a county needs every cadre's rank and unit, and
 * reading 50,000 of them costs more than the rest of the command.
 *
 * SQLite: the snapshot is kept and reread only after the roster changed — writes through this
 * connection are counted by {@link watch}, and `PRAGMA data_version` moves when another
 * connection commits. A snapshot read inside a transaction is not kept: the transaction may yet
 * roll back. The version, the write count and the read are taken with no await between them,
 * so no write of this connection falls between what the snapshot says it saw and what it read.
 *
 * PostgreSQL: read afresh every time (callers memoize it per evaluation, see
 * {@link scopeRoster}). Several processes write the roster, and nothing in the schema records
 * that they did: a version kept in the database would need a trigger or every writer of
 * `cadres` to bump it, and PostgreSQL's table statistics lag behind commits. Reading 100,000
 * active cadres as two json_agg columns takes about 55 ms, against about 30 ms for even a
 * checksum over the same rows, and well under a period's visit scan; reading afresh is also
 * right by construction inside a transaction (it sees its own writes, and nothing outlives a
 * rollback).
 */
export async function rosterOf(db: Db): Promise<Roster> {
  const w = watch(db);
  if (!w) return readRoster(db, WHOLE);
  const ok = await armed(db, w);
  const version = (await db.value<number>('PRAGMA data_version')) ?? -1;
  if (ok && w.roster && w.seen === w.changes && w.version === version) return w.roster;
  const seen = w.changes;
  const roster = await readRoster(db, WHOLE);
  if (ok && !db.inTransaction && (await triggersIntact(db))) Object.assign(w, { roster, seen, version });
  return roster;
}

/** The active cadres of a scope as rule filters see them. */
export interface ScopeRoster {
  /** LEADER/RESIDENT bits of an active cadre of the scope; -1 for anyone else. */
  bitsOf(id: number): number;
  /** How many active cadres of the scope there are per bits. */
  counts: number[];
}

/**
 * SQLite: cut from the kept snapshot of the whole roster. PostgreSQL: the scope's active
 * cadres read directly (`= ANY(?::int[])`), once per evaluation (see {@link rosterOf}): a
 * township's roster is a small read, the county's the whole one.
 */
export function scopeRoster(db: Db, scope: Scope, cache?: AggregateCache): Promise<ScopeRoster> {
  return memo(cache, 'roster|' + scopeKey(scope), async () => {
    if (isPg(db)) {
      const { cadres, counts } = await readRoster(db, cadreScope(db, scope));
      return { bitsOf: (id: number) => { const p = cadres.get(id); return p === undefined ? -1 : p % 4; }, counts };
    }
    const { cadres, counts } = await rosterOf(db);
    const bits = (id: number) => { const p = cadres.get(id); return p === undefined ? -1 : p % 4; };
    if (scope.kind === 'all') return { bitsOf: bits, counts };
    const set = new Set(scope.ids);
    const bitsOf = scope.kind === 'cadres'
      ? (id: number) => (set.has(id) ? bits(id) : -1)
      : (id: number) => { const p = cadres.get(id); return p !== undefined && set.has((p - (p % 4)) / 4) ? p % 4 : -1; };
    const n = [0, 0, 0, 0];
    if (scope.kind === 'cadres') for (const id of set) { const b = bits(id); if (b >= 0) n[b]++; }
    else for (const id of cadres.keys()) { const b = bitsOf(id); if (b >= 0) n[b]++; }
    return { bitsOf, counts: n };
  });
}

// --- visits -----------------------------------------------------------------------------------

/**
 * How a visit scan picks its index on SQLite. Few cadres: their (cadre_id, date) index. Many:
 * the partial covering index `visits_counted (kind, date, unit_id, cadre_id, hours, households,
 * place) WHERE status IN ('ok','verified') AND voided_at IS NULL`, which the planner picks by
 * itself (our WHERE clauses imply its condition) when the kinds are listed, so that it seeks per
 * kind. On a database without it (the migrations always create it; a test drops it) the planner
 * chooses: `visits_date` holds only the uncounted visits now (migration visits_date_uncounted).
 *
 * PostgreSQL has `visits_counted` from its first migration and picks its index itself; listing
 * the kinds lets it seek per kind there too.
 */
async function hasCountedIndex(db: Db): Promise<boolean> {
  if (isPg(db)) return true;
  return !!(await db.get(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visits' AND name = 'visits_counted'`));
}
async function visitIndexFor(db: Db, scope: Scope): Promise<string> {
  if (isPg(db)) return '';
  if (scope.kind === 'cadres' && scope.ids.length <= MANY) return 'INDEXED BY visits_cadre';
  // Without visits_counted the planner chooses (visits_date holds only uncounted visits).
  return '';
}
/** The kinds to put in a scan's WHERE: null (no filter) unless an index can seek by kind. */
async function kindsForScan(db: Db, kinds: readonly VisitKind[] | null): Promise<readonly VisitKind[] | null> {
  return kinds ?? ((await hasCountedIndex(db)) ? VISIT_KINDS : null);
}

/**
 * The FROM … WHERE of counted visits of a scope in [from, to], narrowed to `kinds` (null: all).
 * The SQL and its params are the dialect's own (a JSON text or an array for a list).
 */
export async function countedVisits(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null): Promise<{ sql: string; params: unknown[] }> {
  const s = scopeSql(db, scope, 'cadre_id', 'unit_id');
  const scan = await kindsForScan(db, kinds);
  const k = scan && inList(db, 'kind', scan, 'text');
  return {
    sql: `FROM visits ${await visitIndexFor(db, scope)} WHERE date BETWEEN ? AND ?${s.sql}${k ? ` AND ${k.sql}` : ''} AND ${COUNTED}`,
    params: [from, to, ...s.params, ...(k ? k.params : [])],
  };
}

/**
 * Counted visits per cadre and kind in [from, to]. `kinds` narrows the scan (null: every kind);
 * an all-kinds aggregate already in the cache serves any narrower request.
 */
export function visitAggregate(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null, cache?: AggregateCache): Promise<VisitAgg> {
  const base = `visits|${scopeKey(scope)}|${from}|${to}|`;
  if (cache?.has(base + '*')) return cache.get(base + '*') as Promise<VisitAgg>;
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, base + (ks ? ks.join(',') : '*'), async () => {
    const v = await countedVisits(db, scope, from, to, ks);
    const [ids, kind, n, hours, hh] = (await columns(db, `SELECT cadre_id AS c, kind AS k, count(*) AS n, sum(hours) AS h, sum(households) AS hh
      ${v.sql} GROUP BY cadre_id, kind`, ['c', 'k', 'n', 'h', 'hh'], v.params)) as [number[], string[], number[], number[], number[]];
    const at = new Map<number, number>();
    for (const id of ids) if (!at.has(id)) at.set(id, at.size * AGG_WIDTH);
    const data = new Float64Array(at.size * AGG_WIDTH);
    const other = KIND_INDEX.get('other')!;
    for (let i = 0; i < ids.length; i++) {
      const o = at.get(ids[i])! + 3 * (KIND_INDEX.get(kind[i]) ?? other);
      data[o] += n[i]; data[o + 1] += hours[i]; data[o + 2] += hh[i];
    }
    return { at, data };
  });
}

/** Distinct places visited per cadre in [from, to] (only when a rule asks for it). */
export function placeAggregate(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null, cache?: AggregateCache): Promise<Map<number, number>> {
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, `places|${scopeKey(scope)}|${from}|${to}|${ks ? ks.join(',') : '*'}`, async () => {
    const v = await countedVisits(db, scope, from, to, ks);
    return mapOf(db, `SELECT cadre_id AS k, count(DISTINCT place) AS v ${v.sql} GROUP BY cadre_id`, v.params);
  });
}

/** Counted volunteer hours per cadre in [from, to]. */
export function volunteerAggregate(db: Db, scope: Scope, from: string, to: string, cache?: AggregateCache): Promise<Map<number, number>> {
  return memo(cache, `volunteers|${scopeKey(scope)}|${from}|${to}`, () => {
    const s = scopeSql(db, scope, 'cadre_id', 'unit_id');
    const index = isPg(db) ? '' : `INDEXED BY ${scope.kind === 'cadres' && scope.ids.length <= MANY ? 'volunteers_cadre' : 'volunteers_date'}`;
    return mapOf(db, `SELECT cadre_id AS k, sum(hours) AS v FROM volunteers ${index}
      WHERE date BETWEEN ? AND ?${s.sql} AND ${COUNTED} GROUP BY cadre_id`, [from, to, ...s.params]);
  });
}

/**
 * Issues resolved per responsible cadre with resolved_date in [from, to]. Only issues still
 * resolved or closed count: one reopened after a citizen's 不满意 is not solved any more.
 */
export function resolvedAggregate(db: Db, scope: Scope, from: string, to: string, cache?: AggregateCache): Promise<Map<number, number>> {
  return memo(cache, `resolved|${scopeKey(scope)}|${from}|${to}`, () => {
    // By the responsible cadre, also for a unit scope: an escalated issue belongs to the parent
    // unit's ledger, but the cadre who solved it still solved it.
    let s = scopeSql(db, scope, 'responsible_cadre_id', 'unit_id');
    if (scope.kind === 'units') {
      const units = inList(db, 'unit_id', scope.ids);
      s = { sql: ` AND responsible_cadre_id IN (SELECT id FROM cadres WHERE ${units.sql})`, params: units.params };
    }
    return mapOf(db, `SELECT responsible_cadre_id AS k, count(*) AS v FROM issues
      WHERE state IN ('resolved','closed') AND resolved_date BETWEEN ? AND ?${s.sql} AND voided_at IS NULL
      GROUP BY responsible_cadre_id`, [from, to, ...s.params]);
  });
}
