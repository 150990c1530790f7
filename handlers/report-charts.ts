/**
 * The charts (docs/rules.md#statistics-and-exports), as PNG files: visits per week of a unit over 12 weeks, the sub-units
 * compared on the month's quota completion, and issues raised vs resolved per month. Like the
 * exports they need no chat context, so the weekly digest can attach them too.
 *
 * Decisions: a unit's visits are the counted ones made in it and its sub-units (as /统计); days
 * are hours ÷ 8. Quota completion is, per sub-unit, the share of (cadre × monthly rule) pairs met
 * — the figure /统计 gives; cadres placed directly in the unit itself form a bar "（本级）". At
 * most {@link MAX_UNITS} units are drawn (the weakest first, they are the ones to act on).
 */
import { writeFile } from 'node:fs/promises';
import { renderChartPng } from '../bot/chart.js';
import { forEachQuota } from '../bot/quota.js';
import { num } from '../bot/quota-text.js';
import { formatDate, periodOf, shiftPeriod, WORKDAY_HOURS, type LocalDate, type Period } from '../bot/time.js';
import { issuesPerMonth, scopePath, visitsPerDate } from '../storage/reports.js';
import { unitScope } from '../storage/stats.js';
import { unitPathsUnder } from '../storage/report-units.js';
import { childUnits } from '../storage/units.js';
import { reportFile, type ExportInput } from './report-files.js';

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 540;
export const CHART_SCALE = 2;
const WEEKS = 12;
const MONTHS = 12;
const MAX_UNITS = 30;

export const T = {
  visitsTitle: (unit: string) => `${unit} 近${WEEKS}周走访情况（含下级单位）`,
  visitsSub: (from: LocalDate, to: LocalDate) => `${formatDate(from)}至${formatDate(to)}`,
  visitsCount: '走访次数',
  visitsDays: '走访天数',
  visitsSummary: (unit: string, n: number, days: number, best: string, bestN: number) =>
    `${unit} 近${WEEKS}周共走访 ${n} 次、${num(days)} 天${n ? `；最多的一周是 ${best}（${bestN} 次）` : ''}。`,
  quotaTitle: (unit: string, p: Period) => `${unit} ${p.label} 配额完成率`,
  quotaSub: '按月考核的配额，已完成的（人×规则）所占比例',
  quotaNone: (p: Period) => `${p.label} 没有按月考核的配额`,
  quotaAxis: '完成率（%）',
  own: (unit: string) => `${unit}（本级）`,
  quotaSummary: (unit: string, p: Period, met: number, total: number, shown: number, all: number) =>
    total ? `${unit} ${p.label} 配额完成 ${met}/${total}（${Math.round((met / total) * 100)}%）；图中比较 ${shown} 个单位${all > shown ? `（共 ${all} 个，列出完成率最低的 ${shown} 个）` : ''}。`
      : `${unit} ${p.label} 没有按月考核的配额，图中无可比较的数据。`,
  issuesTitle: (unit: string) => `${unit} 近${MONTHS}个月问题登记与办结（含下级单位）`,
  raised: '新登记',
  resolved: '办结',
  issuesSummary: (unit: string, raised: number, resolved: number) => `${unit} 近${MONTHS}个月登记问题 ${raised} 件、办结 ${resolved} 件。`,
};

/** What a chart is about: an export's input, less what only files have. */
export type ChartInput = Omit<ExportInput, 'fullPhones' | 'format'>;

export interface ChartResult { file: string; summary: string; width: number; height: number }

const PALETTE = ['#3b6fd8', '#f0883e', '#2da44e', '#cf222e'];

async function save(o: ChartInput, what: string, key: string, option: object, height = CHART_HEIGHT): Promise<{ file: string; width: number; height: number }> {
  const png = await renderChartPng({ color: PALETTE, ...option }, { width: CHART_WIDTH, height, scale: CHART_SCALE }, o.log);
  const file = reportFile(o.dir, what, o.unit.name, key, o.now, o.tz, 'png');
  await writeFile(file, png);
  return { file, width: CHART_WIDTH * CHART_SCALE, height: height * CHART_SCALE };
}

/** Value labels on bars, left off for zeros so an empty week does not read as a row of noughts. */
const barLabel = { show: true, position: 'top', formatter: (p: { value: number }) => (p.value ? String(p.value) : '') };

const title = (text: string, subtext?: string) => ({ text, subtext, left: 'center', top: 12, textStyle: { fontSize: 20 }, subtextStyle: { fontSize: 13 } });

/** Visits per week over the 12 weeks ending with the week of `end`. */
export async function visitsChart(o: ChartInput, end: LocalDate = o.today): Promise<ChartResult> {
  const last = periodOf('week', end);
  const weeks = Array.from({ length: WEEKS }, (_, k) => shiftPeriod(last, k - WEEKS + 1));
  const counts = weeks.map(() => 0), hours = weeks.map(() => 0);
  for (const r of await visitsPerDate(o.db, await scopePath(o.db, o.unit), weeks[0].start, last.end)) {
    const k = weeks.findIndex((w) => r.date >= w.start && r.date <= w.end);
    if (k >= 0) { counts[k] += r.n; hours[k] += r.hours; }
  }
  const labels = weeks.map((w) => `${Number(w.start.slice(5, 7))}/${Number(w.start.slice(8, 10))}`);
  const saved = await save(o, '走访趋势', last.key, {
    title: title(T.visitsTitle(o.unit.name), T.visitsSub(weeks[0].start, last.end)),
    legend: { top: 68, data: [T.visitsCount, T.visitsDays] },
    grid: { left: 64, right: 64, top: 110, bottom: 56 },
    xAxis: { type: 'category', data: labels, name: '周（起始日）', nameLocation: 'middle', nameGap: 32 },
    yAxis: [{ type: 'value', name: '次数', minInterval: 1 }, { type: 'value', name: '天数', splitLine: { show: false } }],
    series: [
      { name: T.visitsCount, type: 'bar', data: counts, label: barLabel, barMaxWidth: 40 },
      { name: T.visitsDays, type: 'line', yAxisIndex: 1, data: hours.map((h) => Math.round((h / WORKDAY_HOURS) * 10) / 10), symbolSize: 8 },
    ],
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const best = counts.indexOf(Math.max(...counts));
  return { ...saved, summary: T.visitsSummary(o.unit.name, total, hours.reduce((a, b) => a + b, 0) / WORKDAY_HOURS, weeks[best].label, counts[best]) };
}

/** The sub-units of `unit` compared on the share of monthly quotas met in `month`. */
export async function quotaChart(o: ChartInput, month: Period = periodOf('month', o.today)): Promise<ChartResult> {
  const children = await childUnits(o.db, o.unit);
  const barOf = new Map<number, { name: string; met: number; total: number }>();
  const own = { name: T.own(o.unit.name), met: 0, total: 0 };
  for (const c of children) barOf.set(c.id, { name: c.name, met: 0, total: 0 });
  // The child a unit belongs to is the first id of its path below the unit's own path.
  const childOfPath = (path: string) => Number(path.slice(o.unit.path.length).split('/')[0]);
  const unitPaths = await unitPathsUnder(o.db, o.unit.path);
  const scope = await unitScope(o.db, o.unit);
  let met = 0, total = 0;
  await forEachQuota(o.db, { at: month.start, periods: ['month'], ...(scope.kind === 'units' ? { unitIds: scope.ids } : {}) }, (s) => {
    const path = unitPaths.get(s.cadre.unitId);
    if (path === undefined) return;
    const bar = (path === o.unit.path ? own : barOf.get(childOfPath(path))) ?? own;
    bar.total++; total++;
    if (s.met) { bar.met++; met++; }
  });
  const bars = [...(own.total || !children.length ? [own] : []), ...barOf.values()]
    .map((b) => ({ ...b, pct: b.total ? Math.round((b.met / b.total) * 1000) / 10 : 0 }));
  const shown = bars.sort((a, b) => a.pct - b.pct || a.name.localeCompare(b.name, 'zh')).slice(0, MAX_UNITS).reverse();
  const height = Math.max(CHART_HEIGHT, 150 + 30 * shown.length);
  const saved = await save(o, '配额完成率', month.key, {
    title: title(T.quotaTitle(o.unit.name, month), total ? T.quotaSub : T.quotaNone(month)),
    grid: { left: 24, right: 110, top: 90, bottom: 48, containLabel: true },
    xAxis: { type: 'value', min: 0, max: 100, name: T.quotaAxis, nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'category', data: shown.map((b) => b.name).reverse(), axisLabel: { fontSize: 13 } },
    series: [{
      type: 'bar', barMaxWidth: 28,
      data: shown.map((b) => ({ value: b.pct, itemStyle: { color: b.pct >= 80 ? '#2da44e' : b.pct >= 50 ? '#f0883e' : '#cf222e' } })).reverse(),
      label: { show: true, position: 'right', formatter: (p: { dataIndex: number }) => {
        const b = shown[shown.length - 1 - p.dataIndex];
        return b.total ? `${b.pct}%（${b.met}/${b.total}）` : '无配额';
      } },
    }],
  }, height);
  return { ...saved, summary: T.quotaSummary(o.unit.name, month, met, total, shown.length, bars.length) };
}

/** Issues raised and resolved per month over the 12 months ending with `endMonth`. */
export async function issuesChart(o: ChartInput, endMonth: Period = periodOf('month', o.today)): Promise<ChartResult> {
  const last = periodOf('month', endMonth.start);
  const months = Array.from({ length: MONTHS }, (_, k) => shiftPeriod(last, k - MONTHS + 1));
  const { raised, resolved } = await issuesPerMonth(o.db, o.unit.path, months[0].start, last.end);
  const labels = months.map((m, k) => (k === 0 || m.key.endsWith('-01') ? m.label : `${Number(m.key.slice(5))}月`));
  const r = months.map((m) => raised.get(m.key) ?? 0), d = months.map((m) => resolved.get(m.key) ?? 0);
  const saved = await save(o, '问题登记与办结', last.key, {
    title: title(T.issuesTitle(o.unit.name), T.visitsSub(months[0].start, last.end)),
    legend: { top: 68, data: [T.raised, T.resolved] },
    grid: { left: 64, right: 40, top: 110, bottom: 48 },
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, fontSize: 12 } },
    yAxis: { type: 'value', name: '件数', minInterval: 1 },
    series: [
      { name: T.raised, type: 'bar', data: r, label: barLabel, barMaxWidth: 28 },
      { name: T.resolved, type: 'bar', data: d, label: barLabel, barMaxWidth: 28 },
    ],
  });
  return { ...saved, summary: T.issuesSummary(o.unit.name, r.reduce((a, b) => a + b, 0), d.reduce((a, b) => a + b, 0)) };
}
