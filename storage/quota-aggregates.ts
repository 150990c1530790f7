/**
 * The per-cadre aggregates the quota engine (bot/quota.ts) and the statistics (storage/stats.ts)
 * read, built for 100,000 cadres: one GROUP BY query per (table, period) — never one query per
 * cadre — cached per evaluation so /统计 and the engine share one scan of a period's visits; and a
 * snapshot of the roster kept between commands until the roster changes.
 *
 * Large results are read as JSON columns ({@link columns}): better-sqlite3 builds a JS array per
 * row, about a microsecond each, which costs more than the query itself at this size.
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';
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

/** Memo of aggregates within one evaluation (one command or one scheduler pass). */
export type AggregateCache = Map<string, unknown>;

const COUNTED = `status IN ('ok','verified') AND voided_at IS NULL`;

const scopeKey = (s: Scope) => (s.kind === 'all' ? 'all' : `${s.kind}:${s.ids.join(',')}`);

// Few cadres: walk each one's (cadre_id, date) index. Many: one range scan of the date index,
// testing membership from the index itself, so rows of other cadres are never read.
const MANY = 500;

function scopeSql(s: Scope, cadreCol: string, unitCol: string): { sql: string; params: unknown[] } {
  if (s.kind === 'all') return { sql: '', params: [] };
  const col = s.kind === 'cadres' ? cadreCol : unitCol;
  return { sql: ` AND ${col} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(s.ids)] };
}

function memo<T>(cache: AggregateCache | undefined, key: string, load: () => T): T {
  if (!cache) return load();
  if (cache.has(key)) return cache.get(key) as T;
  const v = load();
  cache.set(key, v);
  return v;
}

function stmt(db: Db, sql: string) {
  return prepared(db, 'q:' + sql, (d) => d.$client.prepare(sql));
}

/**
 * The result of `sql` as one array per named column. SQLite packs each column into one JSON
 * array — json_group_array steps through the rows in the same order for every column, so the
 * arrays stay aligned — and V8 parses them natively: three to four times faster than row arrays
 * for 100,000 rows. SQLite (3.45 and later, bundled with better-sqlite3) prints a REAL so that
 * it reads back as the same double.
 */
export function columns(db: Db, sql: string, names: readonly string[], params: unknown[]): unknown[][] {
  const row = stmt(db, `SELECT ${names.map((c) => `json_group_array(${c})`).join(', ')} FROM (${sql})`)
    .raw(true).get(...params) as string[];
  return row.map((s) => JSON.parse(s) as unknown[]);
}

/** `SELECT k, v …` as a Map. */
function mapOf(db: Db, sql: string, params: unknown[]): Map<number, number> {
  const [k, v] = columns(db, sql, ['k', 'v'], params) as [number[], number[]];
  const out = new Map<number, number>();
  for (let i = 0; i < k.length; i++) out.set(k[i], v[i]);
  return out;
}

const cadreScope = (scope: Scope) => scopeSql(scope, 'id', 'unit_id');

/** Active cadres of the scope (in id order for the whole roster). */
export function cadresInScope(db: Db, scope: Scope, cache?: AggregateCache): QuotaCadre[] {
  return memo(cache, 'cadres|' + scopeKey(scope), () => {
    const s = cadreScope(scope);
    const [id, name, unit, rank, rw, muted] = columns(db, `SELECT id, name, unit_id, rank, resident_worker, muted_until FROM cadres
      WHERE active = 1${s.sql}`, ['id', 'name', 'unit_id', 'rank', 'resident_worker', 'muted_until'], s.params) as
      [number[], string[], number[], Array<'leader' | 'staff'>, number[], Array<string | null>];
    const out: QuotaCadre[] = new Array(id.length);
    for (let i = 0; i < id.length; i++) {
      out[i] = { id: id[i], name: name[i], unitId: unit[i], rank: rank[i], residentWorker: rw[i] === 1, mutedUntil: muted[i] };
    }
    return out;
  });
}

// --- the roster snapshot ----------------------------------------------------------------------

/** The bits of what rule filters look at, as a {@link Roster} stores them. */
export const LEADER = 1, RESIDENT = 2;

/** The active cadres: id → unit id × 4 + LEADER/RESIDENT bits; how many there are per bits. */
export interface Roster { cadres: Map<number, number>; counts: number[] }

interface Watch { changes: number; seen: number; version: number; roster: Roster | null }
const watches = new WeakMap<object, Watch | null>();
const TRIGGERS = ['INSERT', 'UPDATE OF id, unit_id, rank, resident_worker, active', 'DELETE'];

/**
 * Starts counting this connection's writes to `cadres`: TEMP triggers (connection-local, not in
 * the schema) call back into JS on every insert, relevant update and delete, whoever issues it —
 * storage functions and raw SQL alike. Null where that is impossible (inside a transaction, whose
 * rollback would drop the triggers; a connection that refuses); callers then read afresh.
 */
function watch(db: Db): Watch | null {
  const c = db.$client;
  if (watches.has(c)) return watches.get(c)!;
  if (c.inTransaction) return null;
  let w: Watch | null = { changes: 0, seen: -1, version: -1, roster: null };
  try {
    const counter = w;
    c.function('minqing_roster_changed', { deterministic: false }, () => { counter.changes++; return null; });
    TRIGGERS.forEach((on, i) => c.exec(`CREATE TEMP TRIGGER IF NOT EXISTS minqing_roster_${i} AFTER ${on} ON cadres
      BEGIN SELECT minqing_roster_changed(); END`));
  } catch {
    w = null;
  }
  watches.set(c, w);
  return w;
}

/**
 * The active cadres' filter attributes, reread only after the roster changed: /统计 of a county
 * needs every cadre's rank and unit, reading 50,000 of them costs more than the rest of the
 * command, and the roster changes rarely. Writes through this connection are counted by
 * {@link watch}; `PRAGMA data_version` moves when another connection commits. A snapshot read
 * inside a transaction is not kept: the transaction may yet roll back.
 */
export function rosterOf(db: Db): Roster {
  const w = watch(db);
  const version = w ? prepared(db, 'dataVersion', (d) => d.$client.prepare('PRAGMA data_version').pluck()).get() as number : -1;
  const intact = () => prepared(db, 'rosterTriggers', (d) => d.$client.prepare(
    `SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' AND name GLOB 'minqing_roster_*'`).pluck()).get() === TRIGGERS.length;
  if (w?.roster && w.seen === w.changes && w.version === version && intact()) return w.roster;
  const seen = w?.changes ?? -1;
  const [ids, packed] = columns(db, `SELECT id, unit_id * 4 + (rank = 'leader') * ${LEADER} + (resident_worker = 1) * ${RESIDENT} AS p
    FROM cadres WHERE active = 1`, ['id', 'p'], []) as [number[], number[]];
  const roster: Roster = { cadres: new Map(), counts: [0, 0, 0, 0] };
  for (let i = 0; i < ids.length; i++) {
    roster.cadres.set(ids[i], packed[i]);
    roster.counts[packed[i] % 4]++;
  }
  if (w && !db.$client.inTransaction && intact()) Object.assign(w, { roster, seen, version });
  return roster;
}

/** The active cadres of a scope as rule filters see them. */
export interface ScopeRoster {
  /** LEADER/RESIDENT bits of an active cadre of the scope; -1 for anyone else. */
  bitsOf(id: number): number;
  /** How many active cadres of the scope there are per bits. */
  counts: number[];
}

export function scopeRoster(db: Db, scope: Scope, cache?: AggregateCache): ScopeRoster {
  return memo(cache, 'roster|' + scopeKey(scope), () => {
    const { cadres, counts } = rosterOf(db);
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
 * How a visit scan picks its index. Few cadres: their (cadre_id, date) index. Many: the partial
 * covering index `visits_counted (kind, date, unit_id, cadre_id, hours, households, place) WHERE
 * status IN ('ok','verified') AND voided_at IS NULL`, which the planner picks by itself (our
 * WHERE clauses imply its condition) when the kinds are listed, so that it seeks per kind. On a
 * database without it, `visits_date` — which lacks `voided_at` and `households`, so every
 * matching row is also read from the table.
 */
function hasCountedIndex(db: Db): boolean {
  return prepared(db, 'hasCountedIndex', (d) =>
    !!d.$client.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visits' AND name = 'visits_counted'`).get());
}
function visitIndexFor(db: Db, scope: Scope): string {
  if (scope.kind === 'cadres' && scope.ids.length <= MANY) return 'INDEXED BY visits_cadre';
  return hasCountedIndex(db) ? '' : 'INDEXED BY visits_date';
}
/** The kinds to put in a scan's WHERE: null (no filter) unless an index can seek by kind. */
function kindsForScan(db: Db, kinds: readonly VisitKind[] | null): readonly VisitKind[] | null {
  return kinds ?? (hasCountedIndex(db) ? VISIT_KINDS : null);
}

/** The FROM … WHERE of counted visits of a scope in [from, to], narrowed to `kinds` (null: all). */
export function countedVisits(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null): { sql: string; params: unknown[] } {
  const s = scopeSql(scope, 'cadre_id', 'unit_id');
  const scan = kindsForScan(db, kinds);
  return {
    sql: `FROM visits ${visitIndexFor(db, scope)} WHERE date BETWEEN ? AND ?${s.sql}`
      + `${scan ? ' AND kind IN (SELECT value FROM json_each(?))' : ''} AND ${COUNTED}`,
    params: [from, to, ...s.params, ...(scan ? [JSON.stringify(scan)] : [])],
  };
}

/**
 * Counted visits per cadre and kind in [from, to]. `kinds` narrows the scan (null: every kind);
 * an all-kinds aggregate already in the cache serves any narrower request.
 */
export function visitAggregate(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null, cache?: AggregateCache): VisitAgg {
  const base = `visits|${scopeKey(scope)}|${from}|${to}|`;
  if (cache?.has(base + '*')) return cache.get(base + '*') as VisitAgg;
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, base + (ks ? ks.join(',') : '*'), () => {
    const v = countedVisits(db, scope, from, to, ks);
    const [ids, kind, n, hours, hh] = columns(db, `SELECT cadre_id AS c, kind AS k, count(*) AS n, sum(hours) AS h, sum(households) AS hh
      ${v.sql} GROUP BY cadre_id, kind`, ['c', 'k', 'n', 'h', 'hh'], v.params) as [number[], string[], number[], number[], number[]];
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
export function placeAggregate(db: Db, scope: Scope, from: string, to: string, kinds: readonly VisitKind[] | null, cache?: AggregateCache): Map<number, number> {
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, `places|${scopeKey(scope)}|${from}|${to}|${ks ? ks.join(',') : '*'}`, () => {
    const v = countedVisits(db, scope, from, to, ks);
    return mapOf(db, `SELECT cadre_id AS k, count(DISTINCT place) AS v ${v.sql} GROUP BY cadre_id`, v.params);
  });
}

/** Counted volunteer hours per cadre in [from, to]. */
export function volunteerAggregate(db: Db, scope: Scope, from: string, to: string, cache?: AggregateCache): Map<number, number> {
  return memo(cache, `volunteers|${scopeKey(scope)}|${from}|${to}`, () => {
    const s = scopeSql(scope, 'cadre_id', 'unit_id');
    const index = scope.kind === 'cadres' && scope.ids.length <= MANY ? 'volunteers_cadre' : 'volunteers_date';
    return mapOf(db, `SELECT cadre_id AS k, sum(hours) AS v FROM volunteers INDEXED BY ${index}
      WHERE date BETWEEN ? AND ?${s.sql} AND ${COUNTED} GROUP BY cadre_id`, [from, to, ...s.params]);
  });
}

/**
 * Issues resolved per responsible cadre with resolved_date in [from, to]. Only issues still
 * resolved or closed count: one reopened after a citizen's 不满意 is not solved any more.
 */
export function resolvedAggregate(db: Db, scope: Scope, from: string, to: string, cache?: AggregateCache): Map<number, number> {
  return memo(cache, `resolved|${scopeKey(scope)}|${from}|${to}`, () => {
    // By the responsible cadre, also for a unit scope: an escalated issue belongs to the parent
    // unit's ledger, but the cadre who solved it still solved it.
    const s = scope.kind === 'units'
      ? { sql: ' AND responsible_cadre_id IN (SELECT id FROM cadres WHERE unit_id IN (SELECT value FROM json_each(?)))', params: [JSON.stringify(scope.ids)] }
      : scopeSql(scope, 'responsible_cadre_id', 'unit_id');
    return mapOf(db, `SELECT responsible_cadre_id AS k, count(*) AS v FROM issues
      WHERE state IN ('resolved','closed') AND resolved_date BETWEEN ? AND ?${s.sql} AND voided_at IS NULL
      GROUP BY responsible_cadre_id`, [from, to, ...s.params]);
  });
}
