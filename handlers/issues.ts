/**
 * The issue ledger workflow (docs/rules.md#issue-workflow): /民情 registers a problem; /进展 /办结 /销号 /延期 /上报
 * /督办 /评价 move it along. Every change writes exactly one audit row (storage changeIssue).
 *
 * Decisions: the responsible cadre or a lead may work on an issue; a lead is a leader of the
 * issue's current unit or above (policy.leads), an administrator, or the issue's own 责任领导.
 * Only leads close, reject, extend and supervise. A petition (信访) gets 30 days by default and
 * may not be given more at registration; it may be extended once, by at most 30 days (docs/rules.md#petitions).
 * `30天` in a deadline means days from today (/民情) or from the current deadline (/延期).
 */
import { z } from 'zod';
import { defineCommand, type Ctx } from '../bot/command.js';
import { cadreRefArg, choiceArg, issueRefArg, keyOnly, optional, placeArg, recordRefArg, restArg, textArg, whenArg, withKeys, type ArgDef, type When } from '../bot/args.js';
import { AskFor, UserError } from '../bot/errors.js';
import { normalize } from '../bot/normalize.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { addDays, daysBetween, formatDate, type LocalDate } from '../bot/time.js';
import { chatsOfUnit } from '../storage/identity.js';
import { addIssueEvent, changeIssue, insertIssue, issueById, type IssuePatch } from '../storage/issues.js';
import { LEDGER_NAMES, PENDING_STATES, SATISFACTION_NAMES, STATE_NAMES, type Ledger, type Satisfaction, type Source } from '../storage/issue-glossary.js';
import { visitById } from '../storage/records.js';
import { parentOf, unitById } from '../storage/units.js';
import type { Issue, IssueState, Unit } from '../storage/types.js';
import { leads, nameHere, namesHere, resolveCadre, unitOf, type CadreRefTexts } from './policy.js';
import { originOf } from './records.js';
import { cadreName, issueListCommands } from './issue-lists.js';
import { citizenLinkCommand, issueLinkReplies } from './citizen.js';

export const CATEGORIES = ['就业', '教育', '医疗', '养老', '社会保障', '社会治理', '环境保护', '权益保障', '基础设施', '助企纾困', '信访', '其他'] as const;
const PETITION_DAYS = 30;
// Fuzzing found a deadline of 9999-12-31 accepted, and extending it then left the calendar
// (year 10000) and failed as a fault. Deadlines stay within three years; later ones are refused.
const MAX_DEADLINE_DAYS = 3 * 365;
const UNDO_MINUTES = 10;

const CATEGORY_WORDS: Record<string, string> = {
  ...Object.fromEntries(CATEGORIES.map((c) => [c, c])),
  社保: '社会保障', 治理: '社会治理', 环保: '环境保护', 维权: '权益保障', 基建: '基础设施', 助企: '助企纾困', 纾困: '助企纾困',
};
const LEDGER_WORDS: Record<string, Ledger> = {
  民生诉求: 'livelihood', 民生: 'livelihood', livelihood: 'livelihood',
  困难群众: 'hardship', 困难: 'hardship', hardship: 'hardship',
  稳定工作: 'stability', 稳定: 'stability', 维稳: 'stability', stability: 'stability',
};
const SOURCE_WORDS: Record<string, Source> = {
  走访: 'visit', visit: 'visit', 热线: 'hotline', '12345': 'hotline', hotline: 'hotline',
  信访: 'petition', 来信来访: 'petition', petition: 'petition', 其他: 'other', other: 'other',
};
const ANSWER_WORDS: Record<string, 'yes' | 'no'> = { 是: 'yes', 是的: 'yes', 已答复: 'yes', 已告知: 'yes', yes: 'yes', 否: 'no', 没有: 'no', 还没有: 'no', 未答复: 'no', 未告知: 'no', no: 'no' };
const ANSWER_TABLE = new Map(Object.entries(ANSWER_WORDS));
const RATING_WORDS: Record<string, Satisfaction> = {
  满意: 'satisfied', 非常满意: 'satisfied', 很满意: 'satisfied', 基本满意: 'basic', 比较满意: 'basic', 还算满意: 'basic', 一般: 'basic',
  不满意: 'dissatisfied', 不太满意: 'dissatisfied', 不是很满意: 'dissatisfied', 不够满意: 'dissatisfied', 很不满意: 'dissatisfied',
};
const CALLBACK_WORDS = { 电话回访: 'callback', 回访: 'callback', callback: 'callback' } as const;
// "Was the citizen told?" read from the result text; a negation wins over the plain phrase.
// Our answer to the citizen, read from what the text says about *answering*: `群众暂未反馈意见` is
// the citizen not answering us and says nothing about our answer, so 反馈 counts only as 反馈给.
// 已通知施工队 tells a contractor, not the citizen.
const NOT_CITIZEN = '施工|交通|水务|供电|电力|物业|部门|单位|公司|局|厂|队|村委|居委|社区|镇|街道|相关|领导|上级|县|市|区里|乡里|政府|办公室|信访局';

/**
 * Whether the text says the citizen was answered: true, false, or undefined (neither, or both).
 * Each mention of an answering verb is judged by what is around it: done (已告知, 告知了群众,
 * 电话告知), not done (未告知, 还没来得及告知, 忘了告诉), not yet (准备明天通知, 拟于明日告知, 下一步将答复),
 * or told to someone who is not the citizen (已通知县交通运输局). Only done ones answer.
 */
export function readAnswered(text: string): boolean | undefined {
  const t = normalize(text);
  let yes = false, no = false;
  for (const m of t.matchAll(ANSWER_VERB)) {
    const before = t.slice(Math.max(0, m.index - 8), m.index), after = t.slice(m.index + m[0].length, m.index + m[0].length + 8);
    if (NOT_DONE.test(before) || NOT_YET.test(before)) { no = true; continue; }
    if (new RegExp(`^了?(?:${NOT_CITIZEN})`).test(after)) continue;
    if (/已经?\S{0,6}$/.test(before) && !/[，,。；;]/.test(before.slice(before.lastIndexOf('已'))) || /^了|^过/.test(after) || /(?:电话|当面|书面|上门)$/.test(before)) yes = true;
  }
  return yes === no ? undefined : yes;
}
const ANSWER_VERB = /告知|答复|回复|通知|告诉|反馈给/g;
// Before the verb: it did not happen, or it has not happened yet.
const NOT_DONE = /(?:未|没有?|尚未|暂未|还没有?|还未|并未|未能|没能|忘了|忘记|来不及)\S{0,5}$/;
const NOT_YET = /(?:准备|将|拟|计划|打算|下一步|明天|明日|下周|等\S{0,6}再|稍后|随后|待\S{0,4}后)\S{0,4}$/;

// A lead's /销号 text that refuses: the issue goes back, it is never closed.
const REFUSAL = /不同意|不予|退回|驳回|打回|未解决|没有?解决|还没|尚未|仍有|仍然|依然|还是|重新办理|重新处理|不能销|暂缓|不销号|不合格|未完成|没完成|未落实|没修好|不到位|不齐全|不行|不满意|不太满意|不满|有意见|依旧|又坏|又裂|又出现|补充后/;
// Refusal words inside an acceptance (`尚未发现新问题`, `不存在未解决事项`) are taken out first.
const NOT_A_REFUSAL = /(?:尚未|未|没有|没)发现\S{0,4}问题|不存在\S{0,6}(?:问题|事项)|没有遗留问题|无遗留问题|(?:再)?没有?(?:意见|异议)|无(?:意见|异议)/g;
// The words of a refusal itself, with no reason in them.
const VERDICT_ONLY = /不予销号|不同意销号|不能销号|不销号|不予通过|不通过|不同意|不予|退回重办|退回|驳回|打回|重新办理|重新处理|暂不销号|销号/g;
// A lead putting the decision off: nothing changes (`等验收后再说`).
const DEFER = /再说|验收后|等\S{0,6}(?:再|后)(?:销|定|看)|暂缓|先不销|暂不销|过几天/;
// What a lead writes to accept: the issue is closed only on one of these, or on no words at all.
const ACCEPT = /(?<!不)同意|可以销号|予以销号|确认销号|准予销号|(?<![没未])通过|没有?遗留问题|无遗留问题|没有?问题了|(?<![不没太])满意|已解决|已修好|已修复|已完成|已落实|已办结|属实|核实无误|无问题|验收合格/;
// A result that says the work is not done yet is no /办结.
const UNFINISHED = /(?:下周|明天|过几天|月底|年底|下个?月)\S{0,2}(?:修|处理|解决|施工|动工|完工|竣工|完成)|预计\S{0,6}(?:完工|竣工|完成|修好|解决|接通|通水|通电)|暂时(?:修不了|无法|不能|解决不了)|修不了|无法解决|解决不了|待修|还没有?(?:修好|修复|解决|完成|办好|落实|到位|弄好|接通|通上|装好|安装|完工|竣工|开工|到货|通电|通水|修通)|没有?(?:修好|修复|解决|完成)|尚未(?:修好|修复|解决|完成|办结|落实)|才能(?:修|完成|解决|办)|正在(?:修|施工|处理|办理)|还在(?:修|施工|处理)|未完成|未修复|未解决/;
// A /上报 whose reason says not to.
const NO_ESCALATION = /(?:暂不|不需要|不用|无需|先不|暂缓|不必)(?:再)?上报/;

const T = {
  registered: (i: Issue, who: string) =>
    `已登记问题 #${i.id}（${LEDGER_NAMES[i.ledger]}台账·${i.category}）：${i.place} ${i.description}。${who}，时限 ${formatDate(i.deadline)}。`,
  responsibleIs: (name: string) => `责任人 ${name}`,
  // Where the group may not see names (bot/names.ts): say who knows, not who it is.
  responsibleSelf: '责任人为登记人本人',
  responsibleTold: '责任人已收到私信通知（群内不显示干部姓名）',
  leadHidden: '已指定（群内不显示姓名）',
  // The example names nobody either: a sample name could be a real cadre's.
  leadNotLeaderHidden: ['所写的责任领导', '13800001111（领导的手机号）'] as const,
  ambiguousHidden: (label: string) => `名册中有多位同名干部，群内不显示干部姓名和单位。请改写其 11 位手机号，例如 ${label}:手机号，或私聊我登记。`,
  askInDirect: '（群内不显示干部姓名；私聊我发送同一命令可看到责任人是谁）',
  leadAndDept: (lead: string | null, dept: string | null) => [lead && `责任领导 ${lead}`, dept && `责任部门 ${dept}`].filter(Boolean).join('，') + '。',
  undoHint: `发错了？${UNDO_MINUTES}分钟内发送 /撤销 可作废。`,
  assigned: (i: Issue, by: string) => `${by} 登记了问题 #${i.id}，责任人是您：${i.place} ${i.description}（${i.category}），时限 ${formatDate(i.deadline)}。\n办理中请发送 /进展 #${i.id} 措施；办结后发送 /办结 #${i.id} 结果（写明是否已答复群众）。`,
  // What a question says before asking for the field (bot/drafts.ts adds the hint and an example).
  needDeadline: '这个问题还没有办理时限',
  tooFar: (d: LocalDate, max: LocalDate, example: string) => `时限 ${formatDate(d)} 太远：最晚可定在 ${formatDate(max)}（三年内）。请写较近的日期，例如 ${example}`,
  leadNotLeader: (name: string, example = '@王强') => `责任领导应为领导干部，「${name}」是一般干部。请写领导的姓名，例如 责任领导:${example}；没有责任领导时省略即可。`,
  pastDeadline: (d: LocalDate) => `时限 ${formatDate(d)} 已经过去。请写今天或以后的日期，例如 时限:12月31日 或 时限:30天。`,
  petitionTooLong: (d: LocalDate, max: LocalDate) => `信访件应在${PETITION_DAYS}日内办结：时限最晚为 ${formatDate(max)}，不能定为 ${formatDate(d)}。可省略时限（默认${PETITION_DAYS}天），确需延长时由领导 /延期。`,
  notVisitRef: '关联的应是走访记录（#V开头），例如 走访:#V12；不关联走访时省略即可。',
  visitNotFound: (id: number) => `没有找到走访记录 #V${id}。请核对编号，例如 走访:#V12；不关联走访时省略即可。`,
  unknownCadre: (label: string, ref: string) => `名册中没有「${ref}」。请写名册中的姓名，例如 ${label}:@李四；同名时写 ${label}:李四（东关社区），也可以写手机号。`,
  ambiguousCadre: (label: string, name: string, options: string[]) => `名册中有 ${options.length} 位「${name}」：${options.join('、')}。请写明单位，例如 ${label}:${options[0]}。`,
  notFound: (id: number) => `没有找到问题 #${id}。请核对编号（登记时回复的 #数字），或发送 /台账 查看在办问题。`,
  wrongState: (i: Issue, need: string) => `#${i.id} 当前状态为「${STATE_NAMES[i.state]}」，${need}`,
  notHandler: (cmd: string, i: Issue, who: string | null, unit: string, example: string) =>
    `只有责任人${who ? ` ${who} ` : ''}或「${unit}」的领导可以对 #${i.id} 使用 /${cmd}，例如 ${example}${who ? '' : T.askInDirect}`,
  notLead: (cmd: string, i: Issue, unit: string, example: string) =>
    `/${cmd} 须由「${unit}」的领导操作，您不能对 #${i.id} 使用。请提醒领导发送，例如 ${example}`,
  deadlineLeft: (d: LocalDate, today: LocalDate) => {
    const left = daysBetween(today, d);
    return `时限 ${formatDate(d)}（${left >= 0 ? `剩${left}天` : `已逾期${-left}天`}）`;
  },
  progressed: (i: Issue, note: string, today: LocalDate) => `已记录 #${i.id} 进展：${note}。状态：${STATE_NAMES[i.state]}，${T.deadlineLeft(i.deadline, today)}。`,
  progressNotice: (i: Issue, by: string, note: string) => `${by} 为问题 #${i.id}（${i.place} ${i.description}）添加了进展：${note}`,
  askAnswered: '还要写明是否已答复群众（解决一件，答复一件）：已答复请回复「是」，还没有请回复「否」',
  resolved: (i: Issue, unit: string) => `已办结 #${i.id}：${i.result}。${i.answered ? '已答复群众。' : '尚未答复群众，请尽快答复。'}请「${unit}」领导发送 /销号 #${i.id} 确认销号。`,
  resolvedNotice: (i: Issue, by: string) => `${by} 已办结您负责的问题 #${i.id}：${i.result}`,
  closed: (i: Issue) => `已销号 #${i.id}：${i.place} ${i.description}。办结一件、销号一件。`,
  deferred: (id: number) => `没有销号，#${id} 保持「已办结」。决定销号时发送 /销号 #${id}，退回重办时发送 /销号 #${id} 退回 理由。`,
  verdictBoth: '这条意见里既有同意也有不同意，没有销号。确认销号请回复「确认销号」，退回重办请回复「退回」',
  verdictNeither: '没看出是否同意销号，没有销号。确认销号请回复「确认销号」，退回重办请回复「退回」',
  notFinished: (id: number, words: string) => `看起来问题还没办完（「${words}」），没有办结。办完后再 /办结 #${id}；现在的进展请用 /进展 #${id} 记录。`,
  noEscalation: (id: number) => `理由里写的是不上报，所以没有上报 #${id}。确需上报时请写明理由，例如 /上报 #${id} 需县交通局协调维修资金`,
  needRejectReason: '退回时请写明理由',
  rejected: (i: Issue, note: string, today: LocalDate) => `已退回 #${i.id}：${note}。问题重新转为「办理中」，${T.deadlineLeft(i.deadline, today)}；已通知责任人。`,
  rejectedNotice: (i: Issue, by: string, note: string) => `${by} 退回了您办结的问题 #${i.id}（${i.place} ${i.description}）：${note}。请继续办理，完成后再次 /办结 #${i.id}。`,
  needExtendReason: '延期须写明理由',
  notLater: (now: LocalDate, next: LocalDate, id: number) => `新时限 ${formatDate(next)} 不晚于当前时限 ${formatDate(now)}，不是延期。请写延长天数或更晚的日期，例如 /延期 #${id} 15天 理由`,
  stillPast: (next: LocalDate, id: number) => `延期后的时限 ${formatDate(next)} 仍已过去。请写今天以后的日期，例如 /延期 #${id} 12月31日 理由`,
  petitionOnce: (i: Issue) => `#${i.id} 是信访件，只能延期一次，已经延期过（当前时限 ${formatDate(i.deadline)}）。请按期办结，或 /上报 #${i.id} 理由。`,
  petitionMax: (i: Issue, max: LocalDate) => `#${i.id} 是信访件，延期不能超过${PETITION_DAYS}天，最晚到 ${formatDate(max)}。例如 /延期 #${i.id} 30天 理由`,
  extended: (i: Issue, from: LocalDate, note: string) => `已延期 #${i.id}：${formatDate(from)} → ${formatDate(i.deadline)}，理由：${note}。`,
  extendedNotice: (i: Issue, by: string, from: LocalDate, note: string) => `${by} 批准问题 #${i.id} 延期：${formatDate(from)} → ${formatDate(i.deadline)}（${note}）。`,
  needEscalateReason: '上报须写明理由',
  atRoot: (i: Issue, unit: string) => `#${i.id} 已在最高一级单位「${unit}」，无法再上报。请由「${unit}」领导协调办理。`,
  escalated: (i: Issue, from: string, to: string, note: string) => `已将 #${i.id} 从「${from}」上报至「${to}」：${note}。现由「${to}」领导督办、销号。`,
  escalatedNotice: (i: Issue, from: string, note: string) => `「${from}」上报问题 #${i.id}（${i.place} ${i.description}，${i.category}）：${note}。请领导查看：/台账`,
  supervised: (i: Issue, who: string | null, today: LocalDate) => `已督办 #${i.id}（第${i.superviseCount}次）：${i.place} ${i.description}，${who ? `责任人 ${who}，` : ''}${T.deadlineLeft(i.deadline, today)}。已通知责任人。`,
  superviseNotice: (i: Issue, by: string, today: LocalDate, note?: string) =>
    `【督办】${by} 第${i.superviseCount}次督办问题 #${i.id}：${i.place} ${i.description}，${T.deadlineLeft(i.deadline, today)}。${note ? `要求：${note}。` : ''}请抓紧办理，并发送 /进展 #${i.id} 报告进展。`,
  rated: (i: Issue, s: Satisfaction, callback?: boolean) => `已记录 #${i.id} 群众评价：${SATISFACTION_NAMES[s]}${callback ? T.byCallback : ''}。`,
  citizenFirst: (i: Issue) => i.citizenSatisfaction ? `群众已通过查看链接亲自评价「${SATISFACTION_NAMES[i.citizenSatisfaction as Satisfaction] ?? i.citizenSatisfaction}」，统计和台账以群众本人的评价为准。` : '',
  byCallback: '（电话回访）',
  reopened: (i: Issue, today: LocalDate, callback?: boolean) => `已记录 #${i.id} 群众评价：不满意${callback ? T.byCallback : ''}。问题重新转为「办理中」，${T.deadlineLeft(i.deadline, today)}；已通知责任人。`,
  reopenedNotice: (i: Issue, note?: string) => `群众对问题 #${i.id}（${i.place} ${i.description}）不满意${note ? `：${note}` : ''}。问题已重新转为「办理中」，请继续办理后再次 /办结 #${i.id}。`,
};

/** Positionally only the full names: a bare 困难 or 稳定 in a description stays description. */
const fullNamesOnly = <V>(a: ArgDef<V>, names: readonly string[]): ArgDef<V> => ({ ...a, find: undefined, match: (t) => names.includes(normalize(t)) });

const dateOf = (w: When, base: LocalDate) => ('days' in w ? addDays(base, w.days) : w.date);

const isPetition = (i: Pick<Issue, 'source' | 'category'>) => i.source === 'petition' || i.category === '信访';

/** resolveCadre's refusals for the person argument `label` (责任人, 责任领导): namesakes stay unnamed in a group that may not see names. */
const cadreTexts = (label: string): CadreRefTexts => ({
  unknown: (ref) => T.unknownCadre(label, ref),
  ambiguous: (_ref, name, options) => T.ambiguousCadre(label, name, options),
  hidden: T.ambiguousHidden(label),
});

async function loadIssue(ctx: Ctx, id: number): Promise<Issue> {
  const i = await issueById(ctx.db, id);
  if (!i || i.voidedAt) throw new UserError(T.notFound(id));
  return i;
}

const unitOfIssue = async (ctx: Ctx, i: Issue): Promise<Unit> => (await unitById(ctx.db, i.unitId))!;
// The named 责任领导 counts as a lead only while of leader rank (otherwise staff could name
// themselves 责任领导 and then close, extend and supervise their own issues).
const isLead = async (ctx: Ctx, i: Issue): Promise<boolean> =>
  (i.leadCadreId === ctx.cadre.id && ctx.cadre.rank === 'leader') || leads(ctx, await unitOfIssue(ctx, i));

async function requireHandler(ctx: Ctx, i: Issue, cmd: string, example: string): Promise<void> {
  if (i.responsibleCadreId === ctx.cadre.id || (await isLead(ctx, i))) return;
  throw new UserError(T.notHandler(cmd, i, namesHere(ctx) ? await cadreName(ctx, i.responsibleCadreId) : null, (await unitOfIssue(ctx, i)).name, example));
}

async function requireLead(ctx: Ctx, i: Issue, cmd: string, example: string): Promise<void> {
  if (!(await isLead(ctx, i))) throw new UserError(T.notLead(cmd, i, (await unitOfIssue(ctx, i)).name, example));
}

function requireState(i: Issue, allowed: readonly IssueState[], need: (i: Issue) => string): void {
  if (!allowed.includes(i.state)) throw new UserError(T.wrongState(i, need(i)));
}

const change = async (ctx: Ctx, i: Issue, patch: IssuePatch, action: string, note: string | null = null): Promise<Issue> =>
  changeIssue(ctx.db, i, patch, { at: ctx.now, date: ctx.today, actorCadreId: ctx.cadre.id, action, note });

/** A direct message to the responsible cadre, unless they are the one acting. */
const tellResponsible = (ctx: Ctx, i: Issue, text: string): Reply[] =>
  i.responsibleCadreId === ctx.cadre.id ? [] : [toCadre(i.responsibleCadreId, text)];

/** 已办结 or 已销号: what a problem that is no longer pending is called. */
const finished = (i: Issue) => STATE_NAMES[i.state];

export const registerCommand = defineCommand({
  name: '民情', aliases: ['issue', '问题'], group: 'issue', mode: 'write', form: 'issue',
  intent: { words: /反映|诉求|求助/, what: '登记群众反映的问题' },
  summary: '登记群众反映的问题（进入台账）',
  args: {
    place: withKeys(placeArg('地点', 60, '地点或群众，如 石门村、石门村三组王大爷家'), '地方', '群众', 'place'),
    description: withKeys(restArg('问题', 500, '问题描述'), '描述', '内容', 'description'),
    category: optional(withKeys(fullNamesOnly(choiceArg('类别', CATEGORY_WORDS, `类别：${CATEGORIES.join('、')}`), CATEGORIES), '分类', 'category')),
    ledger: optional(withKeys(fullNamesOnly(choiceArg('台账', LEDGER_WORDS, '台账：民生诉求、困难群众、稳定工作'), Object.values(LEDGER_NAMES)), 'ledger')),
    responsible: optional(withKeys(cadreRefArg('责任人'), '负责人', 'responsible')),
    lead: optional(withKeys(keyOnly({ ...cadreRefArg('责任领导'), hint: '责任领导，如 责任领导:@王强' }), '领导', 'lead')),
    department: optional(withKeys(keyOnly(textArg('责任部门', 60)), '部门', 'department')),
    deadline: optional(withKeys(whenArg('时限', '时限，如 12月31日、月底前、两周内、30天（信访件可省略，默认30天）', { bareDates: false }), '期限', '完成时限', '截止', '办结时限', 'deadline')),
    source: optional(withKeys({ ...keyOnly(choiceArg('来源', SOURCE_WORDS, '来源：走访、热线、信访、其他')), keyedOnly: false, where: 'anywhere', several: 'first',
      // A hotline is named in the text (`群众打12345热线反映…`); 信访 comes with its category.
      find: (text: string) => [...text.matchAll(/12345|市民热线|政务热线|热线电话|热线/g)].filter((m) => !/(?:不是|并非|非)\S{0,2}$/.test(text.slice(Math.max(0, m.index - 4), m.index)))
        .map((m) => ({ start: m.index, end: m.index + m[0].length, raw: '热线' })) }, 'source')),
    visit: optional(withKeys({ ...recordRefArg(), label: '走访记录', hint: '走访记录编号，如 #V12' }, '走访', 'visit')),
  },
  examples: ['/民情 石门村 道路破损影响出行 类别:基础设施 责任人:@李四 时限:12月31日', '/民情 东关社区 张大爷反映低保未到账 类别:信访', '/民情 石门村 路灯不亮 基础设施 时限:15天 走访:#V3'],
  notes: ['责任人省略时为登记人；信访件时限默认30天，其他问题须写时限。', '台账省略时：信访归稳定工作，其余归民生诉求。'],
  async handle(ctx, a) {
    const category = a.category ?? (a.source === 'petition' ? '信访' : '其他');
    const source: Source = a.source ?? (category === '信访' ? 'petition' : 'visit');
    const petition = isPetition({ source, category });
    if (!a.deadline && !petition) throw new AskFor('deadline', 'missing', undefined, T.needDeadline);
    const deadline = a.deadline ? dateOf(a.deadline, ctx.today) : addDays(ctx.today, PETITION_DAYS);
    if (deadline < ctx.today) throw new UserError(T.pastDeadline(deadline));
    const furthest = addDays(ctx.today, MAX_DEADLINE_DAYS);
    if (deadline > furthest) throw new UserError(T.tooFar(deadline, furthest, '时限:12月31日 或 时限:90天'));
    const latest = addDays(ctx.today, PETITION_DAYS);
    if (petition && deadline > latest) throw new UserError(T.petitionTooLong(deadline, latest));
    if (a.visit) {
      if (a.visit.type !== 'visit') throw new UserError(T.notVisitRef);
      const v = await visitById(ctx.db, a.visit.id);
      if (!v || v.voidedAt) throw new UserError(T.visitNotFound(a.visit.id));
    }
    const responsible = a.responsible ? await resolveCadre(ctx, a.responsible, cadreTexts('责任人')) : ctx.cadre;
    const lead = a.lead ? await resolveCadre(ctx, a.lead, cadreTexts('责任领导')) : null;
    if (lead && lead.rank !== 'leader') throw new UserError(namesHere(ctx) ? T.leadNotLeader(lead.name) : T.leadNotLeader(...T.leadNotLeaderHidden));
    const unit = ctx.chatUnit ?? (await unitOf(ctx));
    const o = originOf(ctx);
    const i = await insertIssue(ctx.db, {
      unitId: unit.id, originUnitId: unit.id, ledger: a.ledger ?? (category === '信访' ? 'stability' : 'livelihood'),
      category, place: a.place, description: a.description, responsibleCadreId: responsible.id, leadCadreId: lead?.id ?? null,
      department: a.department ?? null, deadline, source, visitId: a.visit?.id ?? null, state: 'open',
      reporterCadreId: ctx.cadre.id, evidence: ctx.event.attachments.length ? JSON.stringify(ctx.event.attachments) : null,
      platform: o.platform, chatId: o.chatId, messageId: o.messageId, createdAt: o.at, createdDate: ctx.today,
    });
    await addIssueEvent(ctx.db, { issueId: i.id, at: ctx.now, date: ctx.today, actorCadreId: ctx.cadre.id, action: 'register', fromState: null, toState: 'open' });
    const who = namesHere(ctx) ? T.responsibleIs(responsible.name) : responsible.id === ctx.cadre.id ? T.responsibleSelf : T.responsibleTold;
    const leadName = lead && nameHere(ctx, lead.name, T.leadHidden);
    const lines = [T.registered(i, who), ...(lead || i.department ? [T.leadAndDept(leadName, i.department)] : []), T.undoHint];
    // With public pages on, the reporter also gets the citizen's link and QR code.
    return [toChat(lines.join('\n')), ...tellResponsible(ctx, i, T.assigned(i, ctx.cadre.name)), ...((await issueLinkReplies(ctx, i, { quiet: true })) ?? [])];
  },
});

export const progressCommand = defineCommand({
  name: '进展', aliases: ['progress', '任务'], group: 'issue', mode: 'write',
  summary: '为问题添加办理措施/进展（任务清单）',
  args: { issue: issueRefArg(), note: withKeys(restArg('进展', 500, '措施或进展，如 已联系交通局，列入下月维修计划'), '措施', 'note') },
  examples: ['/进展 #12 已联系交通局，列入下月维修计划'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireHandler(ctx, i, '进展', `/进展 #${i.id} 已联系交通局`);
    requireState(i, PENDING_STATES, (x) => x.state === 'resolved'
      ? `不能再添加进展；如需继续办理，请领导发送 /销号 #${x.id} 退回 理由`
      : `不能再添加进展；群众不满意时可发送 /评价 #${x.id} 不满意 重新办理`);
    i = await change(ctx, i, { state: 'in_progress' }, 'progress', a.note);
    return [toChat(T.progressed(i, a.note, ctx.today)), ...tellResponsible(ctx, i, T.progressNotice(i, ctx.cadre.name, a.note))];
  },
});

export const resolveCommand = defineCommand({
  name: '办结', aliases: ['resolve', '解决'], group: 'issue', mode: 'write',
  summary: '记录办理结果及是否已答复群众（效果清单）',
  args: {
    issue: issueRefArg(),
    result: withKeys(restArg('结果', 500, '办理结果，写明是否已告知群众'), 'result'),
    answered: optional(withKeys(keyOnly({ ...choiceArg('答复', ANSWER_WORDS, '答复：是 或 否（已告知群众吗）'),
      read: (s: string) => { const w = ANSWER_TABLE.get(normalize(s)); if (w) return w; const r = readAnswered(s); return r === undefined ? null : r ? 'yes' as const : 'no' as const; } }), '已答复', '告知', '是否告知', '是否答复', '告知群众', 'answered')),
  },
  examples: ['/办结 #12 路面已修复，已电话告知群众', '/办结 #12 已协调发放补助 答复:是'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireHandler(ctx, i, '办结', `/办结 #${i.id} 路面已修复，已电话告知群众`);
    requireState(i, PENDING_STATES, (x) => (x.state === 'resolved' ? `无需重复办结；请领导发送 /销号 #${x.id}` : '已经销号，无需办结。'));
    const unfinished = UNFINISHED.exec(normalize(a.result));
    if (unfinished) throw new UserError(T.notFinished(i.id, unfinished[0]));
    const answered = a.answered ? a.answered === 'yes' : readAnswered(a.result);
    if (answered === undefined) throw new AskFor('answered', 'missing', undefined, T.askAnswered);
    i = await change(ctx, i, { state: 'resolved', result: a.result, answered, resolvedAt: ctx.now.getTime(), resolvedDate: ctx.today }, 'resolve', a.result);
    return [toChat(T.resolved(i, (await unitOfIssue(ctx, i)).name)), ...tellResponsible(ctx, i, T.resolvedNotice(i, ctx.cadre.name))];
  },
});

export const closeCommand = defineCommand({
  name: '销号', aliases: ['close'], group: 'issue', mode: 'write',
  summary: '领导确认办结并销号；或退回重办',
  args: {
    issue: issueRefArg(),
    verdict: optional(choiceArg('退回', { 退回: 'reject', 驳回: 'reject', reject: 'reject', 同意: 'close', 同意销号: 'close', 通过: 'close', 确认: 'close', 销号: 'close', close: 'close', 确认销号: 'confirm' }, '确认销号 或 退回（退回须写理由）')),
    note: optional(withKeys(restArg('理由', 200), '说明', 'note')),
  },
  examples: ['/销号 #12', '/销号 #12 退回 群众反映路面仍有坑洼'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireLead(ctx, i, '销号', `/销号 #${i.id}`);
    // A lead's words decide (docs/rules.md#issue-workflow): a refusal returns the issue, an acceptance
    // or no words closes it, and words that say neither — or both — are asked about.
    const words = normalize(a.note ?? '').replace(NOT_A_REFUSAL, '');
    if (a.verdict !== 'reject' && a.verdict !== 'close' && a.verdict !== 'confirm' && DEFER.test(words)) throw new UserError(T.deferred(i.id));
    // Acceptance is read in the words as written: `没有遗留问题` is taken out above as no refusal, and is an acceptance.
    const refusal = REFUSAL.test(words), acceptance = ACCEPT.test(normalize(a.note ?? ''));
    // 确认销号 (the answer to this question) closes whatever the words say.
    if (a.verdict !== 'confirm' && ((a.verdict !== 'reject' && a.verdict !== 'close' && a.note && refusal === acceptance) || (a.verdict === 'close' && refusal))) {
      requireState(i, ['resolved'], (x) => x.state === 'closed' ? '无需重复销号。' : `需先 /办结 才能 /销号，例如 /办结 #${x.id} 路面已修复，已电话告知群众`);
      throw new AskFor('verdict', 'missing', undefined, refusal ? T.verdictBoth : T.verdictNeither);
    }
    const refuses = a.verdict === 'reject' || (a.verdict !== 'close' && a.verdict !== 'confirm' && refusal);
    if (refuses) {
      requireState(i, ['resolved'], (x) => `只有「已办结」的问题可以退回，例如 /销号 #${x.id} 退回 理由`);
      // `不予销号`, `驳回` alone say the verdict, not why: the responsible cadre would not know what to redo.
      if (!a.note || !normalize(a.note).replace(VERDICT_ONLY, '').replace(/[\s\p{P}]/gu, '')) throw new AskFor('note', 'missing', undefined, T.needRejectReason);
      i = await change(ctx, i, { state: 'in_progress', resolvedAt: null, resolvedDate: null }, 'reject', a.note);
      return [toChat(T.rejected(i, a.note, ctx.today)), ...tellResponsible(ctx, i, T.rejectedNotice(i, ctx.cadre.name, a.note))];
    }
    requireState(i, ['resolved'], (x) => x.state === 'closed' ? '无需重复销号。'
      : `需先 /办结 才能 /销号，例如 /办结 #${x.id} 路面已修复，已电话告知群众`);
    i = await change(ctx, i, { state: 'closed', closedAt: ctx.now.getTime() }, 'close', a.note ?? null);
    return T.closed(i);
  },
});

export const extendCommand = defineCommand({
  name: '延期', aliases: ['extend'], group: 'issue', mode: 'write',
  summary: '领导批准延长问题的办理时限',
  args: {
    issue: issueRefArg(),
    until: withKeys(whenArg('新时限', '延长天数如 30天，或新的时限日期如 12月31日'), '延期', '延至', '时限', 'until'),
    reason: optional(withKeys(restArg('理由', 200), 'reason')),
  },
  examples: ['/延期 #12 30天 需等待交通局排期施工', '/延期 #12 12月31日 资金下月到位'],
  notes: ['信访件只能延期一次，且不超过30天。'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireLead(ctx, i, '延期', `/延期 #${i.id} 15天 理由`);
    requireState(i, PENDING_STATES, (x) => `${finished(x)}的问题不能延期。`);
    if (!a.reason) throw new AskFor('reason', 'missing', undefined, T.needExtendReason);
    const from = i.deadline, next = dateOf(a.until, from);
    if (next <= from) throw new UserError(T.notLater(from, next, i.id));
    if (next < ctx.today) throw new UserError(T.stillPast(next, i.id));
    const furthest = addDays(ctx.today, MAX_DEADLINE_DAYS);
    if (next > furthest) throw new UserError(T.tooFar(next, furthest, `/延期 #${i.id} 30天 理由`));
    if (isPetition(i)) {
      if (i.extensions >= 1) throw new UserError(T.petitionOnce(i));
      if (daysBetween(from, next) > PETITION_DAYS) throw new UserError(T.petitionMax(i, addDays(from, PETITION_DAYS)));
    }
    i = await change(ctx, i, { deadline: next, extensions: i.extensions + 1 }, 'extend', `${from} → ${next}：${a.reason}`);
    return [toChat(T.extended(i, from, a.reason)), ...tellResponsible(ctx, i, T.extendedNotice(i, ctx.cadre.name, from, a.reason))];
  },
});

export const escalateCommand = defineCommand({
  name: '上报', aliases: ['escalate'], group: 'issue', mode: 'write',
  summary: '本单位解决不了的问题上报上级单位',
  args: { issue: issueRefArg(), reason: optional(withKeys(restArg('理由', 200), 'reason')) },
  examples: ['/上报 #12 需县交通局协调维修资金'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireHandler(ctx, i, '上报', `/上报 #${i.id} 理由`);
    requireState(i, PENDING_STATES, (x) => `${finished(x)}的问题不能上报。`);
    if (!a.reason) throw new AskFor('reason', 'missing', undefined, T.needEscalateReason);
    if (NO_ESCALATION.test(normalize(a.reason))) throw new UserError(T.noEscalation(i.id));
    const unit = await unitOfIssue(ctx, i);
    const parent = await parentOf(ctx.db, unit);
    if (!parent) throw new UserError(T.atRoot(i, unit.name));
    i = await change(ctx, i, { state: 'escalated', unitId: parent.id }, 'escalate', `${unit.name} → ${parent.name}：${a.reason}`);
    const groups = (await chatsOfUnit(ctx.db, parent.id)).filter((g) => !(g.platform === ctx.event.platform && g.chatId === ctx.event.chatId));
    return [toChat(T.escalated(i, unit.name, parent.name, a.reason)),
      ...groups.map((g) => toChat(T.escalatedNotice(i, unit.name, a.reason!), { target: g.chatId, platform: g.platform }))];
  },
});

export const superviseCommand = defineCommand({
  name: '督办', aliases: ['supervise', '催办'], group: 'issue', mode: 'write',
  summary: '领导督办问题，责任人立即收到通知',
  args: { issue: issueRefArg(), note: optional(withKeys(restArg('要求', 200), '说明', 'note')) },
  examples: ['/督办 #12', '/督办 #12 本周内拿出维修方案'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireLead(ctx, i, '督办', `/督办 #${i.id}`);
    requireState(i, PENDING_STATES, (x) => `${finished(x)}的问题无需督办。`);
    i = await change(ctx, i, { superviseCount: i.superviseCount + 1 }, 'supervise', a.note ?? null);
    const notice = toCadre(i.responsibleCadreId, T.superviseNotice(i, ctx.cadre.name, ctx.today, a.note));
    return [toChat(T.supervised(i, namesHere(ctx) ? await cadreName(ctx, i.responsibleCadreId) : null, ctx.today)), notice];
  },
});

export const rateCommand = defineCommand({
  name: '评价', aliases: ['rate', '满意度'], group: 'issue', mode: 'write',
  summary: '记录群众对办理结果的评价：满意、基本满意、不满意',
  args: {
    issue: issueRefArg(),
    // Optional only so that a wrong word gets its own answer (it lands in the note otherwise).
    rating: optional(choiceArg('评价', RATING_WORDS, '评价：满意、基本满意、不满意', { inText: true, several: 'ask' })),
    // 回访: the rating was heard on a call-back after /办结, as the 回访 reminder asks.
    callback: optional(choiceArg('回访', CALLBACK_WORDS, '回访（电话回访群众后写上）', { inText: true })),
    note: optional(withKeys(restArg('说明', 200), 'note')),
  },
  examples: ['/评价 #12 满意', '/评价 #12 满意 回访', '/评价 #12 不满意 路面又出现裂缝'],
  notes: ['不满意的问题重新转为办理中。', '电话回访群众后写上“回访”，记录评价来自回访。'],
  async handle(ctx, a) {
    let i = await loadIssue(ctx, a.issue);
    await requireHandler(ctx, i, '评价', `/评价 #${i.id} 满意`);
    requireState(i, ['resolved', 'closed'], (x) => `办结后才能评价；请先 /办结 #${x.id} 结果`);
    // `说不上满不满意`, `不是不满意`: a double negation is no rating.
    if (a.note && /不在家|没见到|没联系上|联系不上|未联系上|没人接|无人接听|打不通/.test(normalize(a.note))) throw new AskFor('rating', 'missing', undefined, '群众本人没有联系上，评价要由群众本人作出');
    if (a.note && /满不满意|不是不满意|不能说不满意/.test(normalize(a.note))) throw new AskFor('rating', 'missing', undefined, `「${a.note.slice(0, 20)}」看不出是哪种评价`);
    if (!a.rating) throw new AskFor('rating', 'missing', undefined, a.note ? `「${a.note.slice(0, 20)}」看不出是哪种评价` : '还没有写群众评价');
    const via = a.callback ? T.byCallback : '';
    if (a.rating !== 'dissatisfied') {
      i = await change(ctx, i, { satisfaction: a.rating }, 'rate', [SATISFACTION_NAMES[a.rating] + via, a.note].filter(Boolean).join('：'));
      return T.rated(i, a.rating, !!a.callback) + T.citizenFirst(i);
    }
    i = await change(ctx, i, { state: 'in_progress', satisfaction: a.rating, resolvedAt: null, resolvedDate: null, closedAt: null },
      'reopen', ['群众评价：不满意' + via, a.note].filter(Boolean).join('：'));
    return [toChat(T.reopened(i, ctx.today, !!a.callback)), ...tellResponsible(ctx, i, T.reopenedNotice(i, a.note))];
  },
});

export const issueCommands = [registerCommand, progressCommand, resolveCommand, closeCommand, extendCommand,
  escalateCommand, superviseCommand, rateCommand, citizenLinkCommand, ...issueListCommands];
