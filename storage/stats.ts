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
import { prepared } from './prepared.js';
import { issueCountsForPeriod, SATISFACTIONS, type IssueCounts, type Satisfaction } from './issues.js';
import {
  AGG_WIDTH, countedVisits, KIND_INDEX, resolvedAggregate, scopeRoster, visitAggregate, volunteerAggregate,
  type AggregateCache, type QuotaCadre, type Scope,
} from './quota-aggregates.js';
import { rootUnits, subtreeIds } from './units.js';
import { VISIT_KINDS, type Unit, type VisitKind } from './types.js';

const stmt = (db: Db, sql: string) => prepared(db, 'q:' + sql, (d) => d.$client.prepare(sql));

/** The scope of "this unit with its sub-units"; `all` when that is every unit there is. */
export function unitScope(db: Db, unit: Unit): Scope {
  if (unit.parentId == null && rootUnits(db).length === 1) return { kind: 'all' };
  return { kind: 'units', ids: subtreeIds(db, unit) };
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
export function sumVisits(db: Db, scope: Scope, from: string, to: string, cache: AggregateCache, cadreId?: number): VisitTotals {
  const agg = visitAggregate(db, scope, from, to, null, cache);
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
 * The counted visits of a scope in [from, to] in one scan: sums per kind in SQL, and the visitors
 * and places as one JSON array per kind, made distinct here — SQLite's DISTINCT costs more per
 * row than V8's parser and a Set, and a row object per visit far more.
 */
export function visitSummary(db: Db, scope: Scope, from: string, to: string): VisitSummary {
  const v = countedVisits(db, scope, from, to, null);
  const rows = stmt(db, `SELECT kind, count(*), sum(hours), sum(households), json_group_array(cadre_id), json_group_array(place)
    ${v.sql} GROUP BY kind`).raw(true).all(...v.params) as Array<[string, number, number, number, string, string]>;
  const t = new Float64Array(AGG_WIDTH);
  const visitors = new Set<number>(), places = new Set<string>();
  const other = KIND_INDEX.get('other')!;
  for (const [kind, n, hours, hh, cadres, where] of rows) {
    const k = 3 * (KIND_INDEX.get(kind) ?? other);
    t[k] += n; t[k + 1] += hours; t[k + 2] += hh;
    for (const id of JSON.parse(cadres) as number[]) visitors.add(id);
    for (const p of JSON.parse(where) as string[]) places.add(p);
  }
  return { totals: totalsOf(t), places: places.size, visitors };
}

/** Up to `limit` active cadres of the scope without a counted visit in [from, to], in unit order. */
export function cadresWithoutVisits(db: Db, scope: Scope, from: string, to: string, limit: number): QuotaCadre[] {
  if (limit <= 0) return [];
  const s = scope.kind === 'all' ? '' : ` AND c.${scope.kind === 'cadres' ? 'id' : 'unit_id'} IN (SELECT value FROM json_each(?))`;
  const params = scope.kind === 'all' ? [] : [JSON.stringify(scope.ids)];
  // Walks cadres in unit order and stops at `limit`: cheap however many cadres there are.
  const rows = stmt(db, `SELECT c.id, c.name, c.unit_id, c.rank, c.resident_worker, c.muted_until FROM cadres c
    WHERE c.active = 1${s} AND NOT EXISTS (SELECT 1 FROM visits v INDEXED BY visits_cadre
      WHERE v.cadre_id = c.id AND v.date BETWEEN ? AND ? AND v.status IN ('ok','verified') AND v.voided_at IS NULL)
    ORDER BY c.unit_id, c.id LIMIT ?`).raw(true).all(...params, from, to, limit) as unknown[][];
  return rows.map((r) => ({
    id: r[0] as number, name: r[1] as string, unitId: r[2] as number, rank: r[3] as 'leader' | 'staff',
    residentWorker: r[4] === 1, mutedUntil: r[5] as string | null,
  }));
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
export function unitStats(db: Db, unit: Unit, from: string, to: string, today: string, cache: AggregateCache, laggardLimit = 10): UnitStats {
  const scope = unitScope(db, unit);
  const v = visitSummary(db, scope, from, to);
  let volunteerHours = 0;
  for (const h of volunteerAggregate(db, scope, from, to, cache).values()) volunteerHours += h;
  const roster = scopeRoster(db, scope, cache);
  const cadres = roster.counts.reduce((a, b) => a + b, 0);
  // Visits of the unit's records by cadres no longer active (or moved away) do not cover anyone.
  let covered = 0;
  for (const id of v.visitors) if (roster.bitsOf(id) >= 0) covered++;
  return {
    visits: v.totals, places: v.places, volunteerHours,
    issues: issueCountsForPeriod(db, unit.path, from, to, today),
    cadres, covered, laggards: covered < cadres ? cadresWithoutVisits(db, scope, from, to, laggardLimit) : [],
  };
}

/** Unit names by id, for lists of people. */
export function unitNames(db: Db, ids: number[]): Map<number, string> {
  if (!ids.length) return new Map();
  const rows = stmt(db, 'SELECT id, name FROM units WHERE id IN (SELECT value FROM json_each(?))').raw(true).all(JSON.stringify(ids)) as Array<[number, string]>;
  return new Map(rows);
}

export interface CadreNumbers {
  visits: VisitTotals;
  volunteerHours: number;
  issuesResolved: number;
}

/** One cadre's numbers over [from, to] (for /我的). */
export function cadreNumbers(db: Db, cadreId: number, from: string, to: string, cache: AggregateCache): CadreNumbers {
  const scope: Scope = { kind: 'cadres', ids: [cadreId] };
  return {
    visits: sumVisits(db, scope, from, to, cache, cadreId),
    volunteerHours: volunteerAggregate(db, scope, from, to, cache).get(cadreId) ?? 0,
    issuesResolved: resolvedAggregate(db, scope, from, to, cache).get(cadreId) ?? 0,
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
export function cadreIssueYear(db: Db, cadreId: number, from: string, to: string): CadreIssueYear {
  const registered = (stmt(db, `SELECT count(*) AS n FROM issues WHERE reporter_cadre_id = ? AND created_date BETWEEN ? AND ?
    AND voided_at IS NULL`).get(cadreId, from, to) as { n: number }).n;
  const resolved = resolvedAggregate(db, { kind: 'cadres', ids: [cadreId] }, from, to).get(cadreId) ?? 0;
  // A rating has no date of its own: the audit row of /评价 (or of the reopening 不满意) dates it.
  const rows = stmt(db, `SELECT satisfaction, count(*) FROM issues i WHERE responsible_cadre_id = ? AND voided_at IS NULL
    AND satisfaction IS NOT NULL AND EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id
    AND e.action IN ('rate','reopen') AND e.date BETWEEN ? AND ?) GROUP BY satisfaction`).raw(true).all(cadreId, from, to) as Array<[string, number]>;
  const satisfaction: Record<Satisfaction, number> = { satisfied: 0, basic: 0, dissatisfied: 0 };
  for (const [s, n] of rows) if ((SATISFACTIONS as readonly string[]).includes(s)) satisfaction[s as Satisfaction] = n;
  return { registered, resolved, satisfaction };
}
