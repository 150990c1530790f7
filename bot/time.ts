// Calendar dates, durations and reporting periods for Minqing.
// A LocalDate is a plain 'YYYY-MM-DD' calendar date in the deployment time zone; all calendar
// arithmetic runs on integer day numbers (days since 1970-01-01), so only the conversion from an
// instant needs a time zone at all.
import { Info, type Zone } from 'luxon';

export const DEFAULT_TZ = 'Asia/Shanghai';
export const WORKDAY_HOURS = 8;
export const MAX_DURATION_HOURS = 30 * WORKDAY_HOURS; // 30 working days
export type LocalDate = string;
export type PeriodKind = 'week' | 'month' | 'quarter' | 'year';
export interface Period { kind: PeriodKind; start: LocalDate; end: LocalDate; key: string; label: string }

const DAY_MS = 86_400_000;

// --- day numbers (Howard Hinnant's civil calendar algorithms: exact, no Date allocation) ---
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400), yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}
function civilFromDays(n: number): [number, number, number] {
  const z = n + 719468, era = Math.floor(z / 146097), doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153), d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysInMonth = (y: number, m: number) => (m === 2 ? (isLeap(y) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]);
const isValidYmd = (y: number, m: number, d: number) =>
  y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
const pad2 = (n: number) => (n < 10 ? '0' : '') + n;
const fmt = (y: number, m: number, d: number): LocalDate => `${y}-${pad2(m)}-${pad2(d)}`;
const fromDays = (n: number): LocalDate => fmt(...civilFromDays(n));
const weekdayOfDays = (n: number) => ((((n + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function daysOrNull(d: string): number | null {
  const m = ISO_DATE.exec(d);
  return m && isValidYmd(+m[1], +m[2], +m[3]) ? daysFromCivil(+m[1], +m[2], +m[3]) : null;
}
function toDays(d: LocalDate): number {
  const n = daysOrNull(d);
  if (n === null) throw new RangeError(`invalid LocalDate: ${d}`);
  return n;
}

// --- time zones ---
// IANAZone.offset() runs Intl formatToParts on every call (microseconds), too slow for the hot path.
// Offsets only change at transitions, and no zone has two transitions within 15 minutes, so a
// 15-minute bucket whose two ends agree has one offset throughout and can be cached; a bucket that
// straddles a transition is computed exactly on every call instead.
const BUCKET_MS = 15 * 60_000;
const zones = new Map<string, { zone: Zone; offsets: Map<number, number> }>();
function offsetMinutes(tz: string, ms: number): number {
  let z = zones.get(tz);
  if (!z) {
    const zone = Info.normalizeZone(tz);
    if (!zone.isValid) throw new RangeError(`unknown time zone: ${tz}`);
    zones.set(tz, (z = { zone, offsets: new Map() }));
  }
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  const bucket = Math.floor(ms / BUCKET_MS);
  const cached = z.offsets.get(bucket);
  if (cached !== undefined) return cached;
  const a = z.zone.offset(bucket * BUCKET_MS), b = z.zone.offset(bucket * BUCKET_MS + BUCKET_MS - 1);
  if (a !== b) return z.zone.offset(ms);
  if (z.offsets.size >= 1024) z.offsets.clear();
  z.offsets.set(bucket, a);
  return a;
}
const todayDays = (now: Date, tz: string) => {
  const ms = now.getTime();
  return Math.floor((ms + offsetMinutes(tz, ms) * 60_000) / DAY_MS);
};

export function localDate(now: Date, tz: string = DEFAULT_TZ): LocalDate {
  return fromDays(todayDays(now, tz));
}

/** Wall-clock minutes since local midnight of `now` in `tz` (for quiet hours). */
export function localMinutes(now: Date, tz: string = DEFAULT_TZ): number {
  const ms = now.getTime();
  const local = ms + offsetMinutes(tz, ms) * 60_000;
  return Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / 60_000);
}
export function addDays(d: LocalDate, n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`addDays needs whole days, got ${n}`);
  return fromDays(toDays(d) + n);
}
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return toDays(to) - toDays(from);
}
export function weekdayOf(d: LocalDate): number {
  return weekdayOfDays(toDays(d));
}
export function formatDate(d: LocalDate): string {
  const [y, m, day] = civilFromDays(toDays(d));
  return `${y}年${m}月${day}日`;
}
export function isLocalDate(s: string): boolean {
  return daysOrNull(s) !== null;
}

// Same resolution as luxon: if local midnight falls in a DST gap (e.g. America/Santiago) the day
// starts at the first instant that exists, i.e. midnight read with the pre-transition offset.
export function startOfLocalDay(d: LocalDate, tz: string = DEFAULT_TZ): Date {
  const wall = toDays(d) * DAY_MS;
  const o1 = offsetMinutes(tz, wall);
  const guess = wall - o1 * 60_000, o2 = offsetMinutes(tz, guess);
  if (o1 === o2) return new Date(guess);
  const guess2 = wall - o2 * 60_000, o3 = offsetMinutes(tz, guess2);
  if (o2 === o3) return new Date(guess2);
  return new Date(wall - Math.min(o2, o3) * 60_000);
}

// --- input normalisation ---
// Users type on phones: full-width digits, stray spaces, and sometimes traditional characters that
// upstream conversion missed, so the few characters our patterns depend on are mapped here.
const TRAD: Record<string, string> = { 週: '周', 禮: '礼', 號: '号', 後: '后', 這: '这', 個: '个', 時: '时', 鐘: '钟', 兩: '两', 頭: '头', 當: '当' };
const NON_ASCII = /[^\x00-\x7f]/;
function normalize(text: string): string {
  let s = text.trim();
  if (NON_ASCII.test(s)) {
    s = s.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
      .replace(/[週禮號後這個時鐘兩頭當]/g, (c) => TRAD[c]!);
  }
  return s.replace(/[\s\u3000]+/g, '').toLowerCase();
}

const CN_DIGIT: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
/** Arabic numbers, Chinese numerals up to 九十九 (十一, 二十, 三十一, 两) and digit strings (二〇二六). */
export function parseChineseNumber(s: string): number | null {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s === '俩') return 2;
  if (s === '仨') return 3;
  const t = s.indexOf('十');
  if (t < 0) {
    // Digit by digit only for a year (二〇二六): `七八`, `三四` said aloud are a range (seven or
    // eight), never 78 or 34.
    if (!s || (s.length > 1 && (s.length !== 4 || s.includes('两')))) return null;
    let n = 0;
    for (const ch of s) { const v = CN_DIGIT[ch]; if (v === undefined) return null; n = n * 10 + v; }
    return n;
  }
  const tens = t === 0 ? 1 : t === 1 ? CN_DIGIT[s[0]!] : undefined;
  const rest = s.slice(t + 1);
  const ones = rest === '' ? 0 : rest.length === 1 ? CN_DIGIT[rest] : undefined;
  return tens === undefined || !tens || ones === undefined ? null : tens * 10 + ones;
}

// --- dates ---
const NUM = '(\\d{1,2}|[零〇一二两三四五六七八九十]{1,3})';
// Maps, not object literals: user text such as 'constructor' must not hit Object.prototype.
const RELATIVE_DAYS = new Map(Object.entries({
  今天: 0, 今日: 0, 昨天: -1, 昨日: -1, 前天: -2, 前日: -2, 大前天: -3, 明天: 1, 明日: 1, 后天: 2, 大后天: 3,
}));
const FULL_NUMERIC = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$/;
const FULL_CN = new RegExp(`^(\\d{4}|[〇零一二三四五六七八九]{4})年${NUM}月${NUM}[日号]?$`);
const MONTH_DAY_CN = new RegExp(`^${NUM}月${NUM}[日号]?$`);
const MONTH_DAY_NUMERIC = /^(\d{1,2})([-/.])(\d{1,2})$/;
const DAY_ONLY = new RegExp(`^${NUM}[日号]$`);
const DAYS_OFFSET = /^(\d{1,3}|[零〇一二两三四五六七八九十]{1,3})[天日](?:以)?([前后])$/;
const WEEKDAY = /^(上|本|这|下)?个?(?:周|星期|礼拜)([一二三四五六日天七1-7])$/;
const WEEKDAY_NUM: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7, 七: 7 };
const WEEK_SHIFT: Record<string, number> = { 上: -1, 本: 0, 这: 0, 下: 1 };

function ymdOrNull(y: number | null, m: number | null, d: number | null): LocalDate | null {
  return y !== null && m !== null && d !== null && isValidYmd(y, m, d) ? fmt(y, m, d) : null;
}

// Year-less month/day: walk years away from today until a valid date on the preferred side shows
// up. Several steps are only ever needed for 2月29日 (at most 8 years between leap years).
function inferYear(m: number | null, d: number | null, today: number, prefer: 'past' | 'future'): LocalDate | null {
  if (m === null || d === null || m < 1 || m > 12 || d < 1 || d > daysInMonth(2000, m)) return null;
  const step = prefer === 'past' ? -1 : 1;
  for (let y = civilFromDays(today)[0], i = 0; i < 10; y += step, i++) {
    if (!isValidYmd(y, m, d)) continue;
    const n = daysFromCivil(y, m, d);
    if (prefer === 'past' ? n <= today : n >= today) return fromDays(n);
  }
  return null;
}

export function parseDate(
  text: string, now: Date, opts: { tz?: string; prefer?: 'past' | 'future' } = {},
): LocalDate | null {
  const s = normalize(text);
  if (!s) return null;
  let m = FULL_NUMERIC.exec(s);
  if (m) return ymdOrNull(+m[1]!, +m[3]!, +m[4]!);
  if ((m = FULL_CN.exec(s))) return ymdOrNull(parseChineseNumber(m[1]!), parseChineseNumber(m[2]!), parseChineseNumber(m[3]!));

  const today = todayDays(now, opts.tz ?? DEFAULT_TZ);
  const prefer = opts.prefer ?? 'past';
  const rel = RELATIVE_DAYS.get(s);
  if (rel !== undefined) return fromDays(today + rel);
  if ((m = MONTH_DAY_CN.exec(s))) return inferYear(parseChineseNumber(m[1]!), parseChineseNumber(m[2]!), today, prefer);
  if ((m = MONTH_DAY_NUMERIC.exec(s))) return inferYear(+m[1]!, +m[3]!, today, prefer);
  if ((m = DAY_ONLY.exec(s))) {
    const [y, mo] = civilFromDays(today);
    return ymdOrNull(y, mo, parseChineseNumber(m[1]!));
  }
  if ((m = DAYS_OFFSET.exec(s))) {
    const n = parseChineseNumber(m[1]!);
    return n === null ? null : fromDays(today + (m[2] === '前' ? -n : n));
  }
  if ((m = WEEKDAY.exec(s))) {
    const target = WEEKDAY_NUM[m[2]!] ?? +m[2]!, wd = weekdayOfDays(today);
    if (m[1]) return fromDays(today - (wd - 1) + 7 * WEEK_SHIFT[m[1]]! + target - 1);
    return fromDays(prefer === 'past' ? today - ((wd - target + 7) % 7) : today + ((target - wd + 7) % 7));
  }
  return null;
}

// --- durations ---
const DNUM = '(\\d+(?:\\.\\d+)?|[零〇一二两三四五六七八九十]{1,3})';
const H_UNIT = '(?:小时|钟头|钟|h|hrs?|hours?)';
const M_UNIT = '(?:分钟|分|min|mins|minutes?|m)';
const DUR_HOURS = new RegExp(`^${DNUM}(个)?(半)?${H_UNIT}$`);
const DUR_H_M = new RegExp(`^${DNUM}个?${H_UNIT}${DNUM}${M_UNIT}?$`);
const DUR_MINUTES = new RegExp(`^${DNUM}${M_UNIT}$`);
const DUR_DAYS = new RegExp(`^${DNUM}(?:个?工作日|天|d|days?)(半)?$`);
const DUR_HALF = /^半个?(小时|钟头|钟|天|日|工作日)$/;

export function parseDuration(text: string): { hours: number } | null {
  const s = normalize(text);
  let hours: number | null = null, m: RegExpExecArray | null;
  const num = (i: number) => parseChineseNumber(m![i]!);
  const plusHalf = (n: number | null, half: string | undefined) =>
    n === null || (half && !Number.isInteger(n)) ? null : n + (half ? 0.5 : 0);
  if ((m = DUR_HALF.exec(s))) hours = /时|钟/.test(m[1]!) ? 0.5 : WORKDAY_HOURS / 2;
  else if ((m = DUR_HOURS.exec(s))) hours = plusHalf(num(1), m[3]);
  else if ((m = DUR_H_M.exec(s))) {
    const h = num(1), min = num(2);
    hours = h === null || min === null || min >= 60 ? null : h + min / 60;
  } else if ((m = DUR_MINUTES.exec(s))) { const min = num(1); hours = min === null ? null : min / 60; }
  else if ((m = DUR_DAYS.exec(s))) { const d = plusHalf(num(1), m[2]); hours = d === null ? null : d * WORKDAY_HOURS; }
  return hours !== null && hours > 0 && hours <= MAX_DURATION_HOURS ? { hours } : null;
}

// --- periods ---
const QUARTER_CN = ['一', '二', '三', '四'];
function isoWeekStart(isoYear: number, week: number): number | null {
  const jan4 = daysFromCivil(isoYear, 1, 4);
  const start = jan4 - (weekdayOfDays(jan4) - 1) + (week - 1) * 7;
  // Week 53 only exists in long years; its Thursday must still belong to isoYear.
  return week >= 1 && week <= 53 && civilFromDays(start + 3)[0] === isoYear ? start : null;
}
function periodFromDays(kind: PeriodKind, n: number): Period {
  const [y, m] = civilFromDays(n);
  switch (kind) {
    case 'week': {
      const start = n - (weekdayOfDays(n) - 1), wy = civilFromDays(start + 3)[0]; // ISO: the Thursday decides the year
      const w = Math.floor((start - isoWeekStart(wy, 1)!) / 7) + 1;
      return { kind, start: fromDays(start), end: fromDays(start + 6), key: `${wy}-W${pad2(w)}`, label: `${wy}年第${w}周` };
    }
    case 'month':
      return { kind, start: fmt(y, m, 1), end: fmt(y, m, daysInMonth(y, m)), key: `${y}-${pad2(m)}`, label: `${y}年${m}月` };
    case 'quarter': {
      const q = Math.ceil(m / 3), last = q * 3;
      return { kind, start: fmt(y, last - 2, 1), end: fmt(y, last, daysInMonth(y, last)), key: `${y}-Q${q}`, label: `${y}年第${QUARTER_CN[q - 1]}季度` };
    }
    case 'year':
      return { kind, start: fmt(y, 1, 1), end: fmt(y, 12, 31), key: `${y}`, label: `${y}年` };
  }
}
export function periodOf(kind: PeriodKind, d: LocalDate): Period {
  return periodFromDays(kind, toDays(d));
}
/** The period `n` steps before (negative) or after (positive) `p`, of the same kind. */
export function shiftPeriod(p: Period, n: number): Period {
  const start = toDays(p.start);
  if (p.kind === 'week') return periodFromDays('week', start + 7 * n);
  const [y, m] = civilFromDays(start);
  const months = y * 12 + m - 1 + n * (p.kind === 'month' ? 1 : p.kind === 'quarter' ? 3 : 12);
  return periodFromDays(p.kind, daysFromCivil(Math.floor(months / 12), (months % 12) + 1, 1));
}

const RELATIVE_PERIODS = new Map<string, readonly [PeriodKind, number]>();
const PERIOD_WORDS = { week: ['周', '星期', '个星期', '礼拜', '个礼拜'], month: ['月', '个月'], quarter: ['季', '季度', '个季度'] } as const;
for (const [kind, words] of Object.entries(PERIOD_WORDS) as [PeriodKind, readonly string[]][]) {
  for (const w of words) for (const [pre, n] of [['本', 0], ['这', 0], ['当', 0], ['上', -1], ['下', 1]] as const) RELATIVE_PERIODS.set(pre + w, [kind, n]);
}
for (const [w, n] of [['本年', 0], ['今年', 0], ['当年', 0], ['去年', -1], ['上年', -1], ['明年', 1]] as const) RELATIVE_PERIODS.set(w, ['year', n]);

const YEAR = '([1-9]\\d{3})';
const P_YEAR_MONTH = new RegExp(`^${YEAR}(?:[-/.]|年)${NUM}月?份?$`);
const P_MONTH = new RegExp(`^${NUM}月份?$`);
const P_YEAR_QUARTER = new RegExp(`^${YEAR}(?:年|-)?(?:第?([一二三四1-4])季度?|q([1-4]))$`);
const P_QUARTER = /^(?:第?([一二三四1-4])季度|q([1-4]))$/;
const P_YEAR_WEEK = new RegExp(`^${YEAR}(?:年第?${NUM}周|-?w(\\d{1,2}))$`);
const P_WEEK = new RegExp(`^第${NUM}周$`);
const P_YEAR = new RegExp(`^${YEAR}年?$`);
const quarterNum = (a?: string, b?: string) => { const s = a ?? b!; return QUARTER_CN.indexOf(s) + 1 || +s; };

function monthPeriod(y: number, mo: number | null) {
  return mo !== null && mo >= 1 && mo <= 12 ? periodFromDays('month', daysFromCivil(y, mo, 1)) : null;
}
function weekPeriod(y: number, w: number | null) {
  const start = w === null ? null : isoWeekStart(y, w);
  return start === null ? null : periodFromDays('week', start);
}

export function parsePeriod(text: string, now: Date, tz: string = DEFAULT_TZ): Period | null {
  const s = normalize(text);
  let m: RegExpExecArray | null;
  if ((m = P_YEAR.exec(s))) return periodFromDays('year', daysFromCivil(+m[1]!, 1, 1));
  if ((m = P_YEAR_MONTH.exec(s))) return monthPeriod(+m[1]!, parseChineseNumber(m[2]!));
  if ((m = P_YEAR_QUARTER.exec(s))) return periodFromDays('quarter', daysFromCivil(+m[1]!, quarterNum(m[2], m[3]) * 3, 1));
  if ((m = P_YEAR_WEEK.exec(s))) return weekPeriod(+m[1]!, parseChineseNumber(m[2] ?? m[3]!));

  const today = todayDays(now, tz);
  const rel = RELATIVE_PERIODS.get(s);
  if (rel) return shiftPeriod(periodFromDays(rel[0], today), rel[1]);
  // A bare month/quarter/week number means its most recent occurrence: this year's unless that
  // has not started yet (in November, "12月" is last December).
  const recent = (make: (y: number) => Period | null, y: number) => {
    const p = make(y);
    return p && toDays(p.start) <= today ? p : make(y - 1);
  };
  const year = civilFromDays(today)[0];
  if ((m = P_MONTH.exec(s))) { const mo = parseChineseNumber(m[1]!); return recent((y) => monthPeriod(y, mo), year); }
  if ((m = P_QUARTER.exec(s))) { const q = quarterNum(m[1], m[2]); return recent((y) => periodFromDays('quarter', daysFromCivil(y, q * 3, 1)), year); }
  if ((m = P_WEEK.exec(s))) {
    const w = parseChineseNumber(m[1]!), isoYear = civilFromDays(today - weekdayOfDays(today) + 4)[0];
    return recent((y) => weekPeriod(y, w), isoYear);
  }
  return null;
}
