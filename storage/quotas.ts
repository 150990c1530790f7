/**
 * Quota rules are data (SPEC §6): the rules table and the preset set from the seeds. The
 * per-cadre aggregates the quota engine (bot/quota.ts) evaluates them against are in
 * quota-aggregates.ts.
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from './db.js';
import { quotaRules } from './schema.js';
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
