/**
 * Aggregations for /统计, /我的 and /七问 (docs/rules.md#statistics-and-exports). A cadre's visit numbers come from the same
 * cached per-cadre aggregate the quota engine reads; a unit's come from sums in SQL over the
 * partial covering index of counted visits, which never build anything per cadre.
 *
 * A unit's numbers count the records made in it and its sub-units (visits.unit_id); for the root
 * of the only tree there is no unit filter at all, which keeps `/统计 本月` for a whole county
 * to one range scan per visit kind.
 */
import type { Db } from './db.js';
import { issueCountsForPeriod, type IssueCounts } from './issues.js';
import { SATISFACTIONS, type Satisfaction } from './issue-glossary.js';
import {
  AGG_WIDTH, countedVisits, KIND_INDEX, resolvedAggregate, scopeRoster, visitAggregate, volunteerAggregate,
  type AggregateCache, type QuotaCadre, type Scope,
} from './quota-aggregates.js';
import { rootUnits, subtreeIds } from './units.js';
import { VISIT_KINDS, type Unit, type VisitKind } from './types.js';

/** A list of ids as one parameter: a JSON array read with json_each on SQLite, an int[] on PostgreSQL. */
const idsIn = (db: Db, col: string) => (db.dialect === 'postgres' ? `${col} = ANY(?::int[])` : `${col} IN (SELECT value FROM json_each(?))`);
const idsParam = (db: Db, ids: number[]): unknown => (db.dialect === 'postgres' ? ids : JSON.stringify(ids));

/** The scope of "this unit with its sub-units"; `all` when that is every unit there is. */
export async function unitScope(db: Db, unit: Unit): Promise<Scope> {
  if (unit.parentId == null && (await rootUnits(db)).length === 1) return { kind: 'all' };
  return { kind: 'units', ids: await subtreeIds(db, unit) };
}

export interface VisitTotals {
  count: number;
  hours: number;
  households: number;
  byKind: Record<VisitKind, number>;
}

/** Totals from per-kind [count, hours, households] at [3k, 3k+1, 3k+2]. */
function totalsOf(t: Float64Array | number[]): VisitTotals {
  const byKind = Object.fromEntries(VISIT_KINDS.map((k) => [k, t[3 * KIND_INDEX.get(k)!]])) as Record<VisitKind, number>;
  let count = 0, hours = 0, households = 0;
  for (let k = 0; k < VISIT_KINDS.length; k++) { count += t[3 * k]; hours += t[3 * k + 1]; households += t[3 * k + 2]; }
  return { count, hours, households, byKind };
}

/** Sums a per-cadre aggregate; `cadreId` picks one cadre. */
export async function sumVisits(db: Db, scope: Scope, from: string, to: string, cache: AggregateCache, cadreId?: number): Promise<VisitTotals> {
  const agg = await visitAggregate(db, scope, from, to, null, cache);
  const t = new Float64Array(AGG_WIDTH);
  const add = (o: number | undefined) => { if (o !== undefined) for (let i = 0; i < AGG_WIDTH; i++) t[i] += agg.data[o + i]; };
  if (cadreId !== undefined) add(agg.at.get(cadreId)); else for (const o of agg.at.values()) add(o);
  return totalsOf(t);
}

export interface VisitSummary {
  totals: VisitTotals;
  /** Distinct places of the visits. */
  places: number;
  /** The cadres who made them, each once. */
  visitors: Set<number>;
}

/**
 * The counted visits of a scope in [from, to] in one scan. SQLite: sums per kind in SQL, and the
 * visitors and places as one JSON array per kind, made distinct here — SQLite's DISTINCT costs
 * more per row than V8's parser and a Set, and a row object per visit far more. PostgreSQL: one
 * GROUP BY GROUPING SETS pass, hashing kinds, cadres and places at once; one row comes back with
 * the sums per kind, the distinct visitors as an array and the number of distinct places, so
 * nothing per visit leaves the database.
 */
export async function visitSummary(db: Db, scope: Scope, from: string, to: string): Promise<VisitSummary> {
  const v = await countedVisits(db, scope, from, to, null);
  const t = new Float64Array(AGG_WIDTH);
  const other = KIND_INDEX.get('other')!;
  const add = (kind: string, n: number, hours: number, hh: number) => {
    const k = 3 * (KIND_INDEX.get(kind) ?? other);
    t[k] += n; t[k + 1] += hours; t[k + 2] += hh;
  };
  if (db.dialect === 'postgres') {
    // GROUPING(kind, cadre_id): 1 on the per-kind rows, 2 on the per-cadre rows, 3 on the per-place rows.
    // The visitors (a county's month: some 17,000) as json_agg, which V8 parses natively; an int[]
    // goes through node-postgres's array parser, several times slower.
    const r = (await db.get<{ kinds: string[] | null; n: number[] | null; hours: number[] | null; hh: number[] | null; visitors: number[] | null; places: number }>(
      `SELECT array_agg(kind) FILTER (WHERE g = 1) AS kinds, array_agg(n) FILTER (WHERE g = 1) AS n,
         array_agg(hours) FILTER (WHERE g = 1) AS hours, array_agg(hh) FILTER (WHERE g = 1) AS hh,
         json_agg(cadre_id) FILTER (WHERE g = 2) AS visitors, count(*) FILTER (WHERE g = 3) AS places
       FROM (SELECT GROUPING(kind, cadre_id) AS g, kind, cadre_id,
           count(*)::float8 AS n, sum(hours)::float8 AS hours, sum(households)::float8 AS hh
         ${v.sql} GROUP BY GROUPING SETS ((kind), (cadre_id), (place))) s`, v.params))!;
    (r.kinds ?? []).forEach((kind, i) => add(kind, r.n![i], r.hours![i], r.hh![i]));
    return { totals: totalsOf(t), places: r.places, visitors: new Set(r.visitors ?? []) };
  }
  const rows = await db.all<{ kind: string; n: number; hours: number; hh: number; cadres: string; places: string }>(
    `SELECT kind, count(*) AS n, sum(hours) AS hours, sum(households) AS hh, json_group_array(cadre_id) AS cadres, json_group_array(place) AS places
    ${v.sql} GROUP BY kind`, v.params);
  const visitors = new Set<number>(), places = new Set<string>();
  for (const r of rows) {
    add(r.kind, r.n, r.hours, r.hh);
    for (const id of JSON.parse(r.cadres) as number[]) visitors.add(id);
    for (const p of JSON.parse(r.places) as string[]) places.add(p);
  }
  return { totals: totalsOf(t), places: places.size, visitors };
}

/** Up to `limit` active cadres of the scope without a counted visit in [from, to], in unit order. */
export async function cadresWithoutVisits(db: Db, scope: Scope, from: string, to: string, limit: number): Promise<QuotaCadre[]> {
  if (limit <= 0) return [];
  const s = scope.kind === 'all' ? '' : ` AND ${idsIn(db, `c.${scope.kind === 'cadres' ? 'id' : 'unit_id'}`)}`;
  const params = scope.kind === 'all' ? [] : [idsParam(db, scope.ids)];
  // Walks cadres in unit order and stops at `limit`, probing each cadre's (cadre_id, date) index:
  // cheap however many cadres and visits there are. SQLite needs the index named; PostgreSQL
  // would turn NOT EXISTS into an anti-join over every visit of the period (it expects no
  // laggards), which OFFSET 0 prevents: the subquery then stays a probe per cadre, under an
  // index scan of cadres_unit and an incremental sort that stop at the limit.
  const pg = db.dialect === 'postgres';
  const rows = await db.all<QuotaCadre>(`SELECT c.id, c.name, c.unit_id AS "unitId", c.rank, c.resident_worker AS "residentWorker", c.muted_until AS "mutedUntil"
    FROM cadres c WHERE c.active = TRUE${s} AND NOT EXISTS (SELECT 1 FROM visits v${pg ? '' : ' INDEXED BY visits_cadre'}
      WHERE v.cadre_id = c.id AND v.date BETWEEN ? AND ? AND v.status IN ('ok','verified') AND v.voided_at IS NULL${pg ? ' OFFSET 0' : ''})
    ORDER BY c.unit_id, c.id LIMIT ?`, [...params, from, to, limit]);
  for (const r of rows) r.residentWorker = !!r.residentWorker;
  return rows;
}

export interface UnitStats {
  visits: VisitTotals;
  places: number;
  volunteerHours: number;
  issues: IssueCounts;
  /** Active cadres of the unit and its sub-units. */
  cadres: number;
  /** Of those, how many have at least one counted visit in the period. */
  covered: number;
  /** The first `laggardLimit` cadres without a visit, in unit order. */
  laggards: QuotaCadre[];
}

/** The numbers of /统计 for a unit with its sub-units over [from, to]; `today` bounds "overdue". */
export async function unitStats(db: Db, unit: Unit, from: string, to: string, today: string, cache: AggregateCache, laggardLimit = 10): Promise<UnitStats> {
  const scope = await unitScope(db, unit);
  // Independent reads, started together: on PostgreSQL each goes to a pooled connection of its
  // own, so the period's scans overlap the roster and the issue counts (SQLite runs them in turn).
  const [v, volunteers, roster, issues] = await Promise.all([visitSummary(db, scope, from, to), volunteerAggregate(db, scope, from, to, cache),
    scopeRoster(db, scope, cache), issueCountsForPeriod(db, unit.path, from, to, today)]);
  let volunteerHours = 0;
  for (const h of volunteers.values()) volunteerHours += h;
  const cadres = roster.counts.reduce((a, b) => a + b, 0);
  // Visits of the unit's records by cadres no longer active (or moved away) do not cover anyone.
  let covered = 0;
  for (const id of v.visitors) if (roster.bitsOf(id) >= 0) covered++;
  return {
    visits: v.totals, places: v.places, volunteerHours, issues,
    cadres, covered, laggards: covered < cadres ? await cadresWithoutVisits(db, scope, from, to, laggardLimit) : [],
  };
}

/** Unit names by id, for lists of people. */
export async function unitNames(db: Db, ids: number[]): Promise<Map<number, string>> {
  if (!ids.length) return new Map();
  const rows = await db.all<{ id: number; name: string }>(`SELECT id, name FROM units WHERE ${idsIn(db, 'id')}`, [idsParam(db, ids)]);
  return new Map(rows.map((r) => [r.id, r.name]));
}

export interface CadreNumbers {
  visits: VisitTotals;
  volunteerHours: number;
  issuesResolved: number;
}

/** One cadre's numbers over [from, to] (for /我的). */
export async function cadreNumbers(db: Db, cadreId: number, from: string, to: string, cache: AggregateCache): Promise<CadreNumbers> {
  const scope: Scope = { kind: 'cadres', ids: [cadreId] };
  return {
    visits: await sumVisits(db, scope, from, to, cache, cadreId),
    volunteerHours: (await volunteerAggregate(db, scope, from, to, cache)).get(cadreId) ?? 0,
    issuesResolved: (await resolvedAggregate(db, scope, from, to, cache)).get(cadreId) ?? 0,
  };
}

export interface CadreIssueYear {
  /** Issues this cadre registered (了解多少情况). */
  registered: number;
  /** Issues resolved as the responsible cadre (解决了多少问题). */
  resolved: number;
  /** Current ratings of this cadre's issues rated in the period. */
  satisfaction: Record<Satisfaction, number>;
}

/** The issue side of /七问 for one cadre over [from, to]. */
export async function cadreIssueYear(db: Db, cadreId: number, from: string, to: string): Promise<CadreIssueYear> {
  const registered = (await db.value<number>(`SELECT count(*) AS n FROM issues WHERE reporter_cadre_id = ? AND created_date BETWEEN ? AND ?
    AND voided_at IS NULL`, [cadreId, from, to])) ?? 0;
  const resolved = (await resolvedAggregate(db, { kind: 'cadres', ids: [cadreId] }, from, to)).get(cadreId) ?? 0;
  // A rating has no date of its own: the audit row of /评价 (or of the reopening 不满意) dates it.
  const rows = await db.all<{ s: string; n: number }>(`SELECT satisfaction AS s, count(*) AS n FROM issues i WHERE responsible_cadre_id = ? AND voided_at IS NULL
    AND satisfaction IS NOT NULL AND EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id
    AND e.action IN ('rate','reopen') AND e.date BETWEEN ? AND ?) GROUP BY satisfaction`, [cadreId, from, to]);
  const satisfaction: Record<Satisfaction, number> = { satisfied: 0, basic: 0, dissatisfied: 0 };
  for (const { s, n } of rows) if ((SATISFACTIONS as readonly string[]).includes(s)) satisfaction[s as Satisfaction] = n;
  return { registered, resolved, satisfaction };
}
