/**
 * /清单 (the three lists of a unit and month, docs/rules.md#three-lists; `公示` posts the 效果清单 to the group,
 * "解决一件，答复一件，销号一件，公示一件", docs/rules.md#resolve-and-publish) and /台账 (the unit's pending issues, overdue
 * first). The words for states, ledgers and ratings are the issue glossary's (storage/issue-glossary.ts).
 *
 * Decisions: both are read commands so that the Excel export (another work item) can run async;
 * publishing therefore records nothing — it is a message to the group. Lists count an issue in
 * the unit where it was raised; the ledger shows the unit that owns it now (after /上报).
 */
import { z } from 'zod';
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, customArg, optional, textArg, withKeys, type ArgDef, unitNameArg, periodArg } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { toChat, type Reply } from '../bot/reply.js';
import { deadlineLight, LIGHT_MARK, workdaysLeft, YELLOW_WORKDAYS, type Light } from '../bot/lights.js';
import { daysBetween, formatDate, parsePeriod, periodOf, type LocalDate, type Period } from '../bot/time.js';
import { cadreById, chatsOfUnit } from '../storage/identity.js';
import { openIssuesOfUnits } from '../storage/issues.js';
import { LEDGER_NAMES, SATISFACTION_NAMES, STATE_NAMES, type Ledger, type Satisfaction } from '../storage/issue-glossary.js';
import { issuesRaisedIn, issuesResolvedIn, tasksIn } from '../storage/issue-lists.js';
import { unitById } from '../storage/units.js';
import type { Issue, Unit } from '../storage/types.js';
import { leads, namesHere, requireView, resolveUnit } from './policy.js';
import { exportLedgerReply, exportListsReply } from './reports.js';
import { boardReplies } from './public-board.js';

const LIST_CAP = 20;
const LEDGER_CAP = 30;

const T = {
  listsTitle: (unit: string, p: Period) => `${unit} ${p.label} 三个清单（含下级单位）`,
  section: (name: string, n: number) => `【${name}】共${n}条`,
  none: '  （无）',
  more: (n: number, cmd: string) => `  …共${n}条，仅列前${LIST_CAP}条；完整清单请发送 /${cmd} 导出`,
  problem: (i: Issue, who: string, today: LocalDate) =>
    `#${i.id} ${i.place} ${clip(i.description)}（${i.category}${who ? `·${who}` : ''}·时限${shortDate(i.deadline, today)}·${STATE_NAMES[i.state]}）`,
  task: (issueId: number, date: LocalDate, who: string, note: string, today: LocalDate) =>
    `#${issueId} ${shortDate(date, today)} ${who ? `${who}：` : ''}${clip(note, 60)}`,
  effect: (i: Issue, today: LocalDate) =>
    `#${i.id} ${i.place} ${clip(i.description)} → ${clip(i.result ?? '', 60)}（${shortDate(i.resolvedDate!, today)}办结·${i.answered ? '已答复' : '未答复'}${ratingMark(i)}${i.state === 'closed' ? '·已销号' : ''}）`,
  publishTitle: (unit: string, p: Period, n: number) =>
    `【效果清单公示】${unit} ${p.label}\n解决一件，答复一件，销号一件，公示一件。本期办结 ${n} 件：`,
  publishLine: (i: Issue, today: LocalDate) =>
    `${i.place} ${clip(i.description)} —— ${clip(i.result ?? '', 60)}（${shortDate(i.resolvedDate!, today)}办结${i.state === 'closed' ? '，已销号' : ''}）`,
  publishFooter: '欢迎群众监督。',
  nothingToPublish: (unit: string, p: Period) => `${unit} ${p.label} 没有办结的问题，暂无可公示的效果清单。`,
  publishNotLead: (unit: string) => `只有「${unit}」的领导可以公示效果清单。请领导发送 /清单 公示，例如 /清单 公示 本月`,
  noGroup: (unit: string) => `「${unit}」还没有对应的工作群，无法公示。请在本单位群里发送 /清单 公示，或请管理员用 /单位 把群对应到「${unit}」。`,
  published: (n: number) => `已在 ${n} 个工作群公示效果清单。`,
  ledgerTitle: (unit: string, n: number, overdue: number) => `${unit}台账（含下级单位）：在办 ${n} 件${overdue ? `，其中逾期 ${overdue} 件` : ''}`,
  ledgerEmpty: (unit: string) => `${unit}台账（含下级单位）：没有在办的问题。`,
  ledgerCounts: (xs: string[]) => xs.join(' · '),
  ledgerCount: (name: string, n: number) => `${name} ${n} 件`,
  ledgerLine: (i: Issue, who: string, today: LocalDate, unitName?: string) => {
    const left = daysBetween(today, i.deadline);
    const due = left < 0 ? `【逾期${-left}天】` : '';
    const light = deadlineLight(i.deadline, today);
    // A yellow light far off in calendar days (a holiday between) says why it is yellow.
    const rest = left < 0 ? '' : light === 'yellow' && left > YELLOW_WORKDAYS ? `（剩${left}天，${workdaysLeft(today, i.deadline)}个工作日）` : `（剩${left}天）`;
    return `${LIGHT_MARK[light]} #${i.id}${due} ${unitName ? `[${unitName}] ` : ''}${i.place} ${clip(i.description)}${who ? ` · ${who}` : ''} · 时限${shortDate(i.deadline, today)}${rest} · ${STATE_NAMES[i.state]}${i.superviseCount ? ` · 督办${i.superviseCount}次` : ''}${i.citizenSatisfaction === 'dissatisfied' ? ` · ${CITIZEN_DISSATISFIED}` : ''}`;
  },
  ledgerLights: (n: Record<Light, number>) => `${LIGHT_MARK.red} 逾期 ${n.red} 件 · ${LIGHT_MARK.yellow} 临期（剩两个工作日内） ${n.yellow} 件 · ${LIGHT_MARK.green} 正常 ${n.green} 件`,
  // Where names are kept out of a group (bot/names.ts): the lines drop the person, this says where to look.
  namesWithheld: '（群内不显示干部姓名；私聊我发送同一命令可看到责任人）',
  ledgerMore: (n: number) => `…共${n}件，仅列前${LEDGER_CAP}件；完整台账请发送 /台账 导出`,
};

/** A citizen's own rating (from their link) outranks the cadre's /评价 and says so. */
export const CITIZEN_DISSATISFIED = '群众亲评不满意';
export function ratingMark(i: Pick<Issue, 'satisfaction' | 'citizenSatisfaction'>): string {
  if (i.citizenSatisfaction) return `·群众亲评${SATISFACTION_NAMES[i.citizenSatisfaction as Satisfaction] ?? i.citizenSatisfaction}`;
  return i.satisfaction ? '·' + SATISFACTION_NAMES[i.satisfaction as Satisfaction] : '';
}

export function clip(s: string, max = 30): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** '12月31日' within the current year, '2027年1月5日' otherwise. */
export function shortDate(d: LocalDate, today: LocalDate): string {
  return d.slice(0, 4) === today.slice(0, 4) ? formatDate(d).slice(5) : formatDate(d);
}

export async function cadreName(ctx: Ctx, id: number | null): Promise<string> {
  return id == null ? '' : (await cadreById(ctx.db, id))?.name ?? `#${id}`;
}

/**
 * The cadres' names for list lines, looked up once each (before the lines are built), or ''
 * for everyone (the line leaves the person out) where the group may not see them.
 */
async function listNames(ctx: Ctx, ids: Array<number | null>): Promise<(id: number | null) => string> {
  const names = new Map<number, string>();
  if (namesHere(ctx)) for (const id of ids) if (id != null && !names.has(id)) names.set(id, await cadreName(ctx, id));
  return (id) => (id == null ? '' : names.get(id) ?? '');
}

const monthArg = () => periodArg('月份', ['月', 'period', 'month'], '月份，如 本月、上月、10月、2026-10');

const unitArg = () => optional(withKeys(unitNameArg('单位', '单位名称，如 石门镇；省略为本群或本人所在单位'), 'unit'));

function section(name: string, lines: string[], cmd: string): string[] {
  const out = [T.section(name, lines.length)];
  if (!lines.length) out.push(T.none);
  out.push(...lines.slice(0, LIST_CAP).map((l, k) => `  ${k + 1}. ${l}`));
  if (lines.length > LIST_CAP) out.push(T.more(lines.length, cmd));
  return out;
}

async function publish(ctx: Ctx, unit: Unit, period: Period, resolved: Issue[]): Promise<Reply[] | string> {
  if (!(await leads(ctx, unit))) throw new UserError(T.publishNotLead(unit.name));
  if (!resolved.length) return T.nothingToPublish(unit.name, period);
  const text = [T.publishTitle(unit.name, period, resolved.length),
    ...resolved.map((i, k) => `${k + 1}. ${T.publishLine(i, ctx.today)}`), T.publishFooter].join('\n');
  if (!ctx.event.direct) return text;
  const groups = await chatsOfUnit(ctx.db, unit.id);
  if (!groups.length) throw new UserError(T.noGroup(unit.name));
  return [...groups.map((g) => toChat(text, { target: g.chatId, platform: g.platform })), toChat(T.published(groups.length))];
}

export const listsCommand = defineCommand({
  name: '清单', aliases: ['lists', '三个清单'], group: 'query', mode: 'read',
  summary: '三个清单：问题清单、任务清单、效果清单；可公示效果清单',
  args: {
    unit: unitArg(),
    period: optional(monthArg()),
    action: optional(choiceArg('操作', { 导出: 'export', export: 'export', excel: 'export', 公示: 'publish', 发布: 'publish', publish: 'publish' }, '操作：导出 或 公示')),
    // `公示 网页` publishes the results list as a public web page; `撤回` withdraws it.
    web: optional(choiceArg('网页', { 网页: 'web', 网站: 'web', 页面: 'web', web: 'web' }, '网页（公示到群众可看的网页）')),
    withdraw: optional(choiceArg('撤回', { 撤回: 'withdraw', 撤销: 'withdraw', 取消: 'withdraw', withdraw: 'withdraw' }, '撤回（撤回公示网页）')),
  },
  examples: ['/清单', '/清单 石门镇 10月', '/清单 公示 本月', '/清单 公示 网页', '/清单 公示 网页 撤回', '/清单 导出'],
  notes: ['问题清单：当月登记的问题；任务清单：当月 /进展 记录的措施；效果清单：当月办结的问题及结果。', '“公示”把效果清单发到本单位工作群（领导操作）。', '“公示 网页”把效果清单公示到群众可看的网页并给出二维码，随办结实时更新；再次发送给出同一链接，“公示 网页 撤回”撤回。'],
  async handle(ctx, a) {
    if (a.action === 'export') return exportListsReply(ctx, a.unit, a.period);
    const unit = await resolveUnit(ctx, a.unit);
    await requireView(ctx, unit);
    // One statement each (a link row written or revoked), so this read command stays atomic.
    if (a.web || (a.action === 'publish' && a.withdraw)) return boardReplies(ctx, unit, !!a.withdraw);
    const period = a.period ?? periodOf('month', ctx.today);
    const resolved = await issuesResolvedIn(ctx.db, unit.path, period.start, period.end);
    if (a.action === 'publish') return publish(ctx, unit, period, resolved);
    const raised = await issuesRaisedIn(ctx.db, unit.path, period.start, period.end);
    const tasks = await tasksIn(ctx.db, unit.path, period.start, period.end);
    const names = await listNames(ctx, [...raised.map((i) => i.responsibleCadreId), ...tasks.map((t) => t.actorCadreId)]);
    const withheld = !namesHere(ctx) && (raised.length > 0 || tasks.length > 0);
    return [
      T.listsTitle(unit.name, period),
      ...section('问题清单', raised.map((i) => T.problem(i, names(i.responsibleCadreId), ctx.today)), '清单'),
      ...section('任务清单', tasks.map((t) => T.task(t.issueId, t.date, names(t.actorCadreId), t.note, ctx.today)), '清单'),
      ...section('效果清单', resolved.map((i) => T.effect(i, ctx.today)), '清单'),
      ...(withheld ? [T.namesWithheld] : []),
    ].join('\n');
  },
});

export const ledgerCommand = defineCommand({
  name: '台账', aliases: ['ledger'], group: 'query', mode: 'read',
  summary: '在办问题台账，逾期的排在前面',
  args: {
    unit: unitArg(),
    action: optional(choiceArg('操作', { 导出: 'export', export: 'export', excel: 'export' }, '操作：导出')),
  },
  examples: ['/台账', '/台账 石门镇', '/台账 导出'],
  async handle(ctx, a) {
    if (a.action === 'export') return exportLedgerReply(ctx, a.unit);
    const unit = await resolveUnit(ctx, a.unit);
    await requireView(ctx, unit);
    // Ordered by deadline, so the overdue ones (deadline before today) already come first.
    const list = await openIssuesOfUnits(ctx.db, unit.path);
    if (!list.length) return T.ledgerEmpty(unit.name);
    const overdue = list.filter((i) => i.deadline < ctx.today).length;
    const counts = (Object.keys(LEDGER_NAMES) as Ledger[])
      .map((l) => T.ledgerCount(LEDGER_NAMES[l], list.filter((i) => i.ledger === l).length));
    const shown = list.slice(0, LEDGER_CAP);
    const names = await listNames(ctx, shown.map((i) => i.responsibleCadreId));
    // The unit is named on a line only where it is a sub-unit's issue.
    const unitNames = new Map<number, string | undefined>();
    for (const i of shown) if (i.unitId !== unit.id && !unitNames.has(i.unitId)) unitNames.set(i.unitId, (await unitById(ctx.db, i.unitId))?.name);
    const lines = shown.map((i, k) => `${k + 1}. ${T.ledgerLine(i, names(i.responsibleCadreId), ctx.today, unitNames.get(i.unitId))}`);
    const lights: Record<Light, number> = { red: 0, yellow: 0, green: 0 };
    for (const i of list) lights[deadlineLight(i.deadline, ctx.today)]++;
    return [T.ledgerTitle(unit.name, list.length, overdue), T.ledgerCounts(counts), T.ledgerLights(lights), ...lines,
      ...(list.length > LEDGER_CAP ? [T.ledgerMore(list.length)] : []), ...(namesHere(ctx) ? [] : [T.namesWithheld])].join('\n');
  },
});

export const issueListCommands = [listsCommand, ledgerCommand];
