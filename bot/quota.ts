/**
 * THE quota engine (SPEC §6): for every active rule and every active cadre it applies to, the
 * rule's metric over the rule's period containing a given date, against its threshold. /我的,
 * /统计 and the reminder scheduler all use {@link evaluateQuotas} (or its streaming core
 * {@link forEachQuota}), so a number a cadre is nudged about is the number they see.
 *
 * Cost: one aggregate query per (table, period) in use — for the nine presets about six queries
 * however many cadres there are — plus one pass over cadres × rules in memory.
 */
import type { Db } from '../storage/db.js';
import {
  activeQuotaRules, cadreAttrsOf, cadreGroups, cadresInScope, IN_VILLAGE, KIND_INDEX, placeAggregate, QUOTA_METRICS, resolvedAggregate,
  visitAggregate, volunteerAggregate,
  type AggregateCache, type QuotaCadre, type QuotaFilter, type QuotaMetric, type Scope, type VisitAgg,
} from '../storage/quotas.js';
import { VISIT_KINDS, type QuotaRule, type VisitKind } from '../storage/types.js';
import { DEFAULT_TZ, localDate, periodOf, WORKDAY_HOURS, type LocalDate, type Period, type PeriodKind } from './time.js';

export type { AggregateCache, QuotaCadre, QuotaFilter, QuotaMetric, Scope };

/** A rule as the engine reads it: the filter parsed, briefings/talks as the visit kinds they are. */
export interface QuotaRuleDef {
  id: number;
  name: string;
  metric: QuotaMetric;
  filter: QuotaFilter;
  period: PeriodKind;
  threshold: number;
  preset: string | null;
  source: string | null;
}

export interface QuotaStatus {
  cadre: QuotaCadre;
  rule: QuotaRuleDef;
  period: Period;
  actual: number;
  threshold: number;
  /** threshold − actual, never below 0. */
  missing: number;
  met: boolean;
}

export interface QuotaQuery {
  /** The date whose week/month/quarter/year each rule is evaluated over (an instant is read in `tz`). */
  at: LocalDate | Date;
  tz?: string;
  /** Whose quotas: these cadres; else the active cadres of these units; else everybody. */
  cadreIds?: number[];
  unitIds?: number[];
  /** Only rules of these period kinds (the scheduler nudges per period; /统计 shows one). */
  periods?: PeriodKind[];
  ruleIds?: number[];
  /** Share aggregates between calls within one command or scheduler pass. */
  cache?: AggregateCache;
}

/** What admins type and read for each metric (/配额). */
export const METRIC_NAMES: Record<QuotaMetric, string> = {
  visit_count: '走访次数', visit_days: '走访天数', visit_hours: '走访小时', distinct_places: '走访地点数',
  households: '走访户数', volunteer_hours: '志愿小时', issues_resolved: '解决问题', briefings: '宣讲次数', talks: '谈心谈话',
};
export const METRIC_UNITS: Record<QuotaMetric, string> = {
  visit_count: '次', visit_days: '天', visit_hours: '小时', distinct_places: '处', households: '户',
  volunteer_hours: '小时', issues_resolved: '件', briefings: '次', talks: '次',
};
export const PERIOD_NAMES: Record<PeriodKind, string> = { week: '周', month: '月', quarter: '季度', year: '年' };
export const PERIOD_THIS: Record<PeriodKind, string> = { week: '本周', month: '本月', quarter: '本季度', year: '本年' };
/** Short names of visit kinds as quotas speak of them. */
export const KIND_SHORT: Record<VisitKind, string> = {
  household: '入户', village: '到村', residency: '驻村蹲点', enterprise: '走访企业',
  meeting: '调研座谈', briefing: '政策宣讲', talk: '谈心谈话', other: '其他走访',
};
const VISIT_METRICS = new Set<QuotaMetric>(['visit_count', 'visit_days', 'visit_hours', 'distinct_places', 'households', 'briefings', 'talks']);
export const isVisitMetric = (m: QuotaMetric) => VISIT_METRICS.has(m);

/** Parses a stored rule; a rule whose metric or filter no longer parses is skipped, not fatal. */
export function ruleDef(r: QuotaRule): QuotaRuleDef | null {
  if (!(QUOTA_METRICS as readonly string[]).includes(r.metric)) return null;
  let f: QuotaFilter;
  try {
    const raw = JSON.parse(r.filter) as Record<string, unknown>;
    f = {};
    if (raw.rank === 'leader' || raw.rank === 'staff') f.rank = raw.rank;
    if (raw.residentWorker === true) f.residentWorker = true;
    if (Array.isArray(raw.kinds)) {
      const ks = raw.kinds.filter((k): k is VisitKind => KIND_INDEX.has(String(k)));
      if (ks.length) f.kinds = ks;
    }
  } catch {
    return null;
  }
  return { id: r.id, name: r.name, metric: r.metric as QuotaMetric, filter: f, period: r.period, threshold: r.threshold, preset: r.preset, source: r.source };
}

/** The visit kinds a rule counts, or null for all of them. */
function kindsOf(r: QuotaRuleDef): VisitKind[] | null {
  if (r.metric === 'briefings') return ['briefing'];
  if (r.metric === 'talks') return ['talk'];
  return r.filter.kinds ?? null;
}

const appliesTo = (r: QuotaRuleDef, c: Pick<QuotaCadre, 'rank' | 'residentWorker'>) =>
  (!r.filter.rank || r.filter.rank === c.rank) && (!r.filter.residentWorker || c.residentWorker);

function scopeOf(q: QuotaQuery): Scope {
  if (q.cadreIds) return { kind: 'cadres', ids: q.cadreIds };
  if (q.unitIds) return { kind: 'units', ids: q.unitIds };
  return { kind: 'all' };
}

/** One rule's metric per cadre, and the cadres with any record at all (everyone else has 0). */
interface Reader { read(cadreId: number): number; ids(): Iterable<number> }

const fromMap = (m: Map<number, number>): Reader => ({ read: (id) => m.get(id) ?? 0, ids: () => m.keys() });

/** Builds the metric reader of one rule over one period from the (cached) aggregates. */
function readerFor(db: Db, scope: Scope, r: QuotaRuleDef, p: Period, wanted: Map<string, VisitKind[] | null>, cache: AggregateCache): Reader {
  const kinds = kindsOf(r);
  switch (r.metric) {
    case 'volunteer_hours': return fromMap(volunteerAggregate(db, scope, p.start, p.end, cache));
    case 'issues_resolved': return fromMap(resolvedAggregate(db, scope, p.start, p.end, cache));
    case 'distinct_places': return fromMap(placeAggregate(db, scope, p.start, p.end, kinds, cache));
    default: {
      // One scan per period serves every visit rule of that period: fetch the union of their kinds.
      const agg = visitAggregate(db, scope, p.start, p.end, wanted.get(p.key) ?? null, cache);
      const field = r.metric === 'visit_hours' || r.metric === 'visit_days' ? 1 : r.metric === 'households' ? 2 : 0;
      const idx = (kinds ?? VISIT_KINDS).map((k) => 3 * KIND_INDEX.get(k)! + field);
      const scale = r.metric === 'visit_days' ? 1 / WORKDAY_HOURS : 1;
      return { read: (id) => sumAt(agg, id, idx) * scale, ids: () => agg.keys() };
    }
  }
}

function sumAt(agg: VisitAgg, id: number, idx: number[]): number {
  const a = agg.get(id);
  if (!a) return 0;
  let s = 0;
  for (const i of idx) s += a[i];
  return s;
}

/** Rounds away binary noise (0.1 + 0.2) so 2 days of 8-hour records compare equal to 2. */
const tidy = (x: number) => Math.round(x * 1e6) / 1e6;

interface Plan { rules: QuotaRuleDef[]; periods: Map<number, Period>; readers: Map<number, Reader> }

/** The active rules of the query, each with its period and its metric reader. */
function plan(db: Db, q: QuotaQuery, scope: Scope, cache: AggregateCache): Plan {
  const at = typeof q.at === 'string' ? q.at : localDate(q.at, q.tz ?? DEFAULT_TZ);
  const rules = activeQuotaRules(db).map(ruleDef).filter((r): r is QuotaRuleDef => !!r)
    .filter((r) => (!q.periods || q.periods.includes(r.period)) && (!q.ruleIds || q.ruleIds.includes(r.id)));
  const periods = new Map(rules.map((r) => [r.id, periodOf(r.period, at)]));
  // The union of visit kinds per period, so each period's visits are scanned once.
  const wanted = new Map<string, VisitKind[] | null>();
  for (const r of rules) {
    if (!isVisitMetric(r.metric) || r.metric === 'distinct_places') continue;
    const key = periods.get(r.id)!.key, ks = kindsOf(r);
    const prev = wanted.has(key) ? wanted.get(key)! : [];
    wanted.set(key, prev === null || ks === null ? null : [...new Set([...prev, ...ks])]);
  }
  const readers = new Map(rules.map((r) => [r.id, readerFor(db, scope, r, periods.get(r.id)!, wanted, cache)]));
  return { rules, periods, readers };
}

/**
 * Streams every (cadre, rule) pair of the query to `fn` without building a list — the
 * scheduler's path for 100,000 cadres. Rules are visited in id order, cadres in id order.
 */
export function forEachQuota(db: Db, q: QuotaQuery, fn: (s: QuotaStatus) => void): void {
  const cache = q.cache ?? new Map();
  const scope = scopeOf(q);
  const { rules, periods, readers } = plan(db, q, scope, cache);
  if (!rules.length) return;
  const cadres = cadresInScope(db, scope, cache);
  for (const r of rules) {
    const period = periods.get(r.id)!, { read } = readers.get(r.id)!;
    for (const c of cadres) {
      if (!appliesTo(r, c)) continue;
      const actual = tidy(read(c.id));
      const missing = Math.max(0, tidy(r.threshold - actual));
      fn({ cadre: c, rule: r, period, actual, threshold: r.threshold, missing, met: missing === 0 });
    }
  }
}

/** Every (cadre, rule) pair of the query with its numbers; `onlyUnmet` keeps the ones behind. */
export function evaluateQuotas(db: Db, q: QuotaQuery & { onlyUnmet?: boolean }): QuotaStatus[] {
  const out: QuotaStatus[] = [];
  forEachQuota(db, q, (s) => { if (!q.onlyUnmet || !s.met) out.push(s); });
  return out;
}

/**
 * How many (cadre, rule) pairs are met, in all and per rule — the same arithmetic as
 * {@link forEachQuota}, but /统计 of a whole county must stay fast, so it reads totals per
 * (rank, resident worker) group and looks only at the cadres who have any record: with a
 * positive threshold nobody else can have met it.
 */
export function quotaCompletion(db: Db, q: QuotaQuery): { met: number; total: number; byRule: Map<number, { rule: QuotaRuleDef; met: number; total: number }> } {
  const cache = q.cache ?? new Map();
  const scope = scopeOf(q);
  const { rules, readers } = plan(db, q, scope, cache);
  let met = 0, total = 0;
  const byRule = new Map<number, { rule: QuotaRuleDef; met: number; total: number }>();
  if (!rules.length) return { met, total, byRule };
  const groups = cadreGroups(db, scope, cache);
  const ids = new Set<number>();
  for (const r of rules) for (const id of readers.get(r.id)!.ids()) ids.add(id);
  const attrs = cadreAttrsOf(db, scope, ids, cache);
  for (const r of rules) {
    const { read } = readers.get(r.id)!;
    let n = 0, m = 0;
    for (const g of groups) if (appliesTo(r, g)) n += g.n;
    if (r.threshold <= 0) m = n;
    else for (const c of attrs.values()) if (appliesTo(r, c) && tidy(r.threshold - tidy(read(c.id))) <= 0) m++;
    byRule.set(r.id, { rule: r, met: m, total: n });
    met += m; total += n;
  }
  return { met, total, byRule };
}

// --- words ---------------------------------------------------------------------------------

/** 1.5 → '1.5', 2 → '2', 0.3333 → '0.33'. */
export function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** '11月30日'. */
export const md = (d: LocalDate) => `${Number(d.slice(5, 7))}月${Number(d.slice(8, 10))}日`;

/** What a set of kinds is called: '到村' for the in-village set, else the kinds' short names. */
export function kindsLabel(kinds: VisitKind[] | null | undefined): string | null {
  if (!kinds?.length) return null;
  const set = new Set(kinds);
  if (set.size === IN_VILLAGE.length && IN_VILLAGE.every((k) => set.has(k))) return '到村';
  return [...set].map((k) => KIND_SHORT[k]).join('/');
}

/** '到村走访 1 次', '驻村蹲点 2 天', '志愿服务 20 小时': what `amount` of a rule's metric reads as. */
export function amountText(r: Pick<QuotaRuleDef, 'metric' | 'filter'>, amount: number): string {
  const k = kindsLabel(r.filter.kinds);
  const n = `${num(amount)} ${METRIC_UNITS[r.metric]}`;
  switch (r.metric) {
    case 'visit_count': return `${k ? (k === '到村' ? '到村走访' : k) : '走访'} ${n}`;
    case 'visit_days': return `${k ?? '下基层'} ${n}`;
    case 'visit_hours': return `${k ?? '下基层'} ${n}`;
    case 'distinct_places': return `${k ? k + '地点' : '走访地点'} ${n}`;
    case 'households': return `${k ? k + '走访' : '走访'}群众 ${n}`;
    case 'volunteer_hours': return `志愿服务 ${n}`;
    case 'issues_resolved': return `解决问题 ${n}`;
    case 'briefings': return `政策宣讲 ${n}`;
    case 'talks': return `谈心谈话 ${n}`;
  }
}

/** '领导干部' / '一般干部' / '驻村帮扶干部' / '全体干部'. */
export function whoText(f: QuotaFilter): string {
  const rank = f.rank === 'leader' ? '领导' : f.rank === 'staff' ? '一般' : '';
  if (f.residentWorker) return `${rank ? rank + '、' : ''}驻村帮扶干部`;
  return rank ? `${rank}干部` : '全体干部';
}

/** '每月 到村走访 ≥1 次'. */
export function targetText(r: Pick<QuotaRuleDef, 'metric' | 'filter' | 'period' | 'threshold'>): string {
  return `每${PERIOD_NAMES[r.period]} ${amountText(r, r.threshold).replace(/ (?=[\d.]+ \S+$)/, ' ≥')}`;
}

/** '全体干部 每月 到村走访 ≥1 次'. */
export function ruleText(r: Pick<QuotaRuleDef, 'metric' | 'filter' | 'period' | 'threshold'>): string {
  return `${whoText(r.filter)} ${targetText(r)}`;
}

/**
 * One cadre's gaps in Chinese, one clause per period, nearest deadline first:
 * `本周还差：走访企业 1 次（截至11月22日）；本月还差：到村走访 1 次、驻村蹲点 2 天（截至11月30日）`.
 * Empty when nothing is missing. The reminder scheduler sends exactly this.
 */
export function missingText(statuses: QuotaStatus[]): string {
  // Two rules on the same measure (到村 ≥2 天 for everyone, ≥10 天 for resident workers) make one
  // item: the larger gap, which closes both.
  const byPeriod = new Map<string, { p: Period; items: Map<string, QuotaStatus> }>();
  for (const s of statuses) {
    if (s.met) continue;
    let g = byPeriod.get(s.period.key);
    if (!g) byPeriod.set(s.period.key, (g = { p: s.period, items: new Map() }));
    const measure = `${s.rule.metric}|${(kindsOf(s.rule) ?? []).slice().sort().join(',')}`;
    const prev = g.items.get(measure);
    if (!prev || prev.missing < s.missing) g.items.set(measure, s);
  }
  return [...byPeriod.values()].sort((a, b) => (a.p.end < b.p.end ? -1 : a.p.end > b.p.end ? 1 : 0))
    .map((g) => `${PERIOD_THIS[g.p.kind]}还差：${[...g.items.values()].map((s) => amountText(s.rule, s.missing)).join('、')}（截至${md(g.p.end)}）`)
    .join('；');
}
