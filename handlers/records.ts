/**
 * Reporting: /走访 (visits), /志愿 (volunteer hours), /核查 (a lead verifies or returns a
 * record, docs/rules.md#backdated-records) and /撤销 (void my last record within 10 minutes).
 *
 * Decisions: a visit's kind defaults from its place (…村/社区 → 到村, …企业/公司/厂 → 走访企业,
 * else 其他); 1天 = 8 working hours; a record dated more than 7 days back (补报) is kept but
 * counts only after a lead's /核查 通过; a returned record stops counting until a lead passes it.
 */
import { defineCommand, type CommandDef, type Ctx } from '../bot/command.js';
import { collectArgs, validateArgs } from '../bot/parse.js';
import { normalize, normalizeText } from '../bot/normalize.js';
import { findDates, findHouseholds, type DayPart } from '../bot/spans.js';
import { choiceArg, dateArg, durationArg, householdsArg, optional, placeArg, recordRefArg, restArg, withKeys, type ArgDef, type DateValue, type ReadEnv } from '../bot/args.js';
import { AskFor, UserError } from '../bot/errors.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { daysBetween, formatDate, localMinutes, periodOf, WORKDAY_HOURS, type LocalDate } from '../bot/time.js';
import { editRecord, insertVisit, insertVolunteer, lastRecordSince, setVerification, visitById, visitTotals, voidRecord, volunteerById } from '../storage/records.js';
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
  laterToday: (part: string) => `今天${part}还没到，不能填报未来的记录。走访结束后再发送，或写实际的日期和时段，例如 昨天下午。`,
  future: (d: LocalDate) => `日期 ${formatDate(d)} 还没到，不能填报未来的记录。请写今天或之前的日期，例如 今天、昨天、11月20日。`,
  backdated: `（补报：超过${BACKDATE_DAYS}天，需领导 /核查 通过后才计入统计）`,
  visitSaved: (id: number, fields: string) => `已记录走访 #V${id}：${fields}。`,
  volunteerSaved: (id: number, fields: string) => `已记录志愿服务 #Z${id}：${fields}。`,
  dateField: (d: LocalDate, today: LocalDate, part: string | null | undefined, given: boolean) =>
    `日期 ${shortDate(d, today)}${relativeName(d, today, given)}${part ? part : ''}`,
  kindField: (kind: VisitKind, given: boolean) => `${KIND_NAMES[kind]}${given ? '' : '（按内容推断）'}`,
  householdsField: (n: number, given: boolean) => `${n}户${given ? '' : '（入户默认1户）'}`,
  fixHint: (ref: string) => `有误可在${UNDO_MINUTES}分钟内发送 /修改 ${ref} 日期：前天（或 地点、类型、时长、户数），发错了可 /撤销。`,
  edited: (ref: string, fields: string) => `已修改 ${ref}：${fields}。`,
  nothingEdited: (ref: string) => `${ref} 没有需要修改的内容。请写要改的项，例如 /修改 ${ref} 日期：前天 或 /修改 ${ref} 时长：3小时`,
  editUnclear: (ref: string, field: string, note?: string) =>
    `${note ? `${note}。` : ''}没看懂新的${field}，${ref} 没有修改。请写一个确定的值，例如 /修改 ${ref} ${field}：${EDIT_EXAMPLES[field] ?? '…'}`,
  editByValue: (ref: string) => `请直接写改后的值，例如 /修改 ${ref} 时长：6小时（不写“增加”“减少”）。`,
  notYours: (ref: string) => `${ref} 不是您填报的记录，只能修改自己的记录。`,
  editTooLate: (ref: string) => `${ref} 已超过${UNDO_MINUTES}分钟，不能再修改。如有错误，请联系单位领导 /核查 退回后重新填报。`,
  monthSoFar: (count: number, hours: number) => `本月已走访 ${count} 次，共 ${hoursText(hours)}。`,
  undoHint: `发错了？${UNDO_MINUTES}分钟内发送 /撤销 可作废。`,
  visitRef: (id: number) => `#V${id}`,
  notDone: (words: string) => `看起来这次还没去（「${words}」），没有记录。走访之后再填报；已经去过请把日期和时长写清楚重新发送。`,
  notFound: (ref: string) => `没有找到记录 ${ref}。请核对编号（走访记录如 #V12，志愿记录如 #Z12）。`,
  notLead: (ref: string) => `只有该记录所在单位的领导才能核查 ${ref}。`,
  voided: (ref: string) => `${ref} 已撤销，无需核查。`,
  verified: (ref: string) => `已核查通过 ${ref}，该记录计入统计。`,
  returned: (ref: string, note: string) => `已退回 ${ref}：${note}。该记录暂不计入统计，请填报人更正后重新填报。`,
  returnedNotice: (ref: string, note: string) => `您的记录 ${ref} 被退回：${note}。请更正后重新填报（原记录不再计入统计）。`,
  needReason: '退回时请写明理由，例如 /核查 #V12 退回 日期与工作日志不符',
  nothingToUndo: `没有可撤销的记录：只能撤销自己${UNDO_MINUTES}分钟内填报的最后一条记录。`,
  nothingToEdit: `没有可修改的记录：只能修改自己${UNDO_MINUTES}分钟内填报的记录。`,
  undone: (what: string) => `已撤销${what}。记录保留但不再计入统计。`,
};

const RELATIVE_NAMES = new Map([[0, '今天'], [-1, '昨天'], [-2, '前天']]);
/** `（昨天）` after a date the cadre wrote; `（未写日期，按今天）` when the date is the default. */
function relativeName(d: LocalDate, today: LocalDate, given: boolean): string {
  if (!given) return '（未写日期，按今天）';
  const name = RELATIVE_NAMES.get(daysBetween(today, d));
  return name ? `（${name}）` : '';
}
function shortDate(d: LocalDate, today: LocalDate): string {
  return d.slice(0, 4) === today.slice(0, 4) ? formatDate(d).replace(/^\d{4}年/, '') : formatDate(d);
}

export function hoursText(h: number): string {
  const r = (x: number) => Math.round(x * 100) / 100;
  return h >= WORKDAY_HOURS && h % (WORKDAY_HOURS / 2) === 0 ? `${r(h / WORKDAY_HOURS)}天` : `${r(h)}小时`;
}

const countHouseholds = (text: string) => findHouseholds(normalizeText(text)).reduce((n, f) => n + Number(f.raw), 0);

/** The kind when none was written: households counted mean 入户走访, else the place's shape. */
function inferKind(place: string, households: number | undefined): VisitKind {
  if (households) return 'household';
  return kindFromPlace(place);
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

const EDIT_EXAMPLES: Record<string, string> = { 日期: '前天', 地点: '石门村', 类型: '入户', 时长: '3小时', 户数: '3', 活动: '清扫街道' };

/** Future dates are refused; dates over a week back are kept as 补报 awaiting /核查. */
function checkDate(ctx: Ctx, date: LocalDate | undefined, part?: DayPart): { date: LocalDate; backdated: boolean } {
  const d = date ?? ctx.today;
  // A record dated before the cadre's own message day is fine; one after it is refused, never moved.
  const age = daysBetween(d, ctx.today);
  if (age < 0) throw new UserError(T.future(d));
  // `今天下午` sent at 09:30 is a plan too: the part of today has not begun.
  if (age === 0 && part && localMinutes(ctx.now, ctx.tz) < PART_STARTS[part]) throw new UserError(T.laterToday(part));
  return { date: d, backdated: age > BACKDATE_DAYS };
}
/** When each part of the day begins, in minutes after midnight (上午 has always begun by a cadre's working day). */
const PART_STARTS: Record<DayPart, number> = { 上午: 0, 中午: 11 * 60, 下午: 12 * 60, 晚上: 17 * 60 };

// A visit planned or called off is not a visit (`原定…因下雨取消了`, `今天计划去…`).
const NOT_DONE = /取消了|取消|没去成|没有去成|没能去|改天再去|改期|推迟到|计划去|计划入户|准备去|打算去|预计(?!用时)|明天去|下周去|原定/;

/** Reads the message and what the record says (a draft's first message lives in its content). */
function refuseIfNotDone(ctx: Ctx, ...texts: Array<string | undefined>): void {
  const m = NOT_DONE.exec(normalize([ctx.event.text ?? '', ...texts].join(' ')));
  if (m) throw new UserError(T.notDone(m[0]));
}

function evidenceOf(ctx: Ctx): string | null {
  return ctx.event.attachments.length ? JSON.stringify(ctx.event.attachments) : null;
}

const KIND_CHOICE = withKeys(choiceArg('类型', KIND_WORDS, '类型：入户、到村、驻村、企业、座谈、宣讲、谈心、其他', { inText: true }), 'type', '方式', '走访方式', '走访类型', '形式', '走访形式');

export const visitCommand = defineCommand({
  name: '走访', aliases: ['visit', '下基层'], group: 'record', mode: 'write', form: 'visit',
  intent: { words: /走访|入户|下基层|下村|下沉|蹲点|驻村|调研|座谈|宣讲|谈心/, what: '记录一次走访' },
  summary: '记录一次走访（下基层）',
  args: {
    date: optional(withKeys(dateArg(), '时间', 'date')),
    place: withKeys(placeArg('地点', 60, '地点，如 石门村、东关社区'), '地方', 'place'),
    kind: optional(KIND_CHOICE),
    duration: withKeys(durationArg(), '用时', 'duration'),
    households: optional(withKeys(householdsArg(), 'households')),
    content: optional(withKeys(restArg('内容'), '事项', 'content')),
  },
  examples: ['/走访 昨天 石门村 入户 1天 走访困难户3户，了解就医难', '/走访 今天 东关社区 宣讲 半天 宣讲医保政策', '/走访\n日期：11月20日\n地点：石门村\n类型：驻村\n时长：两天'],
  notes: ['也可以整句写：/走访 昨天下午去石门村走访了三户，用时两个小时。', '日期可省略（默认今天）；超过7天的补报需领导 /核查。', '类型省略时：写了户数为入户走访，否则按地点推断（…村/社区 为到村，…企业/公司 为走访企业）。', '缺少地点或时长时会追问，回复即可补全。'],
  async handle(ctx, a) {
    refuseIfNotDone(ctx, a.content);
    const { date, backdated } = checkDate(ctx, a.date?.date, a.date?.part);
    const content = a.content ?? '';
    // A card's content is read for counts the way a typed message is (`走访困难户2户`).
    const counted = a.households ?? (countHouseholds(content) || undefined);
    const kind = a.kind ?? inferKind(a.place, counted);
    const households = counted ?? (kind === 'household' ? 1 : 0);
    const id = await insertVisit(ctx.db, {
      cadreId: ctx.cadre.id, unitId: ctx.cadre.unitId, date, hours: a.duration, place: a.place, kind, households,
      content, status: backdated ? 'pending' : 'ok', backdated, evidence: evidenceOf(ctx), timeOfDay: a.date?.part ?? null,
    }, originOf(ctx));
    const month = periodOf('month', ctx.today);
    const totals = await visitTotals(ctx.db, ctx.cadre.id, month.start, month.end);
    const fields = [T.dateField(date, ctx.today, a.date?.part, !!a.date), `地点 ${a.place}`, T.kindField(kind, !!a.kind || !!counted),
      hoursText(a.duration), ...(households || kind === 'household' ? [T.householdsField(households, counted !== undefined)] : [])];
    return [T.visitSaved(id, fields.join(' · ')), backdated ? T.backdated : T.monthSoFar(totals.count, totals.hours), T.fixHint(`#V${id}`)].join('\n');
  },
});

export const volunteerCommand = defineCommand({
  name: '志愿', aliases: ['volunteer', '志愿服务', '义工'], group: 'record', mode: 'write', form: 'volunteer',
  intent: { words: /志愿|义工/, what: '记录志愿服务' },
  summary: '记录志愿服务时长',
  args: {
    date: optional(withKeys(dateArg(), '时间', 'date')),
    duration: withKeys(durationArg('时长'), '小时', '用时', 'hours'),
    place: withKeys(placeArg('地点', 60, '地点，如 县福利院'), 'place'),
    activity: optional(withKeys(restArg('活动', 200), '内容', 'activity')),
  },
  examples: ['/志愿 3小时 县福利院 义工日', '/志愿 上周六 2小时 东关社区 垃圾分类宣传'],
  notes: ['志愿服务按小时计；1天按8小时。每季度最后一个周末为义工日。'],
  async handle(ctx, a) {
    refuseIfNotDone(ctx, a.activity);
    const { date, backdated } = checkDate(ctx, a.date?.date, a.date?.part);
    const id = await insertVolunteer(ctx.db, {
      cadreId: ctx.cadre.id, unitId: ctx.cadre.unitId, date, hours: a.duration, place: a.place, activity: a.activity ?? '',
      status: backdated ? 'pending' : 'ok', backdated,
    }, originOf(ctx));
    const fields = [T.dateField(date, ctx.today, a.date?.part, !!a.date), `地点 ${a.place}`, hoursText(a.duration), ...(a.activity ? [`活动 ${a.activity}`] : [])];
    return [T.volunteerSaved(id, fields.join(' · ')), ...(backdated ? [T.backdated] : []), T.fixHint(`#Z${id}`)].join('\n');
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
  async handle(ctx, a) {
    const ref = `#${a.record.type === 'visit' ? 'V' : 'Z'}${a.record.id}`;
    const rec = a.record.type === 'visit' ? await visitById(ctx.db, a.record.id) : await volunteerById(ctx.db, a.record.id);
    if (!rec) throw new UserError(T.notFound(ref));
    if (rec.voidedAt) throw new UserError(T.voided(ref));
    const unit = (await unitById(ctx.db, rec.unitId))!;
    if (!(await leads(ctx, unit))) throw new UserError(T.notLead(ref));
    if (a.verdict === 'return' && !a.note) throw new UserError(T.needReason);
    await setVerification(ctx.db, a.record.type, rec.id, a.verdict === 'pass' ? 'verified' : 'returned', ctx.cadre.id, a.note ?? null);
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
  async handle(ctx) {
    const last = await lastRecordSince(ctx.db, ctx.cadre.id, ctx.now.getTime() - UNDO_MINUTES * 60_000);
    if (!last) throw new UserError(T.nothingToUndo);
    if (last.type === 'issue') {
      await voidIssue(ctx.db, last.id, ctx.cadre.id, ctx.now, ctx.today);
      return T.undone(`问题 #${last.id}`);
    }
    await voidRecord(ctx.db, last.type, last.id, ctx.now.getTime());
    return T.undone(last.type === 'visit' ? `走访记录 #V${last.id}` : `志愿记录 #Z${last.id}`);
  },
});

const allOptional = <C extends { args: Record<string, ArgDef<unknown>> }>(c: C): CommandDef =>
  ({ ...c, args: Object.fromEntries(Object.entries(c.args).map(([k, a]) => [k, { ...a, optional: true }])) }) as unknown as CommandDef;
const visitFields = allOptional(visitCommand), volunteerFields = allOptional(volunteerCommand);
// The words of a correction are not part of the value: `地点改为红星村` is `地点：红星村`, and
// `户数从1户改为3户` or `3户改为1户` keep only the new value; `时长不变` says nothing.
const FIELDS = '(地点|地方|时长|用时|日期|时间|类型|户数|内容|活动)';
const UNCHANGED = /(?:地点|时长|日期|类型|户数|内容|活动)(?:都)?不变/g;
const OLD_VALUE = new RegExp(`${FIELDS}\\s*(?:从\\s*[^，,。；;\\s]*?\\s*)?(?=改为|改成|更正为|应为|应该是|修改为|换成)`, 'g');
const BARE_OLD_VALUE = /(?<=[:：]|^|\s)[^，,。；;\s:：]+?(?=改为|改成|更正为|修改为|换成)/g;
const FIELD_TO = new RegExp(`${FIELDS}\\s*(?:改为|改成|更正为|应为|应该是|修改为|换成|是)\\s*`, 'g');
const CORRECTION_WORDS = /(改为|改成|更正为|应为|应该是|修改为|换成)/g;
const newValues = (said: string) => said.replace(OLD_VALUE, '$1').replace(BARE_OLD_VALUE, '').replace(FIELD_TO, '$1：').replace(CORRECTION_WORDS, ' ');

export const editCommand = defineCommand({
  name: '修改', aliases: ['edit', '更正'], group: 'record', mode: 'write',
  summary: `更正自己${UNDO_MINUTES}分钟内填报的走访或志愿记录`,
  args: {
    record: optional(recordRefArg()),
    changes: optional(withKeys(restArg('修改内容', 500, '要改的项，如 日期：前天、地点：红星村、时长：3小时'), 'changes')),
  },
  examples: ['/修改 #V12 日期：前天', '/修改 #V12 时长：3小时 户数：2', '/修改 #Z3 地点：县敬老院'],
  notes: ['不写编号时修改自己最近的一条记录。每项修改都留有记录（原值和新值）。'],
  async handle(ctx, a) {
    const since = ctx.now.getTime() - UNDO_MINUTES * 60_000;
    const last = a.record ? undefined : await lastRecordSince(ctx.db, ctx.cadre.id, since);
    // A reference that could not be read is never taken for "my last record".
    if (!a.record && /^\s*(?:[#＃]|[vVzZＶｖＺｚ]\s?\d)/.test(a.changes ?? '')) throw new UserError(T.notFound((a.changes ?? '').trim().split(/\s/)[0]));
    const ref = a.record ?? (last && last.type !== 'issue' ? { type: last.type, id: last.id } : undefined);
    if (!ref) throw new UserError(T.nothingToEdit);
    const label = `#${ref.type === 'visit' ? 'V' : 'Z'}${ref.id}`;
    const rec = ref.type === 'visit' ? await visitById(ctx.db, ref.id) : await volunteerById(ctx.db, ref.id);
    if (!rec || rec.voidedAt) throw new UserError(T.notFound(label));
    if (rec.cadreId !== ctx.cadre.id) throw new UserError(T.notYours(label));
    if (rec.createdAt < since) throw new UserError(T.editTooLate(label));
    // A change by so much (`时长减少2小时`, `多加半天`) is not a new value: the new value is asked for.
    const said = (a.changes ?? '').replace(UNCHANGED, '');
    if (/减少|增加|多加|少加|再加|加上|减去|少算|多算/.test(said) && !/[:：]/.test(said)) throw new UserError(T.editByValue(label));
    const text = newValues(said);
    const env = await ctx.readEnv();
    const fields = ref.type === 'visit' ? visitFields : volunteerFields;
    const input = editedValues(fields, text, env, label);
    const patch: Record<string, unknown> = {};
    const date = input.date as DateValue | undefined;
    // `/修改 #V1 下午` names a time of day only: the record keeps its date.
    const dayOnly = date && date.part && !findDates(normalizeText(text), ctx.today).length;
    if (dayOnly && ref.type === 'visit') {
      checkDate(ctx, rec.date, date.part);
      patch.timeOfDay = date.part;
    }
    else if (date) {
      const checked = checkDate(ctx, date.date, date.part);
      Object.assign(patch, { date: checked.date, backdated: checked.backdated });
      if (rec.status === 'ok' || rec.status === 'pending') patch.status = checked.backdated ? 'pending' : 'ok';
      if (ref.type === 'visit' && date.part) patch.timeOfDay = date.part;
    }
    if (input.place !== undefined) patch.place = input.place;
    if (input.duration !== undefined) patch.hours = input.duration;
    if (ref.type === 'visit') {
      if (input.kind !== undefined) patch.kind = input.kind;
      if (input.households !== undefined) patch.households = input.households;
      // Content changes only when named (`内容：…`): the words of a correction are not content.
      if (input.content !== undefined && /(内容|事项|content)\s*[:：]/.test(text)) patch.content = input.content;
    } else if (input.activity !== undefined && /(活动|内容|activity)\s*[:：]/.test(text)) patch.activity = input.activity;
    const changed = await editRecord(ctx.db, ref.type, ref.id, patch, ctx.cadre.id, ctx.now.getTime());
    if (!changed.length) throw new UserError(T.nothingEdited(label));
    const now = (ref.type === 'visit' ? await visitById(ctx.db, ref.id) : await volunteerById(ctx.db, ref.id))! as Record<string, unknown>;
    const shown = changed.filter((f) => f !== 'status' && f !== 'backdated').map((f) => fieldText(f, now, ctx.today));
    return [T.edited(label, shown.join(' · ')), ...(now.backdated ? [T.backdated] : [])].join('\n');
  },
});

/**
 * The new values of a /修改. One the reader would ask about in a new record (`户数：两三户`) is
 * refused here with its field's name: /修改 keeps no draft, and the record keeps its old value.
 */
function editedValues(fields: CommandDef, text: string, env: ReadEnv, label: string): Record<string, unknown> {
  try {
    return validateArgs(fields, collectArgs(fields, text, env), env) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof AskFor)) throw e;
    const field = fields.args[e.ask.key];
    throw new UserError(T.editUnclear(label, field?.label ?? '修改的内容', e.ask.note));
  }
}

function fieldText(field: string, rec: Record<string, unknown>, today: LocalDate): string {
  switch (field) {
    case 'date': return T.dateField(rec.date as string, today, rec.timeOfDay as string | null, true);
    case 'timeOfDay': return `时段 ${rec.timeOfDay}`;
    case 'place': return `地点 ${rec.place}`;
    case 'hours': return `时长 ${hoursText(rec.hours as number)}`;
    case 'kind': return `类型 ${KIND_NAMES[rec.kind as VisitKind]}`;
    case 'households': return `${rec.households}户`;
    case 'content': return `内容 ${rec.content}`;
    case 'activity': return `活动 ${rec.activity}`;
    default: return field;
  }
}

export const recordCommands = [visitCommand, volunteerCommand, verifyCommand, undoCommand, editCommand];
