/**
 * 时间、空间、人员三个全覆盖 ("确保年底前实现时间、空间、人员三个全覆盖", docs/rules.md#coverage):
 * who has not visited this month (人员), which contact points nobody reached this campaign
 * (空间), and the months of the campaign in which some cadre made no visit (时间).
 *
 * Decisions: the campaign is the current calendar year (the seeds' campaigns run to the year's
 * end); a month counts towards 时间 once it is over — the running month is the 人员 list. A cadre
 * counts for a month only if on the roster by the end of it, so a roster imported in November
 * does not make January a gap. A visit covers a contact point when it names the point
 * (visits.contact_point_id) or its place is the point's name; a visit anywhere counts for a cadre.
 */
import { addDays, formatDate, periodOf, shiftPeriod, startOfLocalDay, type LocalDate, type Period } from '../bot/time.js';
import { md } from '../bot/quota-text.js';
import type { Db } from '../storage/db.js';
import { activeCadresUnder, cadresWhoVisited, contactPointCoverage, type CoverageCadre, type CoveragePoint } from '../storage/coverage.js';
import { scopePath } from '../storage/reports.js';
import type { Unit } from '../storage/types.js';
import { reportFile, writeReport, type ExportInput, type ExportResult } from './report-files.js';

const NAMES = 20;
const MONTH_LINES = 12;

const pct = (a: number, b: number) => (b ? `${Math.round((a / b) * 100)}%` : '—');
const names = (xs: string[], unit: string) => (xs.length > NAMES ? `${xs.slice(0, NAMES).join('、')} 等 ${xs.length} ${unit}` : xs.join('、'));
const who = (c: CoverageCadre) => `${c.name}（${c.unit}）`;

const KIND_NAMES: Record<string, string> = { village: '村/社区', enterprise: '企业', project: '重点项目', household: '联系户' };

export const T = {
  title: (unit: string, year: Period, today: LocalDate) => `${unit}（含下级单位）三个全覆盖 · ${year.label}（截至${md(today)}）`,
  people: (visited: number, total: number) => `人员全覆盖：本月 ${total} 名干部中 ${visited} 名已走访（${pct(visited, total)}）。`,
  noCadres: '人员全覆盖：本单位还没有在册干部。',
  peopleMissing: (xs: CoverageCadre[]) => `  本月尚未走访（${xs.length} 人）：${names(xs.map(who), '人')}`,
  // Names kept out of a group (bot/names.ts): the count, and where the list can be read.
  peopleMissingCount: (n: number) => `  本月尚未走访 ${n} 人（群内不显示干部姓名；名单请私聊我发送 /统计 覆盖 查看）。`,
  peopleAll: '  本月人人都有走访。',
  space: (visited: number, total: number) => `空间全覆盖：联系点 ${total} 个中 ${visited} 个本年已走访（${pct(visited, total)}）。`,
  noPoints: '空间全覆盖：还没有登记联系点（用 /联系户 登记联系户时，会记下其所在的村、社区）。',
  spaceMissing: (xs: CoveragePoint[], cadres = true) => `  尚未走访的联系点（${xs.length} 个）：${names(xs.map((p) => `${p.name}（${p.unit}${cadres && p.cadre ? '·' + p.cadre : ''}）`), '个')}`,
  spaceAll: '  每个联系点都已走访。',
  time: (ok: number, total: number) => `时间全覆盖：已过完的 ${total} 个月中 ${ok} 个月人人有走访（${pct(ok, total)}）。`,
  noMonths: '时间全覆盖：本年还没有已过完、且有干部在册的月份。',
  gaps: (xs: MonthGap[]) => `  有断档的月份：${xs.slice(0, MONTH_LINES).map((m) => `${m.period.label.slice(5)}（${m.missing.length}/${m.total} 人未走访）`).join('、')}`,
  noGaps: '  没有断档的月份。',
  more: (unit: string) => `完整名单：/导出 覆盖 ${unit}`,
  fileTitle: (unit: string, what: string, year: Period, today: LocalDate) => `${unit}三个全覆盖 · ${what}（${year.label}，截至${formatDate(today)}）`,
  rank: (r: string) => (r === 'leader' ? '领导干部' : '一般干部'),
};

export interface MonthGap { period: Period; total: number; missing: CoverageCadre[] }

export interface Coverage {
  unit: Unit;
  campaign: Period;
  month: Period;
  today: LocalDate;
  cadres: number;
  notVisited: CoverageCadre[];
  points: CoveragePoint[];
  /** Completed months of the campaign with at least one cadre on the roster. */
  months: MonthGap[];
}

export async function computeCoverage(db: Db, unit: Unit, today: LocalDate, tz: string): Promise<Coverage> {
  const campaign = periodOf('year', today);
  const month = periodOf('month', today);
  const path = await scopePath(db, unit);
  const cadres = await activeCadresUnder(db, unit.path);
  const now = await cadresWhoVisited(db, path, month.start, today);
  const months: MonthGap[] = [];
  for (let m = periodOf('month', campaign.start); m.start < month.start; m = shiftPeriod(m, 1)) {
    const rosterBy = startOfLocalDay(addDays(m.end, 1), tz).getTime();
    const due = cadres.filter((c) => c.createdAt < rosterBy);
    if (!due.length) continue;
    const visited = await cadresWhoVisited(db, path, m.start, m.end);
    months.push({ period: m, total: due.length, missing: due.filter((c) => !visited.has(c.id)) });
  }
  return {
    unit, campaign, month, today, cadres: cadres.length, notVisited: cadres.filter((c) => !now.has(c.id)),
    points: await contactPointCoverage(db, unit.path, campaign.start, today), months,
  };
}

/** `names`: false where the text goes to a group that may not see cadres' names (bot/names.ts). */
export function coverageText(c: Coverage, names = true): string {
  const lines = [T.title(c.unit.name, c.campaign, c.today)];
  const missing = names ? T.peopleMissing(c.notVisited) : T.peopleMissingCount(c.notVisited.length);
  if (!c.cadres) lines.push(T.noCadres);
  else lines.push(T.people(c.cadres - c.notVisited.length, c.cadres), c.notVisited.length ? missing : T.peopleAll);
  const missed = c.points.filter((p) => !p.visited);
  if (!c.points.length) lines.push(T.noPoints);
  else lines.push(T.space(c.points.length - missed.length, c.points.length), missed.length ? T.spaceMissing(missed, names) : T.spaceAll);
  const gaps = c.months.filter((m) => m.missing.length);
  if (!c.months.length) lines.push(T.noMonths);
  else lines.push(T.time(c.months.length - gaps.length, c.months.length), gaps.length ? T.gaps(gaps) : T.noGaps);
  if (c.notVisited.length > NAMES || missed.length > NAMES || gaps.length) lines.push(T.more(c.unit.name));
  return lines.join('\n');
}

/** The coverage workbook: who has not visited this month, points not reached, months, gaps in detail. */
export async function exportCoverage(o: ExportInput, c: Coverage): Promise<ExportResult> {
  const file = reportFile(o.dir, '三个全覆盖', o.unit.name, c.today, o.now, o.tz, 'xlsx');
  const title = (what: string) => T.fileTitle(o.unit.name, what, c.campaign, c.today);
  return writeReport({ ...o, format: 'xlsx' }, file, async (w) => {
    await w.table({ sheet: '本月未走访干部', title: title(`${c.month.label}尚未走访的干部`), columns: [
      { header: '序号', width: 6 }, { header: '姓名', width: 12 }, { header: '单位', width: 16 }, { header: '职级', width: 10 }] });
    let n = 0;
    for (const x of c.notVisited) await w.row([++n, x.name, x.unit, T.rank(x.rank)]);
    await w.table({ sheet: '未走访联系点', title: title('尚未走访的联系点'), columns: [
      { header: '序号', width: 6 }, { header: '联系点', width: 20 }, { header: '类型', width: 10 }, { header: '单位', width: 16 },
      { header: '联系干部', width: 12 }] });
    n = 0;
    for (const p of c.points) if (!p.visited) await w.row([++n, p.name, KIND_NAMES[p.kind] ?? p.kind, p.unit, p.cadre]);
    await w.table({ sheet: '月度覆盖', title: title('各月人员覆盖'), columns: [
      { header: '月份', width: 12 }, { header: '在册干部', width: 10, kind: 'number' }, { header: '有走访', width: 10, kind: 'number' },
      { header: '未走访', width: 10, kind: 'number' }, { header: '覆盖率', width: 10 }] });
    for (const m of c.months) await w.row([m.period.label, m.total, m.total - m.missing.length, m.missing.length, pct(m.total - m.missing.length, m.total)]);
    await w.table({ sheet: '断档明细', title: title('断档月份中未走访的干部'), columns: [
      { header: '月份', width: 12 }, { header: '姓名', width: 12 }, { header: '单位', width: 16 }, { header: '职级', width: 10 }] });
    for (const m of c.months) for (const x of m.missing) await w.row([m.period.label, x.name, x.unit, T.rank(x.rank)]);
  });
}
