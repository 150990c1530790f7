/**
 * Quota rules are data (SPEC §6): the rules table, the preset set from the seeds, and the
 * per-cadre aggregates the quota engine (bot/quota.ts) evaluates them against.
 *
 * The aggregates are built for 100,000 cadres: one GROUP BY query per (table, period) — never one
 * query per cadre — read in raw row mode, and cached per evaluation so /统计 and the engine share
 * one scan of a period's visits.
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from './db.js';
import { prepared } from './prepared.js';
import { quotaRules } from './schema.js';
import { VISIT_KINDS, type QuotaRule, type VisitKind } from './types.js';

export const QUOTA_METRICS = [
  'visit_count', 'visit_days', 'visit_hours', 'distinct_places', 'households',
  'volunteer_hours', 'issues_resolved', 'briefings', 'talks',
] as const;
export type QuotaMetric = (typeof QUOTA_METRICS)[number];
export type QuotaPeriodKind = QuotaRule['period'];

export interface QuotaFilter {
  rank?: 'leader' | 'staff';
  residentWorker?: true;
  /** Narrows the visit metrics to these kinds. */
  kinds?: VisitKind[];
}

export interface NewQuotaRule {
  name: string;
  metric: QuotaMetric;
  filter: QuotaFilter;
  period: QuotaPeriodKind;
  threshold: number;
  preset?: string | null;
  source?: string | null;
  active?: boolean;
}

/** "In the village" work: a household visit there is village work too (004 §3 到村开展工作). */
export const IN_VILLAGE: VisitKind[] = ['village', 'residency', 'household'];

/** The preset set: the nine rows of SPEC §6; a row with two thresholds is two rules. */
export const PRESET_RULES: ReadonlyArray<NewQuotaRule & { preset: string }> = [
  { preset: 'monthly-village-visit', name: '每月到村开展工作', metric: 'visit_count', filter: { kinds: IN_VILLAGE }, period: 'month', threshold: 1, source: '004 §3' },
  { preset: 'monthly-village-days', name: '每月到村工作天数', metric: 'visit_days', filter: { kinds: IN_VILLAGE }, period: 'month', threshold: 2, source: '004 §3' },
  { preset: 'resident-monthly-days', name: '驻村帮扶干部每月在村天数', metric: 'visit_days', filter: { residentWorker: true, kinds: IN_VILLAGE }, period: 'month', threshold: 10, source: '002 §2' },
  { preset: 'monthly-residency-days', name: '每月驻村蹲点', metric: 'visit_days', filter: { kinds: ['residency'] }, period: 'month', threshold: 2, source: '004 §5(一)' },
  { preset: 'yearly-volunteer-hours', name: '每年志愿服务', metric: 'volunteer_hours', filter: {}, period: 'year', threshold: 20, source: '002 §4' },
  { preset: 'leader-weekly-field-day', name: '领导每周实地走访', metric: 'visit_days', filter: { rank: 'leader' }, period: 'week', threshold: 1, source: '003 §3(一)' },
  { preset: 'leader-weekly-issue', name: '领导每周解决问题', metric: 'issues_resolved', filter: { rank: 'leader' }, period: 'week', threshold: 1, source: '003 §3(一)' },
  { preset: 'leader-weekly-enterprise', name: '领导每周联系服务企业', metric: 'visit_count', filter: { rank: 'leader', kinds: ['enterprise'] }, period: 'week', threshold: 1, source: '003 §3(一)' },
  { preset: 'staff-weekly-hours', name: '一般干部每周下基层', metric: 'visit_hours', filter: { rank: 'staff' }, period: 'week', threshold: 20, source: '003 §3(一)' },
  { preset: 'leader-yearly-issues', name: '领导每年为联系户解决问题', metric: 'issues_resolved', filter: { rank: 'leader' }, period: 'year', threshold: 2, source: '004 §4(三)' },
  { preset: 'staff-yearly-issues', name: '一般干部每年为联系户解决问题', metric: 'issues_resolved', filter: { rank: 'staff' }, period: 'year', threshold: 1, source: '004 §4(三)' },
  { preset: 'leader-yearly-briefings', name: '领导每年到联系户宣讲', metric: 'briefings', filter: { rank: 'leader' }, period: 'year', threshold: 4, source: '004 §4(五)' },
  { preset: 'staff-yearly-briefings', name: '一般干部每年到联系户宣讲', metric: 'briefings', filter: { rank: 'staff' }, period: 'year', threshold: 2, source: '004 §4(五)' },
  { preset: 'leader-yearly-talks', name: '领导每年谈心谈话', metric: 'talks', filter: { rank: 'leader' }, period: 'year', threshold: 4, source: '004 §4(十)' },
];

/**
 * Installs the preset set: missing presets are added, existing ones get the seed's definition
 * back and are switched on. Running it twice changes nothing.
 */
export function installPresets(db: Db, at: number): { added: number; updated: number } {
  let added = 0, updated = 0;
  for (const p of PRESET_RULES) {
    const values = { name: p.name, metric: p.metric, filter: JSON.stringify(p.filter), period: p.period, threshold: p.threshold, source: p.source ?? null, active: true };
    const old = db.select().from(quotaRules).where(eq(quotaRules.preset, p.preset)).get();
    if (!old) {
      db.insert(quotaRules).values({ ...values, preset: p.preset, createdAt: at }).run();
      added++;
    } else if (old.name !== values.name || old.metric !== values.metric || old.filter !== values.filter || old.period !== values.period
      || old.threshold !== values.threshold || old.source !== values.source || !old.active) {
      db.update(quotaRules).set(values).where(eq(quotaRules.id, old.id)).run();
      updated++;
    }
  }
  return { added, updated };
}

export function allQuotaRules(db: Db): QuotaRule[] {
  return db.select().from(quotaRules).orderBy(asc(quotaRules.id)).all();
}

export function activeQuotaRules(db: Db): QuotaRule[] {
  return db.select().from(quotaRules).where(eq(quotaRules.active, true)).orderBy(asc(quotaRules.id)).all();
}

export function quotaRuleById(db: Db, id: number): QuotaRule | undefined {
  return db.select().from(quotaRules).where(eq(quotaRules.id, id)).get();
}

export function insertQuotaRule(db: Db, r: NewQuotaRule, at: number): QuotaRule {
  return db.insert(quotaRules).values({
    name: r.name, metric: r.metric, filter: JSON.stringify(r.filter), period: r.period, threshold: r.threshold,
    active: r.active ?? true, preset: r.preset ?? null, source: r.source ?? null, createdAt: at,
  }).returning().get();
}

export function setQuotaRuleActive(db: Db, id: number, active: boolean): void {
  db.update(quotaRules).set({ active }).where(eq(quotaRules.id, id)).run();
}

// --- aggregates -----------------------------------------------------------------------------

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
/** Per cadre, per visit kind (VISIT_KINDS order): [count, hours, households] at [3k, 3k+1, 3k+2]. */
export type VisitAgg = Map<number, Float64Array>;
export const AGG_WIDTH = VISIT_KINDS.length * 3;

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

const cadreScope = (scope: Scope) => scopeSql(scope, 'id', 'unit_id');

/** Active cadres of the scope, in id order. */
export function cadresInScope(db: Db, scope: Scope, cache?: AggregateCache): QuotaCadre[] {
  return memo(cache, 'cadres|' + scopeKey(scope), () => {
    const s = cadreScope(scope);
    const rows = stmt(db, `SELECT id, name, unit_id, rank, resident_worker, muted_until FROM cadres
      WHERE active = 1${s.sql}`).raw(true).all(...s.params) as unknown[][];
    return rows.map((r) => ({
      id: r[0] as number, name: r[1] as string, unitId: r[2] as number, rank: r[3] as 'leader' | 'staff',
      residentWorker: r[4] === 1, mutedUntil: r[5] as string | null,
    }));
  });
}

/** What rule filters look at. */
export type CadreAttrs = Pick<QuotaCadre, 'id' | 'rank' | 'residentWorker'>;

/** Active cadres of the scope counted per (rank, resident worker): totals without reading every cadre. */
export function cadreGroups(db: Db, scope: Scope, cache?: AggregateCache): Array<{ rank: 'leader' | 'staff'; residentWorker: boolean; n: number }> {
  return memo(cache, 'groups|' + scopeKey(scope), () => {
    const s = cadreScope(scope);
    const rows = stmt(db, `SELECT rank, resident_worker, count(*) FROM cadres WHERE active = 1${s.sql} GROUP BY rank, resident_worker`)
      .raw(true).all(...s.params) as Array<['leader' | 'staff', number, number]>;
    return rows.map(([rank, rw, n]) => ({ rank, residentWorker: rw === 1, n }));
  });
}

/**
 * The filter attributes of those of `ids` who are active cadres of the scope. With a cache,
 * cadres already looked up are not asked for again.
 */
export function cadreAttrsOf(db: Db, scope: Scope, ids: Iterable<number>, cache?: AggregateCache): Map<number, CadreAttrs> {
  const memoKey = 'attrsOf|' + scopeKey(scope);
  const known = (cache?.get(memoKey) as { found: Map<number, CadreAttrs>; asked: Set<number> } | undefined)
    ?? { found: new Map<number, CadreAttrs>(), asked: new Set<number>() };
  cache?.set(memoKey, known);
  const all = [...ids];
  const missing = all.filter((id) => !known.asked.has(id));
  if (missing.length) {
    const s = cadreScope(scope);
    const rows = stmt(db, `SELECT id, rank, resident_worker FROM cadres WHERE id IN (SELECT value FROM json_each(?)) AND active = 1${s.sql}`)
      .raw(true).all(JSON.stringify(missing), ...s.params) as Array<[number, 'leader' | 'staff', number]>;
    for (const id of missing) known.asked.add(id);
    for (const [id, rank, rw] of rows) known.found.set(id, { id, rank, residentWorker: rw === 1 });
  }
  const out = new Map<number, CadreAttrs>();
  for (const id of all) { const a = known.found.get(id); if (a) out.set(id, a); }
  return out;
}

/**
 * How a visit scan picks its index. Few cadres: their (cadre_id, date) index. Many: `visits_date`
 * — which lacks `voided_at` and `households`, so every matching row is also read from the table.
 * A partial covering index of counted visits makes these scans index-only; once a migration adds
 * one named `visits_counted`, e.g. `(kind, date, unit_id, cadre_id, hours, households, place)
 * WHERE status IN ('ok','verified') AND voided_at IS NULL`, the planner is left to choose it
 * (our WHERE clauses imply its condition) and the kinds are always listed so that a kind-first
 * column order can seek per kind.
 */
function hasCountedIndex(db: Db): boolean {
  return prepared(db, 'hasCountedIndex', (d) =>
    !!d.$client.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visits' AND name = 'visits_counted'`).get());
}
export function visitIndexFor(db: Db, scope: Scope): string {
  if (scope.kind === 'cadres' && scope.ids.length <= MANY) return 'INDEXED BY visits_cadre';
  return hasCountedIndex(db) ? '' : 'INDEXED BY visits_date';
}
/** The kinds to put in a scan's WHERE: null (no filter) unless an index can seek by kind. */
export function kindsForScan(db: Db, kinds: VisitKind[] | null): VisitKind[] | null {
  return kinds ?? (hasCountedIndex(db) ? [...VISIT_KINDS] : null);
}

/**
 * Counted visits per cadre and kind in [from, to]. `kinds` narrows the scan (null: every kind);
 * an all-kinds aggregate already in the cache serves any narrower request.
 */
export function visitAggregate(db: Db, scope: Scope, from: string, to: string, kinds: VisitKind[] | null, cache?: AggregateCache): VisitAgg {
  const base = `visits|${scopeKey(scope)}|${from}|${to}|`;
  if (cache?.has(base + '*')) return cache.get(base + '*') as VisitAgg;
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, base + (ks ? ks.join(',') : '*'), () => {
    const s = scopeSql(scope, 'cadre_id', 'unit_id');
    const index = visitIndexFor(db, scope), scan = kindsForScan(db, ks);
    const kindSql = scan ? ` AND kind IN (SELECT value FROM json_each(?))` : '';
    const params = [from, to, ...s.params, ...(scan ? [JSON.stringify(scan)] : [])];
    const rows = stmt(db, `SELECT cadre_id, kind, count(*), sum(hours), sum(households) FROM visits ${index}
      WHERE date BETWEEN ? AND ?${s.sql}${kindSql} AND ${COUNTED} GROUP BY cadre_id, kind`).raw(true).all(...params) as number[][];
    const out: VisitAgg = new Map();
    for (const [cadre, kind, n, hours, hh] of rows as unknown as Array<[number, string, number, number, number]>) {
      const k = KIND_INDEX.get(kind) ?? KIND_INDEX.get('other')!;
      let a = out.get(cadre);
      if (!a) out.set(cadre, (a = new Float64Array(AGG_WIDTH)));
      a[3 * k] += n; a[3 * k + 1] += hours; a[3 * k + 2] += hh;
    }
    return out;
  });
}

/** Distinct places visited per cadre in [from, to] (only when a rule asks for it). */
export function placeAggregate(db: Db, scope: Scope, from: string, to: string, kinds: VisitKind[] | null, cache?: AggregateCache): Map<number, number> {
  const ks = kinds ? [...new Set(kinds)].sort() : null;
  return memo(cache, `places|${scopeKey(scope)}|${from}|${to}|${ks ? ks.join(',') : '*'}`, () => {
    const s = scopeSql(scope, 'cadre_id', 'unit_id');
    const index = visitIndexFor(db, scope), scan = kindsForScan(db, ks);
    const kindSql = scan ? ` AND kind IN (SELECT value FROM json_each(?))` : '';
    const rows = stmt(db, `SELECT cadre_id, count(DISTINCT place) FROM visits ${index}
      WHERE date BETWEEN ? AND ?${s.sql}${kindSql} AND ${COUNTED} GROUP BY cadre_id`)
      .raw(true).all(from, to, ...s.params, ...(scan ? [JSON.stringify(scan)] : [])) as Array<[number, number]>;
    return new Map(rows);
  });
}

/** Counted volunteer hours per cadre in [from, to]. */
export function volunteerAggregate(db: Db, scope: Scope, from: string, to: string, cache?: AggregateCache): Map<number, number> {
  return memo(cache, `volunteers|${scopeKey(scope)}|${from}|${to}`, () => {
    const s = scopeSql(scope, 'cadre_id', 'unit_id');
    const index = scope.kind === 'cadres' && scope.ids.length <= MANY ? 'volunteers_cadre' : 'volunteers_date';
    const rows = stmt(db, `SELECT cadre_id, sum(hours) FROM volunteers INDEXED BY ${index}
      WHERE date BETWEEN ? AND ?${s.sql} AND ${COUNTED} GROUP BY cadre_id`).raw(true).all(from, to, ...s.params) as Array<[number, number]>;
    return new Map(rows);
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
    const rows = stmt(db, `SELECT responsible_cadre_id, count(*) FROM issues
      WHERE state IN ('resolved','closed') AND resolved_date BETWEEN ? AND ?${s.sql} AND voided_at IS NULL
      GROUP BY responsible_cadre_id`).raw(true).all(from, to, ...s.params) as Array<[number, number]>;
    return new Map(rows);
  });
}
