/**
 * THE quota engine (docs/rules.md#quotas): for every active rule and every active cadre it applies to, the
 * rule's metric over the rule's period containing a given date, against its threshold. /我的,
 * /统计 and the reminder scheduler all use {@link evaluateQuotas} (or its streaming core
 * {@link forEachQuota}), so a number a cadre is nudged about is the number they see.
 *
 * Cost: one aggregate query per (table, period) in use — for the nine presets about six queries
 * however many cadres there are — plus one pass over cadres × rules in memory, which builds an
 * object only for the pairs the caller asked for.
 */
import type { Db } from '../storage/db.js';
import {
  cadresInScope, KIND_INDEX, LEADER, placeAggregate, RESIDENT, resolvedAggregate, scopeRoster, visitAggregate, volunteerAggregate,
  type AggregateCache, type QuotaCadre, type Scope, type VisitAgg,
} from '../storage/quota-aggregates.js';
import { activeQuotaRules, QUOTA_METRICS, type QuotaFilter, type QuotaMetric } from '../storage/quotas.js';
import { VISIT_KINDS, type QuotaRule, type VisitKind } from '../storage/types.js';
import { kindsOf } from './quota-text.js';
import { DEFAULT_TZ, localDate, periodOf, WORKDAY_HOURS, type LocalDate, type Period, type PeriodKind } from './time.js';

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
  /** Only the pairs not met: the met ones are not even built (the scheduler wants the gaps). */
  onlyUnmet?: boolean;
}

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

/** Whether a rule applies to a cadre, from the LEADER/RESIDENT bits of a roster snapshot. */
const appliesToBits = (r: QuotaRuleDef, bits: number) =>
  (!r.filter.rank || (r.filter.rank === 'leader') === ((bits & LEADER) !== 0)) && (!r.filter.residentWorker || (bits & RESIDENT) !== 0);

function scopeOf(q: QuotaQuery): Scope {
  if (q.cadreIds) return { kind: 'cadres', ids: q.cadreIds };
  if (q.unitIds) return { kind: 'units', ids: q.unitIds };
  return { kind: 'all' };
}

/**
 * Where one rule's metric comes from: the sum of some slots of a visit aggregate (times a scale),
 * or a per-cadre map. Anybody absent has 0.
 */
type Source = { agg: VisitAgg; slots: number[]; scale: number } | { map: Map<number, number> };

function read(src: Source, id: number): number {
  if ('map' in src) return src.map.get(id) ?? 0;
  const o = src.agg.at.get(id);
  if (o === undefined) return 0;
  let s = 0;
  for (const i of src.slots) s += src.agg.data[o + i];
  return s * src.scale;
}

const idsOf = (src: Source): Iterable<number> => ('map' in src ? src.map.keys() : src.agg.at.keys());

/** Builds the metric source of one rule over one period from the (cached) aggregates. */
async function sourceFor(db: Db, scope: Scope, r: QuotaRuleDef, p: Period, wanted: Map<string, VisitKind[] | null>, cache: AggregateCache): Promise<Source> {
  const kinds = kindsOf(r);
  switch (r.metric) {
    case 'volunteer_hours': return { map: await volunteerAggregate(db, scope, p.start, p.end, cache) };
    case 'issues_resolved': return { map: await resolvedAggregate(db, scope, p.start, p.end, cache) };
    case 'distinct_places': return { map: await placeAggregate(db, scope, p.start, p.end, kinds, cache) };
    default: {
      // One scan per period serves every visit rule of that period: fetch the union of their kinds.
      const agg = await visitAggregate(db, scope, p.start, p.end, wanted.get(p.key) ?? null, cache);
      const field = r.metric === 'visit_hours' || r.metric === 'visit_days' ? 1 : r.metric === 'households' ? 2 : 0;
      const slots = (kinds ?? VISIT_KINDS).map((k) => 3 * KIND_INDEX.get(k)! + field);
      return { agg, slots, scale: r.metric === 'visit_days' ? 1 / WORKDAY_HOURS : 1 };
    }
  }
}

/** Rounds away binary noise (0.1 + 0.2) so 2 days of 8-hour records compare equal to 2. */
const tidy = (x: number) => Math.round(x * 1e6) / 1e6;

interface Plan { rules: QuotaRuleDef[]; periods: Map<PeriodKind, Period>; sources: Map<number, Source> }

/** The active rules of the query, each with its period and its metric source. */
async function plan(db: Db, q: QuotaQuery, scope: Scope, cache: AggregateCache): Promise<Plan> {
  const at = typeof q.at === 'string' ? q.at : localDate(q.at, q.tz ?? DEFAULT_TZ);
  const rules = (await activeQuotaRules(db)).map(ruleDef).filter((r): r is QuotaRuleDef => !!r)
    .filter((r) => (!q.periods || q.periods.includes(r.period)) && (!q.ruleIds || q.ruleIds.includes(r.id)));
  // One Period object per kind, shared by every status of that kind.
  const periods = new Map<PeriodKind, Period>();
  for (const r of rules) if (!periods.has(r.period)) periods.set(r.period, periodOf(r.period, at));
  // The union of visit kinds per period, so each period's visits are scanned once.
  const wanted = new Map<string, VisitKind[] | null>();
  for (const r of rules) {
    if (!isVisitMetric(r.metric) || r.metric === 'distinct_places') continue;
    const key = periods.get(r.period)!.key, ks = kindsOf(r);
    const prev = wanted.has(key) ? wanted.get(key)! : [];
    wanted.set(key, prev === null || ks === null ? null : [...new Set([...prev, ...ks])]);
  }
  // One after the other: the rules of a period share its scans through the cache.
  const sources = new Map<number, Source>();
  for (const r of rules) sources.set(r.id, await sourceFor(db, scope, r, periods.get(r.period)!, wanted, cache));
  return { rules, periods, sources };
}

/** One rule's metric for every cadre of `cadres`, by position. */
function fillValues(out: Float64Array, src: Source, cadres: QuotaCadre[], offsets: Map<VisitAgg, Int32Array>): void {
  if ('map' in src) {
    for (let i = 0; i < cadres.length; i++) out[i] = src.map.get(cadres[i].id) ?? 0;
    return;
  }
  const { agg, slots, scale } = src;
  // Where each cadre's numbers are, looked up once per aggregate rather than once per rule.
  let at = offsets.get(agg);
  if (!at) {
    offsets.set(agg, (at = new Int32Array(cadres.length)));
    for (let i = 0; i < cadres.length; i++) at[i] = agg.at.get(cadres[i].id) ?? -1;
  }
  for (let i = 0; i < cadres.length; i++) {
    const o = at[i];
    if (o < 0) { out[i] = 0; continue; }
    let s = 0;
    for (let j = 0; j < slots.length; j++) s += agg.data[o + slots[j]];
    out[i] = s * scale;
  }
}

/**
 * Streams every (cadre, rule) pair of the query to `fn` without building a list — the
 * scheduler's path for 100,000 cadres. Rules are visited in id order, cadres in id order.
 * With `onlyUnmet`, met pairs are skipped before any object is made for them. Every query is
 * made before the first pair; `fn` is called synchronously and not awaited.
 */
export async function forEachQuota(db: Db, q: QuotaQuery, fn: (s: QuotaStatus) => void): Promise<void> {
  const cache = q.cache ?? new Map();
  const scope = scopeOf(q);
  const { rules, periods, sources } = await plan(db, q, scope, cache);
  if (!rules.length) return;
  const cadres = await cadresInScope(db, scope, cache);
  const values = new Float64Array(cadres.length);
  const offsets = new Map<VisitAgg, Int32Array>();
  const onlyUnmet = q.onlyUnmet === true;
  for (const r of rules) {
    const period = periods.get(r.period)!, threshold = r.threshold;
    // The filter read once per rule: filters come in several shapes, and a property read that
    // sees many shapes is slow in the loop below.
    const rank = r.filter.rank, residentOnly = r.filter.residentWorker === true;
    fillValues(values, sources.get(r.id)!, cadres, offsets);
    for (let i = 0; i < cadres.length; i++) {
      const c = cadres[i];
      if ((rank && rank !== c.rank) || (residentOnly && !c.residentWorker)) continue;
      const actual = tidy(values[i]);
      const missing = Math.max(0, tidy(threshold - actual));
      if (missing === 0 && onlyUnmet) continue;
      fn({ cadre: c, rule: r, period, actual, threshold, missing, met: missing === 0 });
    }
  }
}

/** Every (cadre, rule) pair of the query with its numbers; `onlyUnmet` keeps the ones behind. */
export async function evaluateQuotas(db: Db, q: QuotaQuery): Promise<QuotaStatus[]> {
  const out: QuotaStatus[] = [];
  await forEachQuota(db, q, (s) => out.push(s));
  return out;
}

/**
 * How many (cadre, rule) pairs are met, in all and per rule — the same arithmetic as
 * {@link forEachQuota}, but /统计 of a whole county must stay fast, so it counts cadres per
 * (rank, resident worker) from the roster snapshot and looks only at the cadres who have any
 * record: unless the threshold rounds to 0, nobody else can have met it.
 */
export async function quotaCompletion(db: Db, q: QuotaQuery): Promise<{ met: number; total: number; byRule: Map<number, { rule: QuotaRuleDef; met: number; total: number }> }> {
  const cache = q.cache ?? new Map();
  const scope = scopeOf(q);
  const { rules, sources } = await plan(db, q, scope, cache);
  let met = 0, total = 0;
  const byRule = new Map<number, { rule: QuotaRuleDef; met: number; total: number }>();
  if (!rules.length) return { met, total, byRule };
  const roster = await scopeRoster(db, scope, cache);
  for (const r of rules) {
    const src = sources.get(r.id)!;
    let n = 0, m = 0;
    for (let bits = 0; bits < roster.counts.length; bits++) if (appliesToBits(r, bits)) n += roster.counts[bits];
    if (tidy(r.threshold) <= 0) m = n;
    else {
      for (const id of idsOf(src)) {
        const bits = roster.bitsOf(id);
        if (bits >= 0 && appliesToBits(r, bits) && tidy(r.threshold - tidy(read(src, id))) <= 0) m++;
      }
    }
    byRule.set(r.id, { rule: r, met: m, total: n });
    met += m; total += n;
  }
  return { met, total, byRule };
}
