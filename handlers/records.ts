/**
 * Reporting: /走访 (visits), /志愿 (volunteer hours), /核查 (a lead verifies or returns a
 * record, 000 §16) and /撤销 (void my last record within 10 minutes).
 *
 * Decisions: a visit's kind defaults from its place (…村/社区 → 到村, …企业/公司/厂 → 走访企业,
 * else 其他); 1天 = 8 working hours; a record dated more than 7 days back (补报) is kept but
 * counts only after a lead's /核查 通过; a returned record stops counting until a lead passes it.
 */
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, dateArg, durationArg, numberArg, optional, recordRefArg, restArg, textArg, withKeys } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { daysBetween, formatDate, periodOf, WORKDAY_HOURS, type LocalDate } from '../bot/time.js';
import { insertVisit, insertVolunteer, lastRecordSince, setVerification, visitById, visitTotals, voidRecord, volunteerById } from '../storage/records.js';
import { voidIssue } from '../storage/issues.js';
import { unitById } from '../storage/units.js';
import type { Origin, VisitKind } from '../storage/types.js';
import { leads } from './policy.js';

const BACKDATE_DAYS = 7;
const UNDO_MINUTES = 10;

export const KIND_NAMES: Record<VisitKind, string> = {
  household: '入户走访', village: '到村/社区', residency: '驻村蹲点', enterprise: '走访企业',
  meeting: '调研座谈', briefing: '政策宣讲', talk: '谈心谈话', other: '其他',
};

const KIND_WORDS: Record<string, VisitKind> = {
  入户: 'household', 入户走访: 'household', 走访户: 'household', 家访: 'household', household: 'household',
  到村: 'village', 进村: 'village', 到社区: 'village', 进社区: 'village', '到村/社区': 'village', 下村: 'village', village: 'village',
  驻村: 'residency', 蹲点: 'residency', 驻村蹲点: 'residency', residency: 'residency',
  企业: 'enterprise', 走访企业: 'enterprise', 服务企业: 'enterprise', enterprise: 'enterprise',
  座谈: 'meeting', 调研: 'meeting', 调研座谈: 'meeting', meeting: 'meeting',
  宣讲: 'briefing', 政策宣讲: 'briefing', briefing: 'briefing',
  谈心: 'talk', 谈话: 'talk', 谈心谈话: 'talk', talk: 'talk',
  其他: 'other', other: 'other',
};

const T = {
  future: (d: LocalDate) => `日期 ${formatDate(d)} 还没到，不能填报未来的记录。请写今天或之前的日期，例如 今天、昨天、11月20日。`,
  backdated: `（补报：超过${BACKDATE_DAYS}天，需领导 /核查 通过后才计入统计）`,
  visitSaved: (id: number, d: LocalDate, place: string, kind: VisitKind, hours: number) =>
    `已记录走访 #V${id}：${formatDate(d)} ${place} ${KIND_NAMES[kind]} ${hoursText(hours)}。`,
  volunteerSaved: (id: number, d: LocalDate, place: string, hours: number) =>
    `已记录志愿服务 #Z${id}：${formatDate(d)} ${place} ${hoursText(hours)}。`,
  monthSoFar: (count: number, hours: number) => `本月已走访 ${count} 次，共 ${hoursText(hours)}。`,
  undoHint: `发错了？${UNDO_MINUTES}分钟内发送 /撤销 可作废。`,
  notFound: (ref: string) => `没有找到记录 ${ref}。请核对编号（走访记录如 #V12，志愿记录如 #Z12）。`,
  notLead: (ref: string) => `只有该记录所在单位的领导才能核查 ${ref}。`,
  voided: (ref: string) => `${ref} 已撤销，无需核查。`,
  verified: (ref: string) => `已核查通过 ${ref}，该记录计入统计。`,
  returned: (ref: string, note: string) => `已退回 ${ref}：${note}。该记录暂不计入统计，请填报人更正后重新填报。`,
  returnedNotice: (ref: string, note: string) => `您的记录 ${ref} 被退回：${note}。请更正后重新填报（原记录不再计入统计）。`,
  needReason: '退回时请写明理由，例如 /核查 #V12 退回 日期与工作日志不符',
  nothingToUndo: `没有可撤销的记录：只能撤销自己${UNDO_MINUTES}分钟内填报的最后一条记录。`,
  undone: (what: string) => `已撤销${what}。记录保留但不再计入统计。`,
};

export function hoursText(h: number): string {
  const r = (x: number) => Math.round(x * 100) / 100;
  return h >= WORKDAY_HOURS && h % (WORKDAY_HOURS / 2) === 0 ? `${r(h / WORKDAY_HOURS)}天` : `${r(h)}小时`;
}

function kindFromPlace(place: string): VisitKind {
  if (/(村|社区|小区|屯|组)$/.test(place)) return 'village';
  if (/(企业|公司|厂|集团|合作社)$/.test(place)) return 'enterprise';
  return 'other';
}

export function originOf(ctx: Ctx): Origin {
  const e = ctx.event;
  return { platform: e.platform, chatId: e.chatId, messageId: e.messageId ?? null, at: ctx.now.getTime() };
}

/** Future dates are refused; dates over a week back are kept as 补报 awaiting /核查. */
function checkDate(ctx: Ctx, date: LocalDate | undefined): { date: LocalDate; backdated: boolean } {
  const d = date ?? ctx.today;
  const age = daysBetween(d, ctx.today);
  if (age < 0) throw new UserError(T.future(d));
  return { date: d, backdated: age > BACKDATE_DAYS };
}

function evidenceOf(ctx: Ctx): string | null {
  return ctx.event.attachments.length ? JSON.stringify(ctx.event.attachments) : null;
}

export const visitCommand = defineCommand({
  name: '走访', aliases: ['visit', '下基层'], group: 'record', mode: 'write', form: 'visit',
  summary: '记录一次走访（下基层）',
  args: {
    date: optional(dateArg()),
    place: withKeys(textArg('地点', 60, '地点，如 石门村、东关社区'), '地方', 'place'),
    kind: optional(withKeys(choiceArg('类型', KIND_WORDS, '类型：入户、到村、驻村、企业、座谈、宣讲、谈心、其他'), 'type')),
    duration: withKeys(durationArg(), '用时'),
    households: optional(withKeys(numberArg('户数', 0, 1000), 'households')),
    content: optional(withKeys(restArg('内容'), '事项', 'content')),
  },
  examples: ['/走访 昨天 石门村 入户 1天 走访困难户3户，了解就医难', '/走访 今天 东关社区 宣讲 半天 宣讲医保政策', '/走访\n日期：11月20日\n地点：石门村\n类型：驻村\n时长：两天'],
  notes: ['日期可省略（默认今天）；超过7天的补报需领导 /核查。', '类型省略时按地点推断：…村/社区 为到村，…企业/公司 为走访企业。', '户数可省略：内容里写“3户”会自动识别，入户走访默认1户。'],
  handle(ctx, a) {
    const { date, backdated } = checkDate(ctx, a.date);
    const kind = a.kind ?? kindFromPlace(a.place);
    const content = a.content ?? '';
    const households = a.households ?? Number(/(\d+)\s*户/.exec(content)?.[1] ?? (kind === 'household' ? 1 : 0));
    const id = insertVisit(ctx.db, {
      cadreId: ctx.cadre.id, unitId: ctx.cadre.unitId, date, hours: a.duration, place: a.place, kind, households,
      content, status: backdated ? 'pending' : 'ok', backdated, evidence: evidenceOf(ctx),
    }, originOf(ctx));
    const month = periodOf('month', ctx.today);
    const totals = visitTotals(ctx.db, ctx.cadre.id, month.start, month.end);
    return [T.visitSaved(id, date, a.place, kind, a.duration), backdated ? T.backdated : T.monthSoFar(totals.count, totals.hours), T.undoHint].join('\n');
  },
});

export const volunteerCommand = defineCommand({
  name: '志愿', aliases: ['volunteer', '志愿服务', '义工'], group: 'record', mode: 'write', form: 'volunteer',
  summary: '记录志愿服务时长',
  args: {
    date: optional(dateArg()),
    duration: withKeys(durationArg('时长'), '小时', 'hours'),
    place: withKeys(textArg('地点', 60, '地点，如 县福利院'), 'place'),
    activity: optional(withKeys(restArg('活动', 200), '内容', 'activity')),
  },
  examples: ['/志愿 3小时 县福利院 义工日', '/志愿 上周六 2小时 东关社区 垃圾分类宣传'],
  notes: ['志愿服务按小时计；1天按8小时。每季度最后一个周末为义工日。'],
  handle(ctx, a) {
    const { date, backdated } = checkDate(ctx, a.date);
    const id = insertVolunteer(ctx.db, {
      cadreId: ctx.cadre.id, unitId: ctx.cadre.unitId, date, hours: a.duration, place: a.place, activity: a.activity ?? '',
      status: backdated ? 'pending' : 'ok', backdated,
    }, originOf(ctx));
    return [T.volunteerSaved(id, date, a.place, a.duration), ...(backdated ? [T.backdated] : []), T.undoHint].join('\n');
  },
});

export const verifyCommand = defineCommand({
  name: '核查', aliases: ['verify'], group: 'record', mode: 'write',
  summary: '领导核查走访/志愿记录：通过或退回',
  args: {
    record: recordRefArg(),
    verdict: choiceArg('结论', { 通过: 'pass', 同意: 'pass', pass: 'pass', 退回: 'return', 驳回: 'return', return: 'return' }, '结论：通过 或 退回'),
    note: optional(restArg('理由', 200)),
  },
  examples: ['/核查 #V12 通过', '/核查 #Z3 退回 时长与签到记录不符'],
  handle(ctx, a) {
    const ref = `#${a.record.type === 'visit' ? 'V' : 'Z'}${a.record.id}`;
    const rec = a.record.type === 'visit' ? visitById(ctx.db, a.record.id) : volunteerById(ctx.db, a.record.id);
    if (!rec) throw new UserError(T.notFound(ref));
    if (rec.voidedAt) throw new UserError(T.voided(ref));
    const unit = unitById(ctx.db, rec.unitId)!;
    if (!leads(ctx, unit)) throw new UserError(T.notLead(ref));
    if (a.verdict === 'return' && !a.note) throw new UserError(T.needReason);
    setVerification(ctx.db, a.record.type, rec.id, a.verdict === 'pass' ? 'verified' : 'returned', ctx.cadre.id, a.note ?? null);
    if (a.verdict === 'pass') return T.verified(ref);
    const out: Reply[] = [toChat(T.returned(ref, a.note!))];
    if (rec.cadreId !== ctx.cadre.id) out.push(toCadre(rec.cadreId, T.returnedNotice(ref, a.note!)));
    return out;
  },
});

export const undoCommand = defineCommand({
  name: '撤销', aliases: ['undo'], group: 'record', mode: 'write',
  summary: `撤销自己${UNDO_MINUTES}分钟内的最后一条记录`,
  args: {},
  examples: ['/撤销'],
  handle(ctx) {
    const last = lastRecordSince(ctx.db, ctx.cadre.id, ctx.now.getTime() - UNDO_MINUTES * 60_000);
    if (!last) throw new UserError(T.nothingToUndo);
    if (last.type === 'issue') {
      voidIssue(ctx.db, last.id, ctx.cadre.id, ctx.now, ctx.today);
      return T.undone(`问题 #${last.id}`);
    }
    voidRecord(ctx.db, last.type, last.id, ctx.now.getTime());
    return T.undone(last.type === 'visit' ? `走访记录 #V${last.id}` : `志愿记录 #Z${last.id}`);
  },
});

export const recordCommands = [visitCommand, volunteerCommand, verifyCommand, undoCommand];
