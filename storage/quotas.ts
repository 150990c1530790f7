/**
 * Quota rules are data (docs/rules.md#quotas): the rules table and the preset set from the seeds. The
 * per-cadre aggregates the quota engine (bot/quota.ts) evaluates them against are in
 * quota-aggregates.ts.
 */
import type { Db } from './db.js';
import { quotaRules } from './schema.js';
import { insertRow, rowOf, rowsOf, updateRows } from './rows.js';
import type { QuotaRule, VisitKind } from './types.js';

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

/** "In the village" work: a household visit there is village work too (到村开展工作, docs/rules.md#in-the-village). */
export const IN_VILLAGE: VisitKind[] = ['village', 'residency', 'household'];

/**
 * The documents the presets come from, by their own titles (the documents' headings, listed in
 * docs/rules.md#sources; 联户联情's is given in simplified characters). A deployment installs the set or sets it follows, so a county working
 * to the 联户联情 plan is not nudged about an industrial park's weekly hours. `no` and `short` are
 * what an administrator types (`/配额 预设 1`, `/配额 预设 联户联情`).
 */
export const PRESET_SETS = [
  { key: 'lianhu-lianqing', no: 1, short: '联户联情', title: '文旅局“联户联情”工作方案' },
  { key: 'zou-jiceng', no: 2, short: '走基层', title: '走基层制度化常态化实施意见' },
  { key: 'changleshan', no: 3, short: '长乐山工业园区', title: '长乐山工业园区关于开展党员干部下基层察民情解民忧暖民心实践活动实施方案' },
] as const;
export type PresetSetKey = (typeof PRESET_SETS)[number]['key'];
export type PresetSet = (typeof PRESET_SETS)[number];
export const ALL_PRESET_SETS: readonly PresetSetKey[] = PRESET_SETS.map((s) => s.key);

export interface PresetRule extends NewQuotaRule { preset: string; set: PresetSetKey; clause: string }

/** The nine rows of docs/rules.md#quota-presets, each with its document and the clause in it; a row with two thresholds is two rules. */
export const PRESET_RULES: ReadonlyArray<PresetRule> = ([
  { preset: 'monthly-village-visit', name: '每月到村开展工作', metric: 'visit_count', filter: { kinds: IN_VILLAGE }, period: 'month', threshold: 1, set: 'lianhu-lianqing', clause: '三' },
  { preset: 'monthly-village-days', name: '每月到村工作天数', metric: 'visit_days', filter: { kinds: IN_VILLAGE }, period: 'month', threshold: 2, set: 'lianhu-lianqing', clause: '三' },
  { preset: 'resident-monthly-days', name: '驻村帮扶干部每月在村天数', metric: 'visit_days', filter: { residentWorker: true, kinds: IN_VILLAGE }, period: 'month', threshold: 10, set: 'zou-jiceng', clause: '二（2）' },
  { preset: 'monthly-residency-days', name: '每月驻村蹲点', metric: 'visit_days', filter: { kinds: ['residency'] }, period: 'month', threshold: 2, set: 'lianhu-lianqing', clause: '五（一）' },
  { preset: 'yearly-volunteer-hours', name: '每年志愿服务', metric: 'volunteer_hours', filter: {}, period: 'year', threshold: 20, set: 'zou-jiceng', clause: '二（4）' },
  { preset: 'leader-weekly-field-day', name: '领导每周实地走访', metric: 'visit_days', filter: { rank: 'leader' }, period: 'week', threshold: 1, set: 'changleshan', clause: '三（一）' },
  { preset: 'leader-weekly-issue', name: '领导每周解决问题', metric: 'issues_resolved', filter: { rank: 'leader' }, period: 'week', threshold: 1, set: 'changleshan', clause: '三（一）' },
  { preset: 'leader-weekly-enterprise', name: '领导每周联系服务企业', metric: 'visit_count', filter: { rank: 'leader', kinds: ['enterprise'] }, period: 'week', threshold: 1, set: 'changleshan', clause: '三（一）' },
  { preset: 'staff-weekly-hours', name: '一般干部每周下基层', metric: 'visit_hours', filter: { rank: 'staff' }, period: 'week', threshold: 20, set: 'changleshan', clause: '三（一）' },
  { preset: 'leader-yearly-issues', name: '领导每年为联系户解决问题', metric: 'issues_resolved', filter: { rank: 'leader' }, period: 'year', threshold: 2, set: 'lianhu-lianqing', clause: '四（三）' },
  { preset: 'staff-yearly-issues', name: '一般干部每年为联系户解决问题', metric: 'issues_resolved', filter: { rank: 'staff' }, period: 'year', threshold: 1, set: 'lianhu-lianqing', clause: '四（三）' },
  { preset: 'leader-yearly-briefings', name: '领导每年到联系户宣讲', metric: 'briefings', filter: { rank: 'leader' }, period: 'year', threshold: 4, set: 'lianhu-lianqing', clause: '四（五）' },
  { preset: 'staff-yearly-briefings', name: '一般干部每年到联系户宣讲', metric: 'briefings', filter: { rank: 'staff' }, period: 'year', threshold: 2, set: 'lianhu-lianqing', clause: '四（五）' },
  { preset: 'leader-yearly-talks', name: '领导每年谈心谈话', metric: 'talks', filter: { rank: 'leader' }, period: 'year', threshold: 4, set: 'lianhu-lianqing', clause: '四（十）' },
] satisfies Array<Omit<PresetRule, 'source'>>).map((p) => ({ ...p, source: presetSource(p.set, p.clause) }));

/** `《文旅局“联户联情”工作方案》四（三）`: what a rule's source says to the people it nudges. */
export function presetSource(set: PresetSetKey, clause: string): string {
  return `《${PRESET_SETS.find((s) => s.key === set)!.title}》${clause}`;
}

export const presetRule = (preset: string | null): PresetRule | undefined =>
  preset ? PRESET_RULES.find((p) => p.preset === preset) : undefined;

/**
 * Installs the presets of the given documents: missing ones are added, existing ones get the
 * seed's definition back and are switched on. Rules of other documents are left as they are.
 * Running it twice changes nothing. (Not a transaction of its own: a caller that needs all or
 * nothing runs it in `withWrite`.)
 */
export async function installPresets(db: Db, at: number, sets: readonly PresetSetKey[]): Promise<{ added: number; updated: number }> {
  let added = 0, updated = 0;
  for (const p of PRESET_RULES) {
    if (!sets.includes(p.set)) continue;
    const values = { name: p.name, metric: p.metric, filter: JSON.stringify(p.filter), period: p.period, threshold: p.threshold, source: p.source ?? null, active: true };
    const old = await rowOf(db, quotaRules, 'WHERE preset = ?', [p.preset]);
    if (!old) {
      await insertRow(db, quotaRules, { ...values, preset: p.preset, createdAt: at });
      added++;
    } else if (old.name !== values.name || old.metric !== values.metric || old.filter !== values.filter || old.period !== values.period
      || old.threshold !== values.threshold || old.source !== values.source || !old.active) {
      await updateRows(db, quotaRules, values, 'id = ?', [old.id]);
      updated++;
    }
  }
  return { added, updated };
}

export function allQuotaRules(db: Db): Promise<QuotaRule[]> {
  return rowsOf(db, quotaRules, 'ORDER BY id');
}

export function activeQuotaRules(db: Db): Promise<QuotaRule[]> {
  return rowsOf(db, quotaRules, 'WHERE active = TRUE ORDER BY id');
}

export function quotaRuleById(db: Db, id: number): Promise<QuotaRule | undefined> {
  return rowOf(db, quotaRules, 'WHERE id = ?', [id]);
}

export async function insertQuotaRule(db: Db, r: NewQuotaRule, at: number): Promise<QuotaRule> {
  const id = await insertRow(db, quotaRules, {
    name: r.name, metric: r.metric, filter: JSON.stringify(r.filter), period: r.period, threshold: r.threshold,
    active: r.active ?? true, preset: r.preset ?? null, source: r.source ?? null, createdAt: at,
  }, 'RETURNING id');
  return (await quotaRuleById(db, id))!;
}

export async function setQuotaRuleActive(db: Db, id: number, active: boolean): Promise<void> {
  await updateRows(db, quotaRules, { active }, 'id = ?', [id]);
}
