/**
 * Recognisers of values inside running text (README "How the bot reads what cadres type"): each finds every span of its kind in a
 * message already passed through `normalizeText`, so `昨天下午石门村入户2小时` yields a date with
 * a time of day, a place, a kind and a duration. A span's `raw` is a canonical string that the
 * matching argument reads back to the same value — drafts store it, so a question answered
 * after midnight still means the day that was meant.
 *
 * Nothing here moves a date to make it fit: a year-less date is the occurrence nearest today,
 * and it is the handler that refuses a visit in the future or a deadline in the past.
 */
import { addDays, daysBetween, isLocalDate, parseChineseNumber, periodOf, weekdayOf, WORKDAY_HOURS, MAX_DURATION_HOURS, type LocalDate } from './time.js';

export interface Found {
  start: number; end: number; raw: string;
  /** A day named relative to today (昨天, 上周三): in the content it is asked about, not ignored. */
  relative?: boolean;
  /** Counts only in the head of the message even where the argument reads anywhere (a bare date in /延期). */
  headOnly?: boolean;
  /** A time of day with no date of its own: it completes a date found elsewhere. */
  partOnly?: boolean;
  /** For durations: a clock range or an amount. */
  kind?: 'range' | 'amount';
}

export const DAY_PARTS = ['上午', '中午', '下午', '晚上'] as const;
export type DayPart = (typeof DAY_PARTS)[number];

const PART_WORDS: Array<[string, DayPart]> = [
  ['早上', '上午'], ['早晨', '上午'], ['清早', '上午'], ['凌晨', '上午'], ['上午', '上午'], ['中午', '中午'], ['午后', '下午'],
  ['下午', '下午'], ['傍晚', '下午'], ['晚上', '晚上'], ['夜里', '晚上'], ['夜间', '晚上'], ['晚间', '晚上'],
];
const PART = `(${PART_WORDS.map(([w]) => w).join('|')})`;
// On its own (not right after a date) `夜间巡逻` is an activity, not a time of day.
const STANDALONE_PART = `(${PART_WORDS.map(([w]) => w).filter((w) => !['夜里', '夜间', '晚间', '凌晨'].includes(w)).join('|')})`;
const partOf = (w: string | undefined): DayPart | undefined => PART_WORDS.find(([k]) => k === w)?.[1];

// Numerals: Arabic, or Chinese up to 九十九 (parseChineseNumber).
// `俩` and `仨` (two, three, said with their measure word in them: 俩小时, 仨家) count too — not
// after a person or a kin word, where they say how many people (`兄弟俩天天吵`, `娘俩家`).
const LIA = '(?<![他她它们咱兄弟哥姐妹娘爷奶父母子女夫妻老俩仨])(?:俩|仨)';
const N = `(\\d{1,3}|[零〇一二两三四五六七八九十]{1,3}|${LIA})`;
const ND = `(\\d+(?:\\.\\d+)?|[零〇一二两三四五六七八九十]{1,3}|${LIA})`;
const num = (s: string | undefined) => (s === undefined ? null : parseChineseNumber(s));

// Every pattern below is a module constant with the `g` flag, compiled once (code, nothing a
// message said); what a reading depends on (today, prefer) is passed to its reader as `ctx`.
// A pattern without `g` gets a global twin, made once per pattern object.
const globalTwins = new WeakMap<RegExp, RegExp>();
function globalOf(re: RegExp): RegExp {
  if (re.global) return re;
  let g = globalTwins.get(re);
  if (!g) globalTwins.set(re, (g = new RegExp(re.source, re.flags + 'g')));
  return g;
}

function all(re: RegExp, text: string, fn: (m: RegExpExecArray) => string | null): Found[] {
  const out: Found[] = [];
  const g = globalOf(re);
  g.lastIndex = 0;
  for (let m = g.exec(text); m; m = g.exec(text)) {
    if (m[0] === '') { g.lastIndex++; continue; }
    const raw = fn(m);
    if (raw !== null) out.push({ start: m.index, end: m.index + m[0].length, raw });
  }
  return out;
}

// --- dates ---
const ymd = (y: number, m: number, d: number): LocalDate | null => {
  const s = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  // A four-digit year is checked by calendar arithmetic (a Date parse costs a microsecond);
  // any other year as before, by what Date makes of it.
  if (y >= 1000 && y <= 9999) return isLocalDate(s) ? s : null;
  const back = new Date(`${s}T00:00:00Z`);
  return back.getUTCMonth() + 1 === m && back.getUTCDate() === d ? s : null;
};
/** The occurrence of month/day nearest `today` (last, this or next year). */
export function nearestMonthDay(m: number, d: number, today: LocalDate): LocalDate | null {
  const y = +today.slice(0, 4);
  const options = [y - 1, y, y + 1].map((yy) => ymd(yy, m, d)).filter((x): x is LocalDate => x !== null);
  if (!options.length) return null;
  return options.reduce((a, b) => (Math.abs(daysBetween(today, b)) < Math.abs(daysBetween(today, a)) ? b : a));
}
function nearestDay(d: number, today: LocalDate): LocalDate | null {
  const [y, m] = [+today.slice(0, 4), +today.slice(5, 7)];
  const options = [[y, m - 1], [y, m], [y, m + 1]].map(([yy, mm]) => (mm < 1 ? ymd(yy - 1, 12, d) : mm > 12 ? ymd(yy + 1, 1, d) : ymd(yy, mm, d)))
    .filter((x): x is LocalDate => x !== null);
  if (!options.length) return null;
  return options.reduce((a, b) => (Math.abs(daysBetween(today, b)) < Math.abs(daysBetween(today, a)) ? b : a));
}

const RELATIVE: Array<[string, number, DayPart?]> = [
  ['大前天', -3], ['前天', -2], ['前日', -2], ['昨天', -1], ['昨日', -1], ['昨儿', -1], ['今天', 0], ['今日', 0], ['今儿', 0],
  ['明天', 1], ['明日', 1], ['大后天', 3], ['后天', 2],
  ['今早', 0, '上午'], ['今晨', 0, '上午'], ['今晚', 0, '晚上'], ['今夜', 0, '晚上'], ['昨晚', -1, '晚上'], ['昨夜', -1, '晚上'],
  ['前晚', -2, '晚上'], ['昨早', -1, '上午'], ['明早', 1, '上午'], ['明晚', 1, '晚上'], ['昨儿个', -1], ['今儿个', 0],
];
// `周末` is two days: it is no date (asked), only a deadline (`本周末前`, findDeadlines).
const WEEKDAY_NUM: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7, 七: 7 };
const WD = '(上上|上|本|这|下)?个?(?:周|星期|礼拜)([一二三四五六日天七1-7])';

export interface DateValue { date: LocalDate; part?: DayPart }
export const dateRaw = (v: DateValue) => (v.part ? `${v.date} ${v.part}` : v.date);

interface DateCtx { today: LocalDate; prefer: 'past' | 'future'; wd: number; y: number; mo: number }
/** Date patterns without a time of day; each returns the date or null; the flag marks a relative day. */
const DATE_PATTERNS: Array<[RegExp, (m: RegExpExecArray, c: DateCtx) => LocalDate | null, boolean?]> = [
  // 上个月28号, 下月15日: a day of the month before or after this one.
  [new RegExp(`(上|下|本|这)个?月${N}[日号]`, 'g'), (m, { y, mo }) => {
    const shift = m[1] === '上' ? -1 : m[1] === '下' ? 1 : 0, d = num(m[2]);
    const t = y * 12 + mo - 1 + shift;
    return d ? ymd(Math.floor(t / 12), (t % 12) + 1, d) : null;
  }, true],
  [/(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?/g, (m) => ymd(+m[1], +m[2], +m[3])],
  [new RegExp(`(?<!\\d)${N}月${N}[日号]?`, 'g'), (m, { today }) => { const mo = num(m[1]), d = num(m[2]); return mo && d ? nearestMonthDay(mo, d, today) : null; }],
  [/(?<![\d.])(\d{1,2})[./](\d{1,2})(?![\d.]|\s*(?:h|小时|个|天|d|倍|万|元|亩|米|%|分))/g, (m, { today }) => nearestMonthDay(+m[1], +m[2], today)],
  [new RegExp(`(?<![\\d月])${N}[日号](?!问题|楼|院|线|桌|门|房|户|地块|件|单元|栋)`, 'g'), (m, { today }) => { const d = num(m[1]); return d ? nearestDay(d, today) : null; }],
  [new RegExp(`(?<!\\d)${N}[天日](?:以)?前`, 'g'), (m, { today }) => { const n = num(m[1]); return n ? addDays(today, -n) : null; }, true],
  [new RegExp(WD, 'g'), (m, { today, prefer, wd }) => {
    const target = WEEKDAY_NUM[m[2]] ?? +m[2];
    const shift = m[1] === '上上' ? -2 : m[1] === '上' ? -1 : m[1] === '下' ? 1 : m[1] ? 0 : null;
    if (shift !== null) return addDays(today, -(wd - 1) + 7 * shift + target - 1);
    return addDays(today, prefer === 'past' ? -((wd - target + 7) % 7) : (target - wd + 7) % 7);
  }, true],
];
// A time of day right after a date (`昨天下午`, `昨天 下午`), read where the date ends.
const PART_AFTER = new RegExp(`\\s?${PART}`, 'y');
/** A date found at start…end, with the time of day that follows it unless it names its own. */
function dateWithPart(text: string, start: number, end: number, date: LocalDate, part?: DayPart, relative?: boolean): Found {
  PART_AFTER.lastIndex = end;
  const m = PART_AFTER.exec(text);
  const p = m ? partOf(m[1]) : undefined;
  return { start, end: m ? end + m[0].length : end, raw: dateRaw({ date, part: part ?? p }), ...(relative ? { relative } : {}) };
}

/** Dates, each with the time of day that follows it (`昨天下午`, `昨天 下午`, `11月19日晚上`). */
export function findDates(text: string, today: LocalDate, prefer: 'past' | 'future' = 'past'): Found[] {
  const out: Found[] = [];
  for (const [w, n, part] of RELATIVE) {
    for (let i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) out.push(dateWithPart(text, i, i + w.length, addDays(today, n), part, true));
  }
  const ctx: DateCtx = { today, prefer, wd: weekdayOf(today), y: +today.slice(0, 4), mo: +today.slice(5, 7) };
  for (const [re, fn, relative] of DATE_PATTERNS) {
    for (const f of all(re, text, (m) => fn(m, ctx))) out.push(dateWithPart(text, f.start, f.end, f.raw, undefined, relative));
  }
  return out;
}

const DAY_PART = new RegExp(`(?<!一个?|半个?)${STANDALONE_PART}`, 'g');
/** A time of day on its own (`下午在石门村…`): today at that part of the day. */
export function findDayParts(text: string, today: LocalDate): Found[] {
  return all(DAY_PART, text, (m) => dateRaw({ date: today, part: partOf(m[1]) })).map((f) => ({ ...f, partOnly: true }));
}

export function readDateValue(raw: string): DateValue | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (上午|中午|下午|晚上))?$/.exec(raw.trim());
  const date = m && ymd(+m[1], +m[2], +m[3]);
  return date ? { date, part: m[4] as DayPart | undefined } : null;
}

// --- durations ---
const H = '(?:小时|个钟头|钟头|个钟|hours?|hrs?|h)';
// Not inside a longer clock (`10:14:00`); after a key's colon (`时间：9:00-11:30`) it may start.
const HOUR = '(?<![\\d.])(?<!\\d[:：])(\\d{1,2}|[一二两三四五六七八九十]{1,3})';
const clock = (h: string, min: string | undefined) => +h + (min === '半' ? 0.5 : min ? +min / 60 : 0);
const hoursRaw = (h: number | null) => (h !== null && h > 0 && h <= MAX_DURATION_HOURS ? String(Math.round(h * 100) / 100) : null);

const DAY = WORKDAY_HOURS, HALF_DAY = WORKDAY_HOURS / 2;
const DURATION_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => number | null]> = [
  [new RegExp(`(?<![\\d.])${ND}\\s?个?(半)?\\s?${H}(?:${ND}分钟?)?`, 'g'), (m) => {
    const h = num(m[1]); if (h === null) return null;
    const min = m[3] ? num(m[3]) : 0;
    return min === null || min >= 60 ? null : h + (m[2] ? 0.5 : 0) + min / 60;
  }],
  [new RegExp(`半个?${H}`, 'g'), () => 0.5],
  [new RegExp(`(?<![\\d.])${ND}(?:分钟|mins?|minutes?)`, 'g'), (m) => { const n = num(m[1]); return n === null ? null : n / 60; }],
  [new RegExp(`(?<![\\d.])${ND}\\s?个?(?:工作日|天|d|days?)(半)?(?![前后内以之])`, 'g'), (m) => { const n = num(m[1]); return n === null ? null : (n + (m[2] ? 0.5 : 0)) * DAY; }],
  [/半个?(?:天|日|工作日)(?![前后内])/g, () => HALF_DAY],
  [/全天|一整天|整天|一个?整天/g, () => DAY],
  [/一个?(?:上午|下午)|半个?(?:上午|下午)/g, (m) => (m[0].startsWith('半') ? HALF_DAY / 2 : HALF_DAY)],
  [new RegExp(`${HOUR}(?:[:：](\\d{2})|点(半|\\d{1,2}分?|钟)?)\\s*(?:-|—|–|~|到|至)\\s*(?:(上午|下午|晚上|中午)\\s?)?${HOUR}(?:[:：](\\d{2})|点(半|\\d{1,2}分?|钟)?)`, 'g'), (m) => {
    // The part of day before the range (`下午两点到五点`) is read, not taken: it belongs to the date.
    const before = /(上午|下午|早上|晚上|中午)\s?$/.exec(m.input.slice(0, m.index))?.[1];
    const h = (x: string) => num(x) ?? NaN;
    const pm = (p: string | undefined, hour: number) => ((p === '下午' || p === '晚上') && hour < 12 ? 12 : 0);
    const a = clock(String(h(m[1])), m[2] ?? m[3]?.replace(/分|钟/, '')) + pm(before, h(m[1]));
    let b = clock(String(h(m[5])), m[6] ?? m[7]?.replace(/分|钟/, '')) + pm(m[4] ?? before, h(m[5]));
    if (b <= a && b + 12 > a) b += 12;
    return b > a && a < 24 && b <= 24 ? b - a : null;
  }],
];
// `3到4小时`, `1-2小时`: a range is no duration; `每户半小时` is per household. Both are kept as a
// span that reads as nothing, so the bot asks instead of taking one end or one household's time.
const DURATION_RANGE = new RegExp(`(?<![\\d.])(?<!\\d[:：])${ND}\\s?(?:-|—|~|到|至)\\s?${ND}\\s?个?(?:半)?(?:${H}|天|分钟)`, 'g');
const DURATION_EACH = new RegExp(`(?:每(?:户|家|人|次|个|处)|各)(?:用时|用了|花了|约|大约)?${ND}?\\s?个?(?:半)?\\s?(?:${H}|分钟|天)`, 'g');
// About so long (`小半天`, `不到两小时`, `超过3小时`, `一个多小时`): asked, never taken as exact.
const DURATION_ABOUT = new RegExp(`小半天|大半天|多半天|(?:不到|不足|超过|多于|少于|近|将近|快)${ND}?\\s?个?(?:半)?\\s?(?:${H}|天)|${ND}多个?(?:${H}|天)`, 'g');
const asTyped = (m: RegExpExecArray) => m[0];

/** Durations in every common form, time ranges included; `raw` is the number of hours. */
export function findDurations(text: string): Found[] {
  const out: Found[] = [];
  for (const [re, fn] of DURATION_PATTERNS) out.push(...all(re, text, (m) => hoursRaw(fn(m))));
  out.push(...all(DURATION_RANGE, text, asTyped), ...all(DURATION_EACH, text, asTyped), ...all(DURATION_ABOUT, text, asTyped));
  // Amounts and clock ranges are told apart: two of either (`上午2小时，下午2小时`) are asked about
  // even when equal; a range and the same amount (`9:00-11:30，用时2.5小时`) agree.
  return out.map((f) => ({ ...f, kind: /[:：点]/.test(text.slice(f.start, f.end)) && /[-—–~到至]/.test(text.slice(f.start, f.end)) ? 'range' : 'amount' }));
}

// --- households ---
const NOT_HOUSEHOLD = '(?!企业|公司|单位|厂|工厂|店|商户|门店|医院|学校|机构|合作社|超市|饭店)';
// `3个困难户`, `俩低保户`, `两家五保户`: a count of households named by what they are.
const HOUSEHOLD_KINDS = '(?:困难|低保|五保|贫困|特困|脱贫|监测|边缘|空巢|独居|留守|残疾人?|孤寡|重点|种植|养殖)';
const HOUSEHOLDS = new RegExp(`(?<![\\d.第])${N}\\s?(?:户|家${NOT_HOUSEHOLD}|(?:个|家)?${HOUSEHOLD_KINDS}户)(?!一策|一档|一册|一表|之一)`, 'g');
// `两三户`, `十几户`: about so many — asked, never taken as one.
const HOUSEHOLDS_ABOUT = new RegExp(`(?:两三|三四|四五|五六|六七|七八|八九|十几|二十几|三十几|几十|几|数)\\s?(?:户|家${NOT_HOUSEHOLD})`, 'g');
/** Household counts (`三户`, `5家农户`); `raw` is the count. A breakdown after 其中 is not counted. */
export function findHouseholds(text: string): Found[] {
  const cut = text.indexOf('其中');
  const counts = all(HOUSEHOLDS, text, (m) => {
    const n = num(m[1]);
    return n !== null && n > 0 && n <= 1000 ? String(n) : null;
  }).filter((f) => (cut < 0 || f.start < cut) && !POPULATION.test(text.slice(Math.max(0, f.start - 6), f.start))
    // `3个困难户` counts only in a clause that says they were visited (`看望石门村3个困难户`, `对3个低保户进行了走访`),
    // not `了解到组里新增2个监测户`, `会上研究识别了3个边缘户`.
    && (!KIND_COUNT.test(text.slice(f.start, f.end)) || (VISIT_VERB.test(clauseAt(text, f.start)) && !DESCRIBING.test(clauseAt(text, f.start, true)))));
  // `五保户2户，困难户3户，合计5户`: a total said as such is the count.
  const total = counts.find((f) => /(?:合计|共计|总计|一共|共)\s?$/.test(text.slice(Math.max(0, f.start - 3), f.start)));
  const about = all(HOUSEHOLDS_ABOUT, text, asTyped);
  return [...(total ? [total] : counts), ...about];
}
const KIND_COUNT = new RegExp(`${HOUSEHOLD_KINDS}户$`);
const VISIT_VERB = /走访|看望|慰问|入户|探望|拜访|走了|看了|去了|到了/;
const DESCRIBING = /了解|发现|新增|识别|排查|得知|研究|涉及|纳入|评为|认定|复核|需要|共有|还有/;
/** The clause around `i` (or only its part before `i`: `了解到…新增2个监测户`, not `走访了俩困难户了解…`). */
const clauseAt = (text: string, i: number, before = false) => {
  const sep = /[,，。;；\n]/;
  let a = i, b = i;
  while (a > 0 && !sep.test(text[a - 1])) a--;
  while (!before && b < text.length && !sep.test(text[b])) b++;
  return text.slice(a, b);
};
// A count after these describes the place, not the visit: `全村386户，走访了5户`.
const POPULATION = /(?:(?:全村|全组|全社区|全镇|辖区|村里|组里|社区里)(?:共|一共|总共|还)?有?|还有|共有|总共有|现有|有低保户|有困难户|有五保户|评为|认定)\s?$/;

// --- deadlines ---
const monthEnd = (y: number, m: number) => periodOf('month', `${y}-${String(m).padStart(2, '0')}-01`).end;
/**
 * The end of month `m` nearest today, as for any year-less date: `10月底前` written in November is
 * last October's (refused as past, so the cadre says 明年10月底 if that is meant), never moved a
 * year on; `1月底` written in November is next January's.
 */
function nearestMonthEnd(m: number, today: LocalDate): LocalDate {
  const y = +today.slice(0, 4);
  return [y - 1, y, y + 1].map((yy) => monthEnd(yy, m))
    .reduce((a, b) => (Math.abs(daysBetween(today, b)) < Math.abs(daysBetween(today, a)) ? b : a));
}

interface DeadlineCtx { today: LocalDate; y: number; m0: number; wd: number }
const BEFORE = '(?:之前|以前|前|为止|截止)';
const DEADLINE_PATTERNS: Array<[RegExp, (m: RegExpExecArray, c: DeadlineCtx) => LocalDate | null]> = [
  [new RegExp(`(明年|今年)?(?<!\\d)${N}月(?:底|末|份底)${BEFORE}?`, 'g'), (m, { today, y }) => {
    const mo = num(m[2]);
    if (!mo || mo > 12) return null;
    return m[1] === '明年' ? monthEnd(y + 1, mo) : m[1] === '今年' ? monthEnd(y, mo) : nearestMonthEnd(mo, today);
  }],
  [new RegExp(`(?<![\\d十一二三四五六七八九])(?:本月|这个?月|当月|月)(?:底|末)${BEFORE}?`, 'g'), (_, { y, m0 }) => monthEnd(y, m0)],
  [/(?:下个?月)(?:底|末)(?:之前|以前|前)?/g, (_, { y, m0 }) => (m0 === 12 ? monthEnd(y + 1, 1) : monthEnd(y, m0 + 1))],
  [/(?:今年|本年)?(?:年底|年末)(?:之前|以前|前)?/g, (_, { y }) => `${y}-12-31`],
  // `明年1月10号`, `今年12月20日前`: the year said, so nothing is nearest-guessed.
  [new RegExp(`(明年|今年)(?<!\\d)${N}月${N}[日号]?${BEFORE}?`, 'g'), (m, { y }) => {
    const mo = num(m[2]), d = num(m[3]);
    if (!mo || mo > 12 || !d) return null;
    const s = `${m[1] === '明年' ? y + 1 : y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    return isLocalDate(s) ? s : null;
  }],
  [new RegExp(`(?<![\\d.])${N}个?(天|日|周|星期|礼拜|月)(?:之内|以内|内)`, 'g'), (m, { today }) => {
    const n = num(m[1]); if (!n) return null;
    return addDays(today, m[2] === '月' ? n * 30 : /周|星期|礼拜/.test(m[2]) ? n * 7 : n);
  }],
  [/(?:本|这)(?:周|星期)(?:之内|以内|内)|(?:本|这)?周末(?:之前|以前|前)/g, (_, { today, wd }) => addDays(today, 7 - wd)],
  [/下(?:周|星期)(?:之内|以内|内)/g, (_, { today, wd }) => addDays(today, 14 - wd)],
  [new RegExp(`${WD}${BEFORE}`, 'g'), (m, { today, wd }) => {
    const target = WEEKDAY_NUM[m[2]] ?? +m[2];
    const shift = m[1] === '下' ? 1 : m[1] === '上' || m[1] === '上上' ? null : 0;
    if (shift === null) return null;
    if (m[1]) return addDays(today, -(wd - 1) + 7 * shift + target - 1);
    return addDays(today, (target - wd + 7) % 7);
  }],
];
const BEFORE_AFTER_DATE = /^\s?(?:之前|以前|前|为止)/;
const LEAD_BEFORE_DATE = /(?:延至|延期至|延长至|延期到|延长到|延到|推迟到|推迟至|截止到?|截至|限期|期限)\s?$/;

/**
 * Deadline phrases: `12月31日前`, `月底前`, `12月底`, `年底前`, `两周内`, `30天内`, `一个月内`,
 * `下周五前`, `本周内`, `延至12月20日`. `raw` is the date.
 */
export function findDeadlines(text: string, today: LocalDate): Found[] {
  const ctx: DeadlineCtx = { today, y: +today.slice(0, 4), m0: +today.slice(5, 7), wd: weekdayOf(today) };
  const out: Found[] = [];
  for (const [re, fn] of DEADLINE_PATTERNS) out.push(...all(re, text, (m) => fn(m, ctx)));
  // A date followed by 前/之前, or after 延至/截止到 … is a deadline too.
  for (const d of findDates(text, today, 'future')) {
    const before = BEFORE_AFTER_DATE.exec(text.slice(d.end));
    const lead = LEAD_BEFORE_DATE.exec(text.slice(0, d.start));
    if (before || lead) out.push({ start: lead ? d.start - lead[0].length : d.start, end: before ? d.end + before[0].length : d.end, raw: d.raw.slice(0, 10) });
  }
  return out;
}

// --- references ---
/** Issue numbers with any punctuation around them: `#12`, `＃１２`, `#12号`, `12号问题`, `问题12`. */
export function findIssueRefs(text: string): Found[] {
  return [
    ...all(/[#＃]\s?(\d{1,9})号?(?:问题)?/g, text, (m) => m[1]),
    ...all(/(?<![\d#vz])(\d{1,9})号问题/g, text, (m) => m[1]),
    ...all(/(?<![一二两三四五六七八九十])([一二两三四五六七八九十]{1,3})号问题/g, text, (m) => { const n = parseChineseNumber(m[1]); return n ? String(n) : null; }),
    ...all(/(?:问题|第)\s?(?:编号)?[#＃]?(\d{1,9})号?(?:问题)?/g, text, (m) => m[1]),
  ];
}

/** Record numbers: `#V12` (visit), `#Z3` (volunteer). */
export function findRecordRefs(text: string): Found[] {
  return all(/[#＃]?\s?(?<![a-z])([vz])\s?(\d{1,9})(?!\d)/g, text, (m) => `${m[1].toUpperCase()}${m[2]}`);
}

/** People: `@李四` up to the next separator. */
export function findPeople(text: string): Found[] {
  return [
    ...all(/[@＠]([^\s,，。;；:：、!！?？@＠#]{1,20})/g, text, (m) => m[1]),
    // Without the @: `责任人李四`, `李四负责`.
    ...all(/(?:责任人|负责人)(?:是|为)?([\u4e00-\u9fa5]{2,3})(?=[\s,，。;；]|$)/g, text, (m) => m[1]),
    ...all(/(?<![\u4e00-\u9fa5])([\u4e00-\u9fa5]{2,3})(?:牵头)?负责(?![人])/g, text, (m) => m[1]),
    ...all(/(?:交给|交由|由)([\u4e00-\u9fa5]{2,3}?)(?:同志)?(?:办理|负责|处理|牵头|跟进)/g, text, (m) => m[1]),
    ...all(/交给([\u4e00-\u9fa5]{2,3})(?=[\s,，。;；]|$)/g, text, (m) => m[1]),
    // `李四和张三负责`: two people, asked about.
    // `李四和张三负责`: two people are no one responsible; kept whole, so the roster finds no one
    // and the bot says to name one.
    ...all(/([\u4e00-\u9fa5]{2,3})[和与、跟]([\u4e00-\u9fa5]{2,3})(?:一起|共同)?负责/g, text, (m) => `${m[1]}和${m[2]}`),
  ];
}

// --- places ---
export const PLACE_SUFFIXES = ['社区', '小区', '街道', '合作社', '公司', '企业', '学校', '小学', '中学', '幼儿园', '医院', '卫生院', '卫生室',
  '福利院', '敬老院', '养老院', '中心', '广场', '市场', '基地', '村委会', '居委会', '园区', '工业园', '村', '镇', '乡', '组', '屯', '厂', '站', '所', '馆', '家'];
const SUFFIX_RE = new RegExp(`^(?:县城|[\\u4e00-\\u9fa5a-z0-9]{1,10}?(?:${PLACE_SUFFIXES.join('|')}))`);
// Words a place name never contains: verbs and function words that follow a place in a sentence.
const NOT_IN_PLACE = /走访|入户|了|的|和|与|及|开展|宣讲|座谈|调研|谈心|慰问|看望|帮助|协调|反映|问题|困难|低保|群众|用时|小时|天|我|去|到|在|共|户|驻|进|下|回|赴|上|服务|影响|出行|解决|帮忙|义务|辅导|给|替|把|被|说|讲|书记|主任|支书|村长|镇长|乡长|局长|站长|所长|院长/;
const PEOPLE = /^(?:村民|群众|居民|老人|党员|干部|村干部|两委|学生|儿童|妇女|农户|职工|员工|青年|[\u4e00-\u9fa5]{0,3}户|进行|开展|发放|修建|转达|宣讲|走访|慰问|看望|了解|调研|检查|整治|送|捐)/;
const POINTING = /^(?:这|那|哪|几|各|每|隔壁|他们|她们|我们|你们|咱们|他|她|我|你|本|该|全|其他|别的)(?:个|些|两个|几个)?(?:村|社区|小区|镇|乡|组|屯|街道|厂|企业|学校|医院|家)$/;
// `村民`, `村里`, `村委`: 村 starting a word, not ending a place name (`给村民发`, `说村里`).
export const VILLAGE_WORD = /^[民里委干风容貌务]/;
// …家 is a household (王大爷家) only when short and preceded by a person-like word.
const FAMILY_RE = /^[\u4e00-\u9fa5]{1,4}家/;

/** A place shaped word starting exactly at `i` (`石门村`, `县福利院`, `王大爷家`), or null. */
export function placeShapeAt(text: string, i: number, afterPreposition = false): number | null {
  const rest = text.slice(i);
  const m = SUFFIX_RE.exec(rest);
  if (!m) return null;
  const word = m[0];
  if (NOT_IN_PLACE.test(word.slice(0, -1)) || /^\d+$/.test(word.slice(0, -1))) return null;
  if (word.endsWith('家') && !FAMILY_RE.test(word)) return null;
  // (`召开村民大会`, `指导村务` too; `李庄村民王大爷家` is 李庄村 and a villager's household.)
  if (word.endsWith('村') && word.length <= 3 && VILLAGE_WORD.test(rest.slice(word.length)) && !/^民[\u4e00-\u9fa5]{1,4}家/.test(rest.slice(word.length))) return null;
  // `这个村`, `隔壁村`, `他们村`, `几个村`: a word that points at a place, not its name.
  if (POINTING.test(word)) return null;
  // `向李庄村村民宣讲`, `为李庄村修建便民桥`, `对李庄村开展整治`: after a preposition, followed by
  // people or what was done, neither `向李庄村` nor `李庄村` is taken — `为民社区开展…` reads the same
  // way, so the place is asked (a known place is found by name first). `向阳社区`, `为民社区` alone
  // are names.
  if (afterPreposition) return i + word.length;
  const led = /^[向对给为替]/.test(word) ? placeShapeAt(text, i + 1, true) : null;
  if (led !== null && led - (i + 1) >= 3 && PEOPLE.test(text.slice(led))) return null;
  if (i > 0 && /[向对给为替]/.test(text[i - 1]) && PEOPLE.test(rest.slice(word.length))) return null;
  // `组` and `家` alone are too common to start a place; they only extend one (石门村三组王大爷家).
  if (/[组家站所]$/.test(word) && word.length < 3 && !/^[一二三四五六七八九十\d]+组$/.test(word)) return null;
  return i + word.length;
}

/** Sub-places that extend a place right after it: `三组`, `5号楼`, `王大爷家`. */
export function placeTailAt(text: string, i: number): number | null {
  const m = /^(?:[一二三四五六七八九十\d]{1,3}(?:组|队|号楼|栋|单元|号院|号)|[\u4e00-\u9fa5]{1,3}家(?!庭|属|人|里))/.exec(text.slice(i));
  if (!m || NOT_IN_PLACE.test(m[0].replace(/家$/, ''))) return null;
  return i + m[0].length;
}
