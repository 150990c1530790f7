/**
 * Reports people forward (docs/rules.md#statistics-and-exports): /导出 sends a spreadsheet, /图表 a chart image; the
 * coverage text (三个全覆盖) for /统计 覆盖. The exported functions are what /清单 导出,
 * /台账 导出 and /统计 覆盖|图 call.
 *
 * Decisions: these are read commands (files are written, the database is not). Citizens' phone
 * numbers appear in full only in a file sent to a lead of the unit in a direct chat; everywhere
 * else every mobile number in the file is masked. /导出 日志 without a unit or person is the
 * sender's own 工作日志; with a unit it is the unit's, with @某人 that person's (themselves, or a
 * lead of their unit). The period defaults to this month; the 台账 and 民情表 are as of today.
 */
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, cadreRefArg, customArg, optional, textArg, withKeys, type ArgDef, unitNameArg, periodArg as sharedPeriodArg } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { parsePeriod, periodOf, type Period } from '../bot/time.js';
import { z } from 'zod';
import { basename } from 'node:path';
import { unitByName } from '../storage/units.js';
import type { Unit } from '../storage/types.js';
import { leads, namesHere, requireView, resolveCadre, resolveUnit, unitOf, type CadreRefTexts } from './policy.js';
import { exportDir, exportHouseholds, exportLedger, exportLists, exportLog, type ExportInput, type ExportResult } from './report-files.js';
import { issuesChart, quotaChart, visitsChart, type ChartInput, type ChartResult } from './report-charts.js';
import { computeCoverage, coverageText, exportCoverage } from './coverage.js';

type Kind = 'lists' | 'ledger' | 'households' | 'log' | 'coverage';
type ChartKind = 'visits' | 'quota' | 'issues';

const KIND_WORDS: Record<string, Kind> = {
  清单: 'lists', 三个清单: 'lists', 三单: 'lists', 实事清单: 'lists', 民生实事清单: 'lists', lists: 'lists',
  台账: 'ledger', 问题台账: 'ledger', ledger: 'ledger',
  民情表: 'households', 民情记录表: 'households', 联系户: 'households', households: 'households',
  日志: 'log', 工作日志: 'log', 走访日志: 'log', log: 'log',
  覆盖: 'coverage', 全覆盖: 'coverage', 三个全覆盖: 'coverage', coverage: 'coverage',
};
const KIND_LABELS: Record<Kind, string> = {
  lists: '民生实事清单和三个清单', ledger: '问题台账', households: '民情记录表', log: '工作日志', coverage: '三个全覆盖名单',
};
const CHART_WORDS: Record<string, ChartKind> = {
  走访: 'visits', 走访趋势: 'visits', visits: 'visits',
  配额: 'quota', 完成率: 'quota', 配额完成率: 'quota', quota: 'quota',
  问题: 'issues', 民情: 'issues', 办结: 'issues', issues: 'issues',
};
const FORMAT_WORDS: Record<string, 'xlsx' | 'csv'> = { excel: 'xlsx', xlsx: 'xlsx', 表格: 'xlsx', csv: 'csv' };
const CSV_KINDS: Kind[] = ['households', 'log'];

const EXPORT_EXAMPLE = '/导出 台账 石门镇';
const CHART_EXAMPLE = '/图表 走访 石门镇';

const T = {
  exported: (what: string, unit: string, scope: string, rows: number, file: string) =>
    `已导出${unit}${what}${scope}，共 ${rows} 行${rows ? '' : '（本期无数据，文件中已注明）'}：${file}`,
  masked: '（文件中的手机号已隐去中间四位；领导在私聊中导出可见完整号码）',
  unknownUnit: (name: string, example: string) => `没有名为「${name}」的单位。请写名册中的单位全称，例如 ${example}`,
  badPeriod: (s: string, example: string) => `「${s}」不是能识别的月份或时段。请写 本月、上月、本周、本季、本年、10月 或 2026-10，例如 ${example} 10月`,
  future: (p: Period, example: string) => `${p.label} 还没有开始，没有可导出的数据。请写本月或已过去的时段，例如 ${example} 上月`,
  csvOnly: (what: string) => `${what}有多张表，只能导出为 Excel。CSV 格式可用于：/导出 民情表 csv、/导出 日志 csv`,
  noCadre: (ref: string) => `名册中没有「${ref}」。请写名册中的姓名，例如 /导出 日志 @张三 本月；同名时写 @张三（石门镇）`,
  manyCadres: (ref: string, opts: string[]) => `名册中有 ${opts.length} 位「${ref}」：${opts.join('、')}。请写明单位，例如 /导出 日志 @${opts[0]}`,
  manyCadresHidden: '名册中有多位同名干部，群内不显示干部姓名和单位。请改写其 11 位手机号，例如 /导出 日志 @手机号 本月，或私聊我导出。',
  notTheirLead: (name: string) => `只有${name}本人或其所在单位的领导可以导出${name}的工作日志。您可以导出自己的：/导出 日志 本月`,
  sentDirect: (what: string) => `${what}已私信发给您（文件含干部姓名，群内不发送）。`,
  cadreOnlyLog: '指定干部（@某人）只用于导出工作日志，例如 /导出 日志 @张三 本月',
};

const periodArg: ArgDef<Period> = sharedPeriodArg('时段', ['月份', '期间', 'period', 'month'], '本月、上月、本周、本季、本年、10月、2026-10（省略为本月）');
const unitArg = () => optional(withKeys(unitNameArg('单位', '单位名称，如 石门镇；省略为本群或本人所在单位'), 'unit'));

/** A named unit (or the group's / sender's) that the sender may view; a mistyped month is told as one. */
async function unitFor(ctx: Ctx, name: string | undefined, example: string): Promise<Unit> {
  if (name && !(await unitByName(ctx.db, name.trim()))) {
    if (/(月|周|季|年)份?$|^\d{4}[-./]|^\d{1,2}$/.test(name.trim())) throw new UserError(T.badPeriod(name, example));
    throw new UserError(T.unknownUnit(name, example));
  }
  const unit = await resolveUnit(ctx, name);
  await requireView(ctx, unit);
  return unit;
}

function periodFor(ctx: Ctx, p: Period | undefined, example: string): Period {
  const period = p ?? periodOf('month', ctx.today);
  if (period.start > ctx.today) throw new UserError(T.future(period, example));
  return period;
}

async function asUnit(ctx: Ctx, u: Unit | string | undefined, example: string): Promise<Unit> {
  if (typeof u !== 'object') return unitFor(ctx, u, example);
  await requireView(ctx, u);
  return u;
}

async function input(ctx: Ctx, unit: Unit, format?: 'xlsx' | 'csv'): Promise<ExportInput> {
  return {
    db: ctx.db, dir: exportDir(ctx.deps.config), tz: ctx.tz, now: ctx.now, today: ctx.today, unit, format, log: ctx.log,
    fullPhones: ctx.event.direct && (await leads(ctx, unit)),
  };
}

function fileReply(ctx: Ctx, o: ExportInput, r: ExportResult, what: string, scope: string, subject = o.unit.name): Reply | Reply[] {
  const text = T.exported(what, subject, scope, r.rows, basename(r.file)) + (o.fullPhones ? '' : '\n' + T.masked);
  if (namesHere(ctx)) return toChat(text, { file: r.file });
  // Every export names cadres (责任人, 联系干部, 姓名): where a group may not see names
  // (bot/names.ts) the file goes to the one who asked, by direct message.
  return [toCadre(ctx.cadre.id, text, { file: r.file }), toChat(T.sentDirect(what))];
}

/** `/清单 导出`: the 民生实事清单 and the three lists of a unit for a month, as one workbook. */
export async function exportListsReply(ctx: Ctx, unit?: Unit | string, month?: Period): Promise<Reply | Reply[]> {
  const u = await asUnit(ctx, unit, '/清单 导出 石门镇');
  const p = periodFor(ctx, month, '/清单 导出');
  const o = await input(ctx, u);
  return fileReply(ctx, o, await exportLists(o, p), KIND_LABELS.lists, `（${p.label}）`);
}

/** `/台账 导出`: the unit's ledger with every issue's history. */
export async function exportLedgerReply(ctx: Ctx, unit?: Unit | string): Promise<Reply | Reply[]> {
  const u = await asUnit(ctx, unit, '/台账 导出 石门镇');
  const o = await input(ctx, u);
  return fileReply(ctx, o, await exportLedger(o), KIND_LABELS.ledger, '');
}

/** `/统计 覆盖 [单位]`: the three coverages as text. */
export async function coverageReply(ctx: Ctx, unit?: Unit | string): Promise<string> {
  const u = await asUnit(ctx, unit, '/统计 覆盖 石门镇');
  return coverageText(await computeCoverage(ctx.db, u, ctx.today, ctx.tz), namesHere(ctx));
}

/** resolveCadre's refusals for `/导出 日志 @干部`. */
const LOG_CADRE_TEXTS: CadreRefTexts = {
  unknown: (ref) => T.noCadre(ref),
  ambiguous: (ref, _name, options) => T.manyCadres(ref, options),
  hidden: T.manyCadresHidden,
};

async function exportLogReply(ctx: Ctx, unitName: string | undefined, cadreRef: string | undefined, p: Period, format?: 'xlsx' | 'csv'): Promise<Reply | Reply[]> {
  const scope = `（${p.label}）`;
  if (unitName && !cadreRef) {
    const o = await input(ctx, await unitFor(ctx, unitName, '/导出 日志 石门镇'), format);
    return fileReply(ctx, o, await exportLog(o, p), KIND_LABELS.log, scope);
  }
  const cadre = cadreRef ? await resolveCadre(ctx, cadreRef, LOG_CADRE_TEXTS) : ctx.cadre;
  const unit = await unitOf(ctx, cadre);
  if (cadre.id !== ctx.cadre.id && !(await leads(ctx, unit))) throw new UserError(T.notTheirLead(cadre.name));
  const o = await input(ctx, unit, format);
  return fileReply(ctx, o, await exportLog(o, p, cadre), KIND_LABELS.log, scope, cadre.name);
}

export const exportCommand = defineCommand({
  name: '导出', aliases: ['export', '导出表格'], group: 'query', mode: 'read',
  summary: '导出 Excel：清单、台账、民情表、工作日志、三个全覆盖名单',
  args: {
    kind: choiceArg('内容', KIND_WORDS, '清单（民生实事清单和三个清单）、台账、民情表、日志 或 覆盖'),
    unit: unitArg(),
    period: optional(periodArg),
    cadre: optional(withKeys(cadreRefArg('干部'), '人', 'cadre')),
    format: optional(withKeys(choiceArg('格式', FORMAT_WORDS, 'excel 或 csv（csv 仅用于民情表、日志）'), 'format')),
  },
  examples: ['/导出 清单 本月', '/导出 台账 石门镇', '/导出 民情表', '/导出 日志 @张三 上月', '/导出 日志 石门镇 10月 csv', '/导出 覆盖'],
  notes: ['单位省略为本群对应的单位，私聊时为您所在的单位；时段省略为本月。', '日志不写单位和人时导出您自己的工作日志。',
    '群聊中导出的文件隐去群众手机号中间四位；领导在私聊中导出可见完整号码。'],
  async handle(ctx, a) {
    const example = `/导出 ${Object.keys(KIND_WORDS).find((k) => KIND_WORDS[k] === a.kind)}`;
    if (a.cadre && a.kind !== 'log') throw new UserError(T.cadreOnlyLog);
    if (a.format === 'csv' && !CSV_KINDS.includes(a.kind)) throw new UserError(T.csvOnly(KIND_LABELS[a.kind]));
    if (a.kind === 'log') return exportLogReply(ctx, a.unit, a.cadre, periodFor(ctx, a.period, example), a.format);
    const unit = await unitFor(ctx, a.unit, `${example} 石门镇`);
    if (a.kind === 'lists') return exportListsReply(ctx, unit, periodFor(ctx, a.period, example));
    if (a.kind === 'ledger') return exportLedgerReply(ctx, unit);
    const o = await input(ctx, unit, a.format);
    // Households are seen by their own cadre and the unit's leads only (handlers/households.ts).
    if (a.kind === 'households') return fileReply(ctx, o, await exportHouseholds(o, (await leads(ctx, unit)) ? undefined : ctx.cadre.id), KIND_LABELS.households, '');
    const c = await computeCoverage(ctx.db, unit, ctx.today, ctx.tz);
    return fileReply(ctx, o, await exportCoverage(o, c), KIND_LABELS.coverage, `（${c.campaign.label}）`);
  },
});

async function chartReply(ctx: Ctx, unit: Unit, kind: ChartKind, p?: Period): Promise<Reply> {
  const o: ChartInput = { db: ctx.db, dir: exportDir(ctx.deps.config), tz: ctx.tz, now: ctx.now, today: ctx.today, unit, log: ctx.log };
  const end = p && p.end < ctx.today ? p.end : ctx.today;
  const r: ChartResult = kind === 'visits' ? await visitsChart(o, end)
    : kind === 'quota' ? await quotaChart(o, periodOf('month', end)) : await issuesChart(o, periodOf('month', end));
  return toChat(r.summary, { image: r.file });
}

/** `/统计 图 [单位]`: the three charts of the unit, one image each. */
export async function chartsReply(ctx: Ctx, unit?: Unit | string, period?: Period): Promise<Reply[]> {
  const u = await asUnit(ctx, unit, '/统计 图 石门镇');
  if (period) periodFor(ctx, period, '/统计 图');
  const out: Reply[] = [];
  for (const k of ['visits', 'quota', 'issues'] as const) out.push(await chartReply(ctx, u, k, period));
  return out;
}

export const chartCommand = defineCommand({
  name: '图表', aliases: ['chart', 'charts'], group: 'query', mode: 'read',
  summary: '图表：近12周走访、下级单位配额完成率、近12个月问题登记与办结',
  args: {
    kind: optional(choiceArg('图表', CHART_WORDS, '走访、配额 或 问题（省略为全部三张）')),
    unit: unitArg(),
    period: optional(periodArg),
  },
  examples: ['/图表', CHART_EXAMPLE, '/图表 配额 上月', '/图表 问题 示范县'],
  notes: ['走访：截至所选时段的近12周；配额：所选月份各下级单位的完成率；问题：截至所选月份的近12个月。'],
  async handle(ctx, a) {
    const unit = await unitFor(ctx, a.unit, CHART_EXAMPLE);
    if (a.period) periodFor(ctx, a.period, CHART_EXAMPLE);
    if (!a.kind) return chartsReply(ctx, unit, a.period);
    return chartReply(ctx, unit, a.kind, a.period);
  },
});

export const reportCommands = [exportCommand, chartCommand];
