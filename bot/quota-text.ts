/**
 * How quotas read in Chinese: metric and period names, a rule's target ('每月 到村走访 ≥1 次'),
 * and {@link missingText}, the gaps a cadre is nudged about.
 */
import { IN_VILLAGE, type QuotaFilter, type QuotaMetric } from '../storage/quotas.js';
import type { VisitKind } from '../storage/types.js';
import type { QuotaRuleDef, QuotaStatus } from './quota.js';
import type { LocalDate, Period, PeriodKind } from './time.js';

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

/** The visit kinds a rule counts, or null for all of them. */
export function kindsOf(r: QuotaRuleDef): VisitKind[] | null {
  if (r.metric === 'briefings') return ['briefing'];
  if (r.metric === 'talks') return ['talk'];
  return r.filter.kinds ?? null;
}

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

/** What a rule's metric is called before its amount: '到村走访', '驻村蹲点', '志愿服务'. */
function measureName(r: Pick<QuotaRuleDef, 'metric' | 'filter'>): string {
  const k = kindsLabel(r.filter.kinds);
  switch (r.metric) {
    case 'visit_count': return k ? (k === '到村' ? '到村走访' : k) : '走访';
    case 'visit_days': return k ?? '下基层';
    case 'visit_hours': return k ?? '下基层';
    case 'distinct_places': return k ? k + '地点' : '走访地点';
    case 'households': return `${k ? k + '走访' : '走访'}群众`;
    case 'volunteer_hours': return '志愿服务';
    case 'issues_resolved': return '解决问题';
    case 'briefings': return '政策宣讲';
    case 'talks': return '谈心谈话';
  }
}

/** '到村走访 1 次', '驻村蹲点 2 天', '志愿服务 20 小时': what `amount` of a rule's metric reads as. */
export function amountText(r: Pick<QuotaRuleDef, 'metric' | 'filter'>, amount: number): string {
  return `${measureName(r)} ${num(amount)} ${METRIC_UNITS[r.metric]}`;
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
 * What {@link missingText} says about a rule, worked out once per rule object: the scheduler
 * calls it for every cadre behind, the engine hands out the same rule objects for a whole pass,
 * and most cadres lack the same few amounts ('到村走访 1 次').
 */
interface GapWords { measure: string; items: Map<number, string> }
const gapWords = new WeakMap<QuotaRuleDef, GapWords>();
function gapWordsOf(r: QuotaRuleDef): GapWords {
  let w = gapWords.get(r);
  if (!w) gapWords.set(r, (w = { measure: `${r.metric}|${(kindsOf(r) ?? []).slice().sort().join(',')}`, items: new Map() }));
  return w;
}
function gapItem(w: GapWords, s: QuotaStatus): string {
  let t = w.items.get(s.missing);
  if (t === undefined) w.items.set(s.missing, (t = amountText(s.rule, s.missing)));
  return t;
}
/** '本月还差：', '（截至11月30日）' per period object. */
const periodWords = new WeakMap<Period, [string, string]>();
function periodWordsOf(p: Period): [string, string] {
  let w = periodWords.get(p);
  if (!w) periodWords.set(p, (w = [`${PERIOD_THIS[p.kind]}还差：`, `（截至${md(p.end)}）`]));
  return w;
}

/**
 * One cadre's gaps in Chinese, one clause per period, nearest deadline first:
 * `本周还差：走访企业 1 次（截至11月22日）；本月还差：到村走访 1 次、驻村蹲点 2 天（截至11月30日）`.
 * Empty when nothing is missing. The reminder scheduler sends exactly this.
 */
export function missingText(statuses: QuotaStatus[]): string {
  // Two rules on the same measure (到村 ≥2 天 for everyone, ≥10 天 for resident workers) make one
  // item: the larger gap, which closes both. A cadre has a handful of statuses, so plain arrays
  // searched from the start do better than maps.
  const groups: Array<{ p: Period; words: GapWords[]; items: QuotaStatus[] }> = [];
  for (const s of statuses) {
    if (s.met) continue;
    let g = null;
    for (const x of groups) if (x.p.key === s.period.key) { g = x; break; }
    if (!g) groups.push((g = { p: s.period, words: [], items: [] }));
    const w = gapWordsOf(s.rule);
    let j = g.words.indexOf(w);
    // Rules on the same measure have equal measure strings but their own words.
    if (j < 0) for (let k = 0; k < g.words.length; k++) if (g.words[k].measure === w.measure) { j = k; break; }
    if (j < 0) { g.words.push(w); g.items.push(s); } else if (g.items[j].missing < s.missing) { g.words[j] = w; g.items[j] = s; }
  }
  if (groups.length > 1) groups.sort((a, b) => (a.p.end < b.p.end ? -1 : a.p.end > b.p.end ? 1 : 0));
  let out = '';
  for (const g of groups) {
    const [head, tail] = periodWordsOf(g.p);
    let items = gapItem(g.words[0], g.items[0]);
    for (let i = 1; i < g.items.length; i++) items += '、' + gapItem(g.words[i], g.items[i]);
    out += (out ? '；' : '') + head + items + tail;
  }
  return out;
}
