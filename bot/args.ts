/**
 * Argument types of the command language. Each carries its Chinese label (used for `键：值`, help,
 * errors and questions), a reader that turns a typed value into a value — given the clock, time
 * zone and known places of this message, never a module global — and, for typed arguments,
 * recognisers: `match` for a whole word, `find` for spans inside running text (bot/spans.ts).
 * So `/走访 昨天 石门村 1天`, `/走访 石门村 1天 昨天` and `昨天下午去石门村走访，用时1天` agree.
 */
import { normalize, simplify } from './normalize.js';
import { isLocalDate, parseChineseNumber, parseDate, parseDuration, parsePeriod, type LocalDate, type Period } from './time.js';
import {
  findDates, findDayParts, findDeadlines, findDurations, findHouseholds, findIssueRefs, findPeople, findRecordRefs,
  readDateValue, nearestMonthDay, type DateValue, type Found,
} from './spans.js';

/** What a reader may know about the message it reads: passed in, never kept between messages. */
export interface ReadEnv {
  now: Date;
  tz: string;
  today: LocalDate;
  /**
   * Place names the deployment knows (units, contact points, households, earlier visits),
   * normalised. The router hands the same array from message to message while the names do not
   * change (the reader indexes it once, bot/parse.ts).
   */
  places: readonly string[];
  /** This cadre's own recent places that are not among `places`: few, and new for each message. */
  ownPlaces?: readonly string[];
}

export interface ArgDef<T> {
  label: string;
  /** Other names accepted before a colon (the label and the English key always are). */
  keys: string[];
  /** What a valid value looks like, for help, errors and questions: '日期，如 昨天、11月20日'. */
  hint: string;
  /** Reads a whole value: a keyed field, a card field, a positional word, the answer to a question. */
  read: (s: string, env: ReadEnv) => T | null;
  /** Why a value could not be read. */
  bad: (s: string) => string;
  /** Recognises a positional word as this argument. */
  match?: (token: string, env: ReadEnv) => boolean;
  /** Finds this argument's values inside running text; `raw` of each is read back by `read`. */
  find?: (text: string, env: ReadEnv) => Found[];
  /** Where found spans count: only in the head of the message (dates, references) or anywhere. */
  where?: 'head' | 'anywhere';
  /** Several different values found: take the first, add them up, or ask which (default). */
  several?: 'first' | 'sum' | 'ask';
  /** Takes the free text after the head (a visit's content, an issue's description). */
  rest?: boolean;
  /** A place: read from known places and place shapes (bot/parse.ts), never from a leftover word. */
  place?: boolean;
  /** A keyed value may hold commas (`类型：入户,到村`). */
  list?: boolean;
  /** The record's date: an unreadable date-like word at the head is asked about, not ignored. */
  dateLike?: boolean;
  /**
   * One value per record: whether a value found in the content is said as this field, so that a
   * keyed value and a different one (`时长：2小时 … 实际用时3小时`) are asked about, not settled by
   * the key (`每天要走1小时山路` describes, it is no second duration). A head value or a clock
   * range always counts.
   */
  oneValue?: (text: string, f: Found) => boolean;
  /** Only as `键：值` (or a card field). */
  keyedOnly?: boolean;
  optional: boolean;
}

export function def<T>(label: string, hint: string, read: (s: string, env: ReadEnv) => T | null, bad: (s: string) => string, extra: Partial<ArgDef<T>> = {}): ArgDef<T> {
  return { label, hint, read, bad, keys: [], optional: false, ...extra };
}

export function optional<T>(a: ArgDef<T>): ArgDef<T | undefined> {
  return { ...a, optional: true } as ArgDef<T | undefined>;
}

export function withKeys<T>(a: ArgDef<T>, ...keys: string[]): ArgDef<T> {
  return { ...a, keys: [...a.keys, ...keys] };
}

export const keyOnly = <V>(a: ArgDef<V>): ArgDef<V> => ({ ...a, match: undefined, find: undefined, keyedOnly: true });

/** An argument read by `read`; `bad` says what was wrong with a value it could not read. */
export function customArg<T>(label: string, hint: string, read: (s: string, env: ReadEnv) => T | null, bad: (s: string) => string, keys: string[] = []): ArgDef<T> {
  return def(label, hint, read, bad, { keys, match: (t, env) => read(t, env) !== null });
}

/** A visit or volunteer date, with the time of day when one is given (`昨天下午`, `今早`). */
export function dateArg(label = '日期'): ArgDef<DateValue> {
  const read = (s: string, env: ReadEnv): DateValue | null => {
    const canonical = readDateValue(s);
    if (canonical) return canonical;
    const t = normalize(s).replace(/\s+/g, '');
    const spans = [...findDates(t, env.today), ...findDayParts(t, env.today)];
    const whole = spans.find((f) => f.start === 0 && f.end === t.length);
    if (whole) return readDateValue(whole.raw);
    const d = parseDate(t, env.now, { tz: env.tz, prefer: 'past' });
    if (!d) return null;
    // parseDate prefers the past for a year-less date; the nearest occurrence is what was meant.
    const md = /^(\d{1,2})[月./-](\d{1,2})[日号]?$/.exec(t);
    return { date: md ? nearestMonthDay(+md[1], +md[2], env.today) ?? d : d };
  };
  return def(label, '日期，如 今天、昨天下午、上周五、11月20日、2026-11-20', read, (s) => `「${s}」不是能识别的日期`, {
    match: (t, env) => read(t, env) !== null,
    find: (text, env) => [...findDates(text, env.today), ...findDayParts(text, env.today)],
    where: 'head', dateLike: true,
  });
}
export type { DateValue };

// A duration in the content said as the visit's own (`实际用时3小时`, `一共花了两个小时`); others
// there describe something else (`每天要走1小时山路`, `停水3天了`, `排队3个小时`).
const DURATION_SAID = /(?:用时|历时|耗时|花了|花费|用了|实际|共计|一共|合计|总共|累计|总计|前后|忙了|共|时长|待了|呆了|走访了|入户了|座谈了|宣讲了|调研了|服务了|陪了)\s?(?:约|大约|大概|差不多)?\s?$/;
export function durationArg(label = '时长'): ArgDef<number> {
  const read = (s: string) => {
    const t = normalize(s).replace(/\s+/g, '');
    if (/^\d+(\.\d+)?$/.test(t)) return null;
    const whole = findDurations(t).find((f) => f.start === 0 && f.end === t.length);
    // A range (3到4小时) or a per-household time (每户半小时) reads as nothing: it is asked about.
    if (whole) return Number.isFinite(Number(whole.raw)) ? Number(whole.raw) : null;
    return parseDuration(t)?.hours ?? null;
  };
  const readRaw = (s: string) => (/^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : read(s));
  return def(label, '时长，如 2小时、两个半小时、半天、1天、9:00-11:30', readRaw, (s) => `「${s}」不是能识别的时长`, {
    match: (t) => read(t) !== null, find: (text) => findDurations(text), where: 'anywhere', several: 'ask',
    oneValue: (text, f) => DURATION_SAID.test(text.slice(Math.max(0, f.start - 6), f.start)),
  });
}

/** Household counts in running text, summed (`困难户2户、低保户3户` is 5). */
export function householdsArg(label = '户数'): ArgDef<number> {
  const read = (s: string) => {
    const t = normalize(s).replace(/\s|户|家/g, '');
    const n = /^\d+$/.test(t) ? Number(t) : parseChineseNumber(t);
    return n !== null && Number.isInteger(n) && n >= 0 && n <= 1000 ? n : null;
  };
  return def(label, '户数，如 3户', read, (s) => `「${s}」不是 0–1000 之间的户数`, { find: (text) => findHouseholds(text), where: 'anywhere', several: 'sum' });
}

/** One of a fixed set of words; `choices` maps every accepted spelling to its value. */
// A word read in running text does not count after a negation (`没入户，在村委会座谈`, `谈不上满意`),
// nor as part of a longer noun (`满意度`).
const NEGATED = /(?:没有?|不是|未|并非|并未|无|谈不上|说不上|算不上|不怎么|不算太?|不太|不是太|不够|没那么)$/;

export function choiceArg<V extends string>(label: string, choices: Record<string, V>, hint?: string, opts: { inText?: boolean; several?: 'first' | 'ask' } = {}): ArgDef<V> {
  const table = new Map(Object.entries(choices).map(([k, v]) => [normalize(k), v]));
  const read = (s: string) => table.get(normalize(s)) ?? null;
  const names = [...new Set(Object.keys(choices))].slice(0, 12).join('、');
  // Longest spelling first, so 基本满意 is not read as 满意 and 不满意 not as 满意.
  const words = [...table.keys()].filter((w) => /[^\x00-\x7f]/.test(w)).sort((a, b) => b.length - a.length);
  const find = opts.inText ? (text: string): Found[] => {
    const out: Found[] = [];
    // Every occurrence first, longest words first; a word inside a longer one (满意 in 不满意) is
    // that word, even when the longer one is skipped for its negation (`没有不满意` is asked about).
    const covered: Array<[number, number]> = [];
    for (const w of words) {
      for (let i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) {
        const end = i + w.length;
        if (covered.some(([a, b]) => i >= a && end <= b)) continue;
        covered.push([i, end]);
        const before = text.slice(Math.max(0, i - 4), i).replace(/\s/g, '');
        // Voice input splits `不 满意`: the word with its 不 is the word meant.
        if (before.endsWith('不') && table.has('不' + w)) { out.push({ start: i - (text.slice(0, i).length - text.slice(0, i).trimEnd().length) - 1, end, raw: '不' + w }); continue; }
        if (NEGATED.test(before) || /[度率]/.test(text[end] ?? '')) continue;
        out.push({ start: i, end, raw: w });
      }
    }
    return out;
  } : undefined;
  return def(label, hint ?? `${label}：${names}`, read, (s) => `「${s}」不是可选的${label}（可选：${names}）`,
    { match: (t) => read(t) !== null, find, where: 'anywhere', several: opts.several ?? 'first' });
}

export function textArg(label: string, max = 200, hint?: string): ArgDef<string> {
  return def(label, hint ?? `${label}（${max}字以内）`, (s) => { const t = s.trim(); return t && t.length <= max ? t : null; },
    (s) => (s.trim() ? `${label}太长，最多${max}字` : `缺少${label}`));
}

/** The free text after the typed arguments, e.g. a visit's content. */
export function restArg(label: string, max = 1000, hint?: string): ArgDef<string> {
  return { ...textArg(label, max, hint), rest: true };
}

/** A unit's name, read in its stored (simplified) spelling, so `石門鎮` finds 石门镇. */
export function unitNameArg(label = '单位', hint = '单位名称，如 石门镇'): ArgDef<string> {
  const t = textArg(label, 60, hint);
  return { ...t, read: (s, env) => { const v = t.read(s, env); return v === null ? null : simplify(v); } };
}

/** A place: known to the deployment or shaped like one; stored in simplified characters. */
export function placeArg(label = '地点', max = 60, hint = '地点，如 石门村、东关社区'): ArgDef<string> {
  return { ...textArg(label, max, hint), place: true };
}

export function issueRefArg(): ArgDef<number> {
  const read = (s: string) => {
    const t = normalize(s).replace(/\s+/g, '');
    if (/^\d{1,9}$/.test(t)) return Number(t);
    const f = findIssueRefs(t).find((x) => x.start === 0 && x.end === t.length);
    return f ? Number(f.raw) : null;
  };
  return def('问题编号', '问题编号，如 #12', read, (s) => `「${s}」不是问题编号（应为 #数字，如 #12）`,
    { match: (t) => /^[#＃]/.test(t.trim()) && read(t) !== null, find: (text) => findIssueRefs(text), where: 'head', several: 'ask' });
}

export type RecordRef = { type: 'visit' | 'volunteer'; id: number };
export function recordRefArg(): ArgDef<RecordRef> {
  const read = (s: string): RecordRef | null => {
    const m = /^[#＃]?\s?([vz])\s?(\d{1,9})$/.exec(normalize(s));
    return m ? { type: m[1] === 'v' ? 'visit' : 'volunteer', id: Number(m[2]) } : null;
  };
  return def('记录编号', '记录编号：走访 #V12，志愿 #Z12', read, (s) => `「${s}」不是记录编号（走访记录如 #V12，志愿记录如 #Z12）`,
    { match: (t) => read(t) !== null, find: (text) => findRecordRefs(text), where: 'head', several: 'ask' });
}

/** A person: `@李四` (a platform mention or a roster name); resolved against the roster later. */
export function cadreRefArg(label: string): ArgDef<string> {
  const read = (s: string) => { const v = s.trim().replace(/^[@＠]/, '').trim(); return v ? v : null; };
  return def(label, `${label}，如 @李四`, read, () => `缺少${label}`,
    { match: (t) => /^[@＠]\S/.test(t), find: (text) => findPeople(text), where: 'anywhere', several: 'ask' });
}

export function numberArg(label: string, min: number, max: number): ArgDef<number> {
  const read = (s: string) => { const n = Number(s.normalize('NFKC')); return Number.isFinite(n) && n >= min && n <= max ? n : null; };
  return def(label, `${label}（${min}–${max} 的数）`, read, (s) => `「${s}」不是 ${min}–${max} 之间的数`, { match: (t) => read(t) !== null });
}

/** A reporting period: 本月、上月、本周、本季、本年、2026-10、10月. */
export function periodArg(label = '时段', keys: string[] = ['期间', '月份', 'period'], hint = '时段：本月、上月、本周、本季、本年、2026-10、10月'): ArgDef<Period> {
  const read = (s: string, env: ReadEnv) => parsePeriod(s, env.now, env.tz);
  return customArg(label, hint, read, (s) => `「${s}」不是能识别的${label}（如 本月、上月、本周、本季、本年、2026-10）`, keys);
}

/** A deadline: a date (`12月31日`, `月底前`, `两周内`, `下周五前`) or a number of days (`30天`). */
export type When = { date: LocalDate } | { days: number };
const DAYS = /^(\d{1,3}|[零〇一二两三四五六七八九十]{1,3})个?(?:天|日|d|days?)(?:后|以后)?$/;
const MONTHS = /^(\d{1,2}|[一二两三四五六]|半)个月(?:后|以后)?$/;
const WEEKS = /^(\d{1,2}|[一二两三四])(?:周|个星期|个礼拜|星期)(?:后|以后)?$/;
const BARE_DEADLINE_LEAD = /(?:最迟|最晚|不晚于|截止到?|或者|或是|或)\s?$/;
export function whenArg(label: string, hint: string, opts: { bareDates: boolean } = { bareDates: true }): ArgDef<When> {
  const read = (s: string, env: ReadEnv): When | null => {
    const t = normalize(s).replace(/\s+/g, '').replace(/^(?:延至|延期至|延长至|延到|至|到)/, '');
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return isLocalDate(t) ? { date: t } : null;
    let m = DAYS.exec(t);
    if (m) { const n = parseChineseNumberLoose(m[1]); return n ? { days: n } : null; }
    if ((m = MONTHS.exec(t))) { const n = m[1] === '半' ? 0.5 : parseChineseNumberLoose(m[1]); return n ? { days: n * 30 } : null; }
    if ((m = WEEKS.exec(t))) { const n = parseChineseNumberLoose(m[1]); return n ? { days: n * 7 } : null; }
    const phrase = findDeadlines(t, env.today).find((f) => f.start === 0 && f.end === t.length);
    if (phrase) return { date: phrase.raw };
    const date = findDates(t, env.today, 'future').find((f) => f.start === 0 && f.end === t.length);
    if (date) return { date: date.raw.slice(0, 10) };
    const d = parseDate(t, env.now, { tz: env.tz, prefer: 'future' });
    return d ? { date: d } : null;
  };
  const bare = (text: string, env: ReadEnv): Found[] => {
    const out: Found[] = findDates(text, env.today, 'future').map((f) => ({ ...f, raw: f.raw.slice(0, 10) }));
    const g = /(?:(?<![\d.])\d{1,3}|[一二两三四五六七八九十]{1,3}|半)(?:个?(?:天|日|周|星期|礼拜)|个月)(?![前内以底末份])/g;
    for (let m = g.exec(text); m; m = g.exec(text)) out.push({ start: m.index, end: m.index + m[0].length, raw: m[0] });
    // Inside the text a bare date is the deadline's only when said as one: `最晚12月20日`, or an
    // alternative (`1月10号或者1月20号`) — then two deadlines, asked about; also where bare dates
    // are otherwise no deadline (`/民情 … 月底前 最晚12月20日`).
    const led = (f: Found) => BARE_DEADLINE_LEAD.test(text.slice(Math.max(0, f.start - 4), f.start));
    return opts.bareDates ? out.map((f) => (led(f) ? f : { ...f, headOnly: true })) : out.filter(led);
  };
  return def(label, hint, read, (s) => `「${s}」不是能识别的${label}（写日期如 12月31日、月底前，或天数如 30天）`, {
    match: (t, env) => opts.bareDates && read(t, env) !== null,
    find: (text, env) => [...findDeadlines(text, env.today).map((f) => (readsAsDeadline(text, f) ? f : { ...f, headOnly: true })), ...bare(text, env)],
    where: 'anywhere', several: 'ask', oneValue: (_, f) => !f.headOnly,
  });
}

/**
 * A deadline phrase inside a description counts only when it reads as one: a word of its own
 * (`…路灯不亮 月底前`), or followed by what is to be done (`月底前修好`) or led by a demand
 * (`要求两周内`). `一周内停电三次` describes the problem, `下周五前要交学费` the citizen's need.
 */
function readsAsDeadline(text: string, f: Found): boolean {
  const sep = (c: string | undefined) => c === undefined || /[\s,，。;；、!！?？]/.test(c);
  if (sep(text[f.start - 1]) && sep(text[f.end])) return true;
  if (/^(?:必须|务必|要|需要?|能|尽快|给个)?(?:完成|办结|解决|修好|修复|维修|修缮|处理|整改|落实|答复|到位|办好|弄好|搞定|清理|疏通|更换|安装|拆除|清运|铺设|硬化|答复)/.test(text.slice(f.end, f.end + 6))) return true;
  return /(?:要求|希望|争取|力争|务必|请于|请在|限|须|必须|需在|需要|应在|时限|最好|最迟|最晚|不晚于)\s?$/.test(text.slice(Math.max(0, f.start - 3), f.start));
}

function parseChineseNumberLoose(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(s);
  const map: Record<string, number> = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, 十: 10 };
  if (s.length === 1) return map[s] ?? null;
  const t = s.indexOf('十');
  if (t < 0) return null;
  const tens = t === 0 ? 1 : map[s[0]] ?? null, ones = s.length > t + 1 ? map[s[t + 1]] ?? null : 0;
  return tens === null || ones === null ? null : tens * 10 + ones;
}
