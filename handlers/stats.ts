/**
 * Queries: /我的 (my numbers and quotas), /统计 (a unit with its sub-units), /七问 (the yearly
 * self-check, docs/rules.md#seven-questions) and /静音 (pause my quota nudges). /配额 lives in quota-admin.ts.
 *
 * Decisions: days are counted hours ÷ 8 (1天 = 8 working hours), as everywhere; /统计 counts the
 * records made in the unit and its sub-units; "逾期" there means a deadline missed on some day
 * of the period; the quota completion of /统计 covers the rules of the period's own kind
 * (本月 → monthly rules); laggards are cadres without any counted visit in the period.
 * /七问: 下乡 = every counted visit; 进村 = 到村 + 驻村蹲点; 入户 = household visits;
 * 社情民意 = what cadres went to listen to — 调研座谈 and 谈心谈话 (宣讲 is speaking, and 入户 is
 * its own question); 笑容 = the ratings of the issues the cadre was responsible for, with
 * 满意率 = (满意 + 基本满意) ÷ rated. /静音 N天 pauses today and the N−1 days after (at most 30).
 */
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, customArg, optional, periodArg as sharedPeriodArg, textArg, type ReadEnv, unitNameArg } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { evaluateQuotas, quotaCompletion, type QuotaStatus } from '../bot/quota.js';
import { md, METRIC_UNITS, missingText, num, PERIOD_NAMES, PERIOD_THIS, targetText } from '../bot/quota-text.js';
import { addDays, daysBetween, formatDate, parseChineseNumber, parseDate, parsePeriod, periodOf, WORKDAY_HOURS, type LocalDate, type Period, type PeriodKind } from '../bot/time.js';
import { normalize } from '../bot/normalize.js';
import { setMutedUntil } from '../storage/identity.js';
import type { AggregateCache } from '../storage/quota-aggregates.js';
import { cadreIssueYear, cadreNumbers, sumVisits, unitNames, unitScope, unitStats, type CadreNumbers } from '../storage/stats.js';
import { SATISFACTION_NAMES, type Satisfaction } from '../storage/issue-glossary.js';
import type { Unit } from '../storage/types.js';
import { quotaCommand } from './quota-admin.js';
import { ratesText } from '../bot/rates-text.js';
import { threeRates } from '../storage/rates.js';
import { nameHere, namesHere, nearestLeaders, requireView, resolveUnit, unitOf } from './policy.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { chartsReply, coverageReply } from './reports.js';

const MAX_MUTE_DAYS = 30;
const LAGGARDS = 10;

const pct = (a: number, b: number) => (b ? `${Math.round((a / b) * 100)}%` : '—');
const days = (hours: number) => num(hours / WORKDAY_HOURS);

function periodText(p: Period): string {
  return p.kind === 'week' ? `${p.label}（${md(p.start)}–${md(p.end)}）` : p.label;
}

function satisfactionText(s: Record<Satisfaction, number>): string | null {
  const rated = s.satisfied + s.basic + s.dissatisfied;
  if (!rated) return null;
  return `${(Object.keys(SATISFACTION_NAMES) as Satisfaction[]).map((k) => `${SATISFACTION_NAMES[k]} ${s[k]}`).join('、')}（满意率 ${pct(s.satisfied + s.basic, rated)}）`;
}

const T = {
  meTitle: (name: string, unit: string, today: LocalDate) => `${name}（${unit}）截至${formatDate(today)}：`,
  meNumbers: (label: string, n: CadreNumbers) =>
    `${label}：走访 ${n.visits.count} 次，${num(n.visits.hours)} 小时（${days(n.visits.hours)} 天）；志愿服务 ${num(n.volunteerHours)} 小时；解决问题 ${n.issuesResolved} 件`,
  quotaHead: '配额：',
  noQuotas: '配额：目前没有适用于您的配额规则。',
  quotaLine: (s: QuotaStatus) => {
    const u = METRIC_UNITS[s.rule.metric];
    return `${s.met ? '✅' : '❌'} ${s.rule.name}（${targetText(s.rule)}）：已 ${num(s.actual)} ${u}`
      + (s.met ? '' : `，还差 ${num(s.missing)} ${u}，截至${md(s.period.end)}`);
  },
  allMet: '目前适用的配额全部完成，继续保持！',
  mutedNote: (until: LocalDate) => `（配额提醒已静音至${formatDate(until)}；发送 /静音 关闭 可提前恢复）`,

  statsTitle: (unit: string, withSubs: boolean, p: Period) => `${unit}${withSubs ? '（含下级单位）' : ''} · ${periodText(p)} 统计`,
  visits: (n: number, hours: number, places: number, hh: number) =>
    `走访：${n} 次，共 ${days(hours)} 天（${num(hours)} 小时），到过 ${places} 个地点，走访群众 ${hh} 户`,
  volunteer: (h: number) => `志愿服务：${num(h)} 小时`,
  issues: (raised: number, resolved: number, closed: number, overdue: number) =>
    `问题：新登记 ${raised} 件，办结 ${resolved} 件，销号 ${closed} 件，逾期 ${overdue} 件`,
  issueQuality: (onTime: string, median: string, sat: string) => `　按时办结率 ${onTime}；办结用时中位数 ${median}；群众评价：${sat}`,
  rates: (text: string) => `三率：${text}`,
  coverage: (covered: number, total: number) => `覆盖：${total} 名干部中 ${covered} 名有走访（${pct(covered, total)}）`,
  completion: (kind: PeriodKind, met: number, total: number) => total
    ? `配额完成：按${PERIOD_NAMES[kind]}考核的配额 ${total} 项（人×规则）中已完成 ${met} 项（${pct(met, total)}）`
    : `配额完成：没有按${PERIOD_NAMES[kind]}考核的配额。`,
  laggards: (names: string[], total: number) =>
    `尚未走访（${total > names.length ? `共 ${total} 人，列出前 ${names.length} 人` : `${total} 人`}）：${names.join('、')}`,
  noLaggards: '所有干部本期都有走访。',
  laggardsToLeads: (total: number, sent: boolean) =>
    `尚未走访 ${total} 人${sent ? '，名单已私信发给本单位领导' : ''}（群内不显示干部姓名）。`,
  laggardsDirect: (unit: string, p: Period, line: string) => `${unit} ${p.label}${line}`,
  futurePeriod: (p: Period) => `${p.label} 还没有开始，没有可统计的数据。请写本月、上月、本周、本季、本年或已过去的月份，例如 /统计 2026-10`,

  reviewTitle: (name: string, year: string, today: LocalDate, running: boolean) =>
    `${name} ${year}「七问」自查${running ? `（截至${formatDate(today)}）` : ''}：`,
  q1: (n: number, hours: number) => `一问 一年下过几次乡：${n} 次（共 ${days(hours)} 天）`,
  q2: (village: number, residency: number) => `二问 进过几次村：${village + residency} 次（到村/社区 ${village}，驻村蹲点 ${residency}）`,
  q3: (n: number, hh: number) => `三问 入过几次户：${n} 次，走访群众 ${hh} 户`,
  q4: (n: number) => `四问 了解多少情况：登记民情 ${n} 件`,
  q5: (n: number) => `五问 解决了多少问题：作为责任人办结 ${n} 件`,
  q6: (meeting: number, talk: number) => `六问 听了多少社情民意：调研座谈 ${meeting} 次、谈心谈话 ${talk} 次，共 ${meeting + talk} 次`,
  q7: (sat: string | null) => `七问 面对群众脸上有没有笑容：${sat ? `群众评价 ${sat}` : '还没有群众对您负责的问题作出评价'}`,
  futureYear: (y: string) => `${y} 还没有开始。请写今年或以前的年份，例如 /七问 2026、/七问 去年`,

  muteState: (until: LocalDate | null, today: LocalDate) => (until && until >= today
    ? `配额提醒已静音至${formatDate(until)}（含）。发送 /静音 关闭 可提前恢复。`
    : '配额提醒：正常发送。') + `\n用法：/静音 3天（请假、病休时暂停配额提醒，最多${MAX_MUTE_DAYS}天），/静音 至12月5日，/静音 关闭。问题时限提醒不受影响。`,
  muted: (until: LocalDate, days: number) =>
    `已静音配额提醒 ${days} 天，至${formatDate(until)}（含），${formatDate(addDays(until, 1))}起恢复。问题时限提醒照常发送。发送 /静音 关闭 可提前恢复。`,
  unmuted: '已恢复配额提醒。',
  notMuted: '配额提醒本来就在正常发送，无需恢复。',
  muteTooLong: (n: number) => `静音最多${MAX_MUTE_DAYS}天，您写的是${n}天。请写 1–${MAX_MUTE_DAYS} 天，例如 /静音 3天 或 /静音 至12月5日`,
  mutePast: (d: LocalDate) => `${formatDate(d)} 已经过去，静音要写今天或以后的日期，例如 /静音 3天 或 /静音 至12月5日`,
};

// --- arguments ---

const periodArg = sharedPeriodArg();

const yearArg = customArg('年份', '年份，如 2026、今年、去年', (s, env) => {
  const p = parsePeriod(s, env.now, env.tz);
  return p?.kind === 'year' ? p : null;
}, (s) => `「${s}」不是年份（如 2026、今年、去年）`, ['year']);

type MuteSpan = { off: true } | { days: number } | { until: LocalDate };
const MUTE_OFF = new Set(['关闭', '取消', '解除', '恢复', 'off']);
const MUTE_DAYS = /^(\d{1,3}|[一二两三四五六七八九十]{1,3})(天|日|d|days?|周|个?星期|w)$/;
function readMute(s: string, env: ReadEnv): MuteSpan | null {
  const t = normalize(s).replace(/\s+/g, '');
  if (MUTE_OFF.has(t)) return { off: true };
  const m = MUTE_DAYS.exec(t);
  if (m) {
    const n = parseChineseNumber(m[1]);
    if (n === null || n < 1) return null;
    return { days: /周|星期|w/.test(m[2]) ? n * 7 : n };
  }
  const d = parseDate(t.replace(/^(至|到|直到)/, ''), env.now, { tz: env.tz, prefer: 'future' });
  return d ? { until: d } : null;
}
const muteArg = customArg('时长', `天数（1–${MAX_MUTE_DAYS}天，如 3天、一周）、截止日期（如 至12月5日）或 关闭`, readMute,
  (s) => `「${s}」看不懂：请写天数（如 3天）、截止日期（如 至12月5日）或 关闭`, ['天数', '期限']);

// --- commands ---

export const meCommand = defineCommand({
  name: '我的', aliases: ['me'], group: 'query', mode: 'read',
  summary: '我本周/本月/本年的数据和配额完成情况',
  args: {},
  examples: ['/我的'],
  notes: ['天数按走访小时折算：8小时计1天。只计入正常和已核查的记录。'],
  async handle(ctx) {
    const me = ctx.cadre;
    const cache: AggregateCache = new Map();
    const lines = [T.meTitle(nameHere(ctx, me.name, '您'), (await unitOf(ctx)).name, ctx.today)];
    for (const kind of ['week', 'month', 'year'] as const) {
      const p = periodOf(kind, ctx.today);
      lines.push(T.meNumbers(`${PERIOD_THIS[kind]}（${kind === 'week' ? `${md(p.start)}–${md(p.end)}` : p.label}）`, await cadreNumbers(ctx.db, me.id, p.start, p.end, cache)));
    }
    const order: Record<PeriodKind, number> = { week: 0, month: 1, quarter: 2, year: 3 };
    const quotas = (await evaluateQuotas(ctx.db, { cadreIds: [me.id], at: ctx.today, cache }))
      .sort((a, b) => order[a.rule.period] - order[b.rule.period] || a.rule.id - b.rule.id);
    if (!quotas.length) lines.push(T.noQuotas);
    else {
      lines.push(T.quotaHead, ...quotas.map(T.quotaLine));
      lines.push(missingText(quotas) || T.allMet);
    }
    if (me.mutedUntil && me.mutedUntil >= ctx.today) lines.push(T.mutedNote(me.mutedUntil));
    return lines.join('\n');
  },
});

export const statsCommand = defineCommand({
  name: '统计', aliases: ['stats'], group: 'query', mode: 'read',
  summary: '单位（含下级）某时段的走访、问题、覆盖和配额完成情况',
  args: {
    view: optional(choiceArg('视图', { 覆盖: 'coverage', 全覆盖: 'coverage', coverage: 'coverage', 图: 'charts', 图表: 'charts', chart: 'charts' }, '视图：覆盖（三个全覆盖）或 图（图表）')),
    period: optional(periodArg),
    unit: optional(unitNameArg()),
  },
  examples: ['/统计', '/统计 本月', '/统计 2026-10 石门镇', '/统计 本年 示范县', '/统计 覆盖 石门镇', '/统计 图'],
  notes: ['时段省略为本月；单位省略为本群对应的单位，私聊时为您所在的单位。', '一般干部可查看本单位；领导可查看本单位及所辖下级单位。',
    '“覆盖”列出时间、空间、人员三个全覆盖的缺口；“图”发送走访趋势、配额完成和问题办理三张图。',
    '三率：响应率＝登记后一个工作日内有进展或办结的比例；解决率＝本期到期的问题按时限办结的比例；满意率＝评价为满意、基本满意的比例（群众自评优先）。'],
  async handle(ctx, a) {
    if (a.view === 'coverage') return coverageReply(ctx, a.unit);
    if (a.view === 'charts') return chartsReply(ctx, a.unit, a.period);
    const unit = await resolveUnit(ctx, a.unit);
    await requireView(ctx, unit);
    const p = a.period ?? periodOf('month', ctx.today);
    if (p.start > ctx.today) throw new UserError(T.futurePeriod(p));
    return statsText(ctx, unit, p);
  },
});

async function statsText(ctx: Ctx, unit: Unit, p: Period): Promise<string | Reply[]> {
  const cache: AggregateCache = new Map();
  const s = await unitStats(ctx.db, unit, p.start, p.end, ctx.today, cache, LAGGARDS);
  const scope = await unitScope(ctx.db, unit);
  const q = await quotaCompletion(ctx.db, {
    at: p.start, periods: [p.kind], cache,
    ...(scope.kind === 'units' ? { unitIds: scope.ids } : {}),
  });
  const withSubs = scope.kind === 'all' || scope.ids.length > 1;
  const i = s.issues;
  const lines = [
    T.statsTitle(unit.name, withSubs, p),
    T.visits(s.visits.count, s.visits.hours, s.places, s.visits.households),
    T.volunteer(s.volunteerHours),
    T.issues(i.raised, i.resolved, i.closed, i.overdue),
    T.issueQuality(pct(i.onTime, i.resolved), i.medianDaysToResolve === null ? '—' : `${num(i.medianDaysToResolve)} 天`,
      satisfactionText(i.satisfaction) ?? '暂无'),
    T.rates(ratesText(await threeRates(ctx.db, unit.path, p.start, p.end, ctx.today))),
    T.coverage(s.covered, s.cadres),
    T.completion(p.kind, q.met, q.total),
  ];
  if (!s.laggards.length) return [...lines, T.noLaggards].join('\n');
  const names = await unitNames(ctx.db, [...new Set(s.laggards.map((c) => c.unitId))]);
  const laggards = T.laggards(s.laggards.map((c) => `${c.name}（${names.get(c.unitId) ?? ''}）`), s.cadres - s.covered);
  if (namesHere(ctx)) return [...lines, laggards].join('\n');
  // Names kept out of the group (bot/names.ts): the list goes to the unit's leads, one by one.
  const leads = await nearestLeaders(ctx.db, unit);
  return [toChat([...lines, T.laggardsToLeads(s.cadres - s.covered, leads.length > 0)].join('\n')),
    ...leads.map((id) => toCadre(id, T.laggardsDirect(unit.name, p, laggards)))];
}

export const reviewCommand = defineCommand({
  name: '七问', aliases: ['review', '自查'], group: 'query', mode: 'read',
  summary: '一年的“七问”自查：下乡、进村、入户、了解情况、解决问题、社情民意、群众评价',
  args: { year: optional(yearArg) },
  examples: ['/七问', '/七问 2025', '/七问 去年'],
  notes: ['依据“七问四查一晒”（思想作风体检）。只计入正常和已核查的记录。'],
  async handle(ctx, a) {
    const p = a.year ?? periodOf('year', ctx.today);
    if (p.start > ctx.today) throw new UserError(T.futureYear(p.label));
    const me = ctx.cadre;
    const cache: AggregateCache = new Map();
    const v = await sumVisits(ctx.db, { kind: 'cadres', ids: [me.id] }, p.start, p.end, cache, me.id);
    const iss = await cadreIssueYear(ctx.db, me.id, p.start, p.end);
    return [
      T.reviewTitle(nameHere(ctx, me.name, '您'), p.label, ctx.today, p.end >= ctx.today),
      T.q1(v.count, v.hours),
      T.q2(v.byKind.village, v.byKind.residency),
      T.q3(v.byKind.household, v.households),
      T.q4(iss.registered),
      T.q5(iss.resolved),
      T.q6(v.byKind.meeting, v.byKind.talk),
      T.q7(satisfactionText(iss.satisfaction)),
    ].join('\n');
  },
});

export const muteCommand = defineCommand({
  name: '静音', aliases: ['mute', '免打扰'], group: 'query', mode: 'write',
  summary: `暂停我的配额提醒（最多${MAX_MUTE_DAYS}天）；问题时限提醒照常`,
  args: { span: optional(muteArg) },
  examples: ['/静音 3天', '/静音 至12月5日', '/静音 关闭', '/静音'],
  notes: ['请假、病休、集中学习期间使用。静音期间不发配额提醒，您负责的问题临近时限和逾期的提醒照常发送。'],
  async handle(ctx, a) {
    const me = ctx.cadre;
    if (!a.span) return T.muteState(me.mutedUntil, ctx.today);
    if ('off' in a.span) {
      if (!me.mutedUntil || me.mutedUntil < ctx.today) return T.notMuted;
      await setMutedUntil(ctx.db, me.id, null);
      return T.unmuted;
    }
    let n: number;
    if ('days' in a.span) n = a.span.days;
    else {
      if (a.span.until < ctx.today) throw new UserError(T.mutePast(a.span.until));
      n = daysBetween(ctx.today, a.span.until) + 1;
    }
    if (n > MAX_MUTE_DAYS) throw new UserError(T.muteTooLong(n));
    const until = addDays(ctx.today, n - 1);
    await setMutedUntil(ctx.db, me.id, until);
    return T.muted(until, n);
  },
});

export const statsCommands = [meCommand, statsCommand, reviewCommand, muteCommand, quotaCommand];
