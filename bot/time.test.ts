import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import {
  DEFAULT_TZ, WORKDAY_HOURS, addDays, daysBetween, formatDate, isLocalDate, localDate, parseChineseNumber,
  parseDate, parseDuration, parsePeriod, periodOf, shiftPeriod, startOfLocalDay, weekdayOf,
  localMinutes,
} from './time.js';

const NOW = new Date('2026-11-22T10:00:00+08:00'); // Sunday, ISO week 2026-W47
const NEW_YEAR = new Date('2026-01-03T00:30:00+08:00'); // Saturday; still 2026-01-02 in UTC
const LATE_UTC = new Date('2026-11-22T23:30:00Z'); // already Monday 2026-11-23 in Shanghai

describe('constants', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_TZ).toBe('Asia/Shanghai');
    expect(WORKDAY_HOURS).toBe(8);
  });
});

describe('localDate', () => {
  it.each([
    [NOW, DEFAULT_TZ, '2026-11-22'],
    [LATE_UTC, DEFAULT_TZ, '2026-11-23'],
    [LATE_UTC, 'UTC', '2026-11-22'],
    [LATE_UTC, 'America/New_York', '2026-11-22'],
    [NEW_YEAR, DEFAULT_TZ, '2026-01-03'],
    [NEW_YEAR, 'UTC', '2026-01-02'],
    [new Date('2025-12-31T15:59:59.999Z'), DEFAULT_TZ, '2025-12-31'],
    [new Date('2025-12-31T16:00:00.000Z'), DEFAULT_TZ, '2026-01-01'],
    [new Date('2026-03-08T04:59:59Z'), 'America/New_York', '2026-03-07'], // EST, just before DST starts
    [new Date('2026-03-09T03:59:59Z'), 'America/New_York', '2026-03-08'], // EDT, 23:59:59 local
    [new Date('2026-03-09T04:00:00Z'), 'America/New_York', '2026-03-09'],
  ])('%o in %s → %s', (now, tz, expected) => {
    expect(localDate(now, tz)).toBe(expected);
  });

  it('agrees with luxon across DST transitions in several zones', () => {
    const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
    const start = Date.UTC(2026, 0, 1);
    for (const zone of zones) {
      // A stride of 7h13m visits every time of day across the whole year, including each transition's neighbourhood.
      for (let ms = start; ms < start + 366 * 86_400_000; ms += 7 * 3_600_000 + 13 * 60_000) {
        expect(localDate(new Date(ms), zone)).toBe(DateTime.fromMillis(ms, { zone }).toISODate());
      }
    }
  });

  it('rejects unknown zones and invalid instants', () => {
    expect(() => localDate(NOW, 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => localDate(new Date('nonsense'))).toThrow(RangeError);
  });
});

describe('calendar arithmetic', () => {
  it.each([
    ['2026-12-31', 1, '2027-01-01'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2026-11-22', 0, '2026-11-22'],
    ['2026-11-22', -400, '2025-10-18'],
    ['1970-01-01', -1, '1969-12-31'],
  ])('addDays(%s, %i) = %s', (d, n, expected) => {
    expect(addDays(d, n)).toBe(expected);
  });

  it.each([
    ['2026-01-01', '2026-12-31', 364],
    ['2024-01-01', '2025-01-01', 366],
    ['2026-11-22', '2026-11-20', -2],
    ['2026-03-07', '2026-03-09', 2], // spans a US DST change; calendar days are unaffected
  ])('daysBetween(%s, %s) = %i', (a, b, expected) => {
    expect(daysBetween(a, b)).toBe(expected);
  });

  it.each([
    ['2026-11-22', 7], ['2026-11-16', 1], ['2026-12-31', 4], ['2027-01-01', 5], ['1970-01-01', 4], ['1969-12-31', 3],
  ])('weekdayOf(%s) = %i', (d, expected) => {
    expect(weekdayOf(d)).toBe(expected);
  });

  it.each([
    ['2026-11-20', '2026年11月20日'],
    ['2026-01-05', '2026年1月5日'],
  ])('formatDate(%s) = %s', (d, expected) => {
    expect(formatDate(d)).toBe(expected);
  });

  it.each(['2026-13-01', '2025-02-29', '2026-2-3', '20261122', ''])('rejects malformed LocalDate %o', (d) => {
    expect(isLocalDate(d)).toBe(false);
    expect(() => addDays(d, 1)).toThrow(RangeError);
  });

  it('accepts valid LocalDates and only whole-day offsets', () => {
    expect(isLocalDate('2024-02-29')).toBe(true);
    expect(() => addDays('2026-11-22', 1.5)).toThrow(RangeError);
  });
});

describe('startOfLocalDay', () => {
  it.each([
    ['2026-11-22', DEFAULT_TZ, '2026-11-21T16:00:00.000Z'],
    ['2026-11-22', 'UTC', '2026-11-22T00:00:00.000Z'],
    ['2026-03-08', 'America/New_York', '2026-03-08T05:00:00.000Z'],
    ['2026-03-09', 'America/New_York', '2026-03-09T04:00:00.000Z'],
    // Chile starts DST at midnight, so 2026-09-06 00:00 never happens: the day begins at 01:00 -03.
    ['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
  ])('%s in %s starts at %s', (d, tz, expected) => {
    expect(startOfLocalDay(d, tz).toISOString()).toBe(expected);
    expect(startOfLocalDay(d, tz).getTime()).toBe(DateTime.fromISO(d, { zone: tz }).toMillis());
  });

  it('uses Asia/Shanghai by default and round-trips with localDate', () => {
    const start = startOfLocalDay('2026-01-01');
    expect(start.toISOString()).toBe('2025-12-31T16:00:00.000Z');
    expect(localDate(start)).toBe('2026-01-01');
    expect(localDate(new Date(start.getTime() - 1))).toBe('2025-12-31');
  });
});

describe('parseChineseNumber', () => {
  it.each([
    ['一', 1], ['两', 2], ['十', 10], ['十一', 11], ['十二', 12], ['二十', 20], ['三十一', 31], ['四十七', 47],
    ['二〇二六', 2026], ['15', 15], ['1.5', 1.5],
  ])('%s = %d', (s, n) => {
    expect(parseChineseNumber(s)).toBe(n);
  });
  it.each(['', '十十', '一二十', '两两', 'abc', '十一二', '七八', '三四', '一二三'])('%o is not a number', (s) => {
    expect(parseChineseNumber(s)).toBeNull();
  });
});

describe('parseDate', () => {
  it.each([
    ['2026-11-20', '2026-11-20'], ['2026/11/20', '2026-11-20'], ['2026.11.20', '2026-11-20'], ['2026-1-5', '2026-01-05'],
    ['2026年11月20日', '2026-11-20'], ['2026年11月20号', '2026-11-20'], ['二〇二六年十一月二十日', '2026-11-20'],
    ['11月20日', '2026-11-20'], ['11月20号', '2026-11-20'], ['11月20', '2026-11-20'],
    ['11.20', '2026-11-20'], ['11-20', '2026-11-20'], ['11/20', '2026-11-20'],
    ['十一月二十日', '2026-11-20'], ['十一月二十', '2026-11-20'], ['三月三十一日', '2026-03-31'], ['一月一日', '2026-01-01'],
    ['１１月２０日', '2026-11-20'], ['２０２６－１１－２０', '2026-11-20'], [' 11月 20日 ', '2026-11-20'], ['11月20號', '2026-11-20'],
    ['20日', '2026-11-20'], ['20号', '2026-11-20'], ['二十号', '2026-11-20'], ['1号', '2026-11-01'],
    ['25号', '2026-11-25'], // explicitly "that day of the current month", even when later than today
    ['今天', '2026-11-22'], ['今日', '2026-11-22'], ['昨天', '2026-11-21'], ['昨日', '2026-11-21'],
    ['前天', '2026-11-20'], ['大前天', '2026-11-19'], ['明天', '2026-11-23'], ['后天', '2026-11-24'], ['後天', '2026-11-24'],
    ['3天前', '2026-11-19'], ['三天前', '2026-11-19'], ['两天前', '2026-11-20'], ['十天前', '2026-11-12'], ['30天前', '2026-10-23'],
    ['上周五', '2026-11-13'], ['上星期五', '2026-11-13'], ['上礼拜五', '2026-11-13'], ['上个星期五', '2026-11-13'],
    ['上週五', '2026-11-13'], ['上禮拜五', '2026-11-13'], ['上周日', '2026-11-15'],
    ['本周一', '2026-11-16'], ['这周三', '2026-11-18'], ['這週三', '2026-11-18'], ['本周日', '2026-11-22'],
    ['周五', '2026-11-20'], ['星期五', '2026-11-20'], ['礼拜五', '2026-11-20'], ['週五', '2026-11-20'], ['周一', '2026-11-16'],
    ['周日', '2026-11-22'], ['周天', '2026-11-22'], ['星期天', '2026-11-22'], ['礼拜天', '2026-11-22'],
    ['下周一', '2026-11-23'], ['下星期日', '2026-11-29'],
    // Year inference, preferring the past: never later than today.
    ['11月22日', '2026-11-22'], ['11月23日', '2025-11-23'], ['12月1日', '2025-12-01'], ['十二月一日', '2025-12-01'],
    ['2月29日', '2024-02-29'],
  ])('%o → %s (past)', (text, expected) => {
    expect(parseDate(text, NOW)).toBe(expected);
    expect(parseDate(text, NOW, { prefer: 'past', tz: 'Asia/Shanghai' })).toBe(expected);
  });

  it.each([
    ['11月20日', '2027-11-20'], ['11月22日', '2026-11-22'], ['12月1日', '2026-12-01'], ['11.23', '2026-11-23'],
    ['2月29日', '2028-02-29'], ['周五', '2026-11-27'], ['周日', '2026-11-22'], ['周一', '2026-11-23'],
    ['上周五', '2026-11-13'], ['2026-11-20', '2026-11-20'], ['昨天', '2026-11-21'], ['20号', '2026-11-20'],
  ])('%o → %s (future)', (text, expected) => {
    expect(parseDate(text, NOW, { prefer: 'future' })).toBe(expected);
  });

  it.each([
    ['12月31日', 'past', '2025-12-31'], ['12月31日', 'future', '2026-12-31'],
    ['1月3日', 'past', '2026-01-03'], ['1月3日', 'future', '2026-01-03'],
    ['1月5日', 'past', '2025-01-05'], ['1月5日', 'future', '2026-01-05'],
    ['1.2', 'past', '2026-01-02'], ['1.2', 'future', '2027-01-02'],
    ['昨天', 'past', '2026-01-02'], ['大前天', 'past', '2025-12-31'], ['3日', 'past', '2026-01-03'],
    ['上周五', 'past', '2025-12-26'], ['本周一', 'past', '2025-12-29'], ['周五', 'past', '2026-01-02'],
    ['周五', 'future', '2026-01-09'], ['下周一', 'past', '2026-01-05'],
  ] as const)('across New Year: %o (%s) → %s', (text, prefer, expected) => {
    expect(parseDate(text, NEW_YEAR, { prefer })).toBe(expected);
  });

  it.each([
    ['今天', DEFAULT_TZ, '2026-11-23'], ['昨天', DEFAULT_TZ, '2026-11-22'], ['周一', DEFAULT_TZ, '2026-11-23'],
    ['上周五', DEFAULT_TZ, '2026-11-20'], ['本周日', DEFAULT_TZ, '2026-11-29'], ['11月23日', DEFAULT_TZ, '2026-11-23'],
    ['今天', 'UTC', '2026-11-22'], ['周一', 'UTC', '2026-11-16'], ['11月23日', 'UTC', '2025-11-23'],
  ])('uses the tz calendar: %o in %s → %s', (text, tz, expected) => {
    expect(parseDate(text, LATE_UTC, { tz })).toBe(expected);
  });

  it.each([
    '', '   ', 'hello', '2月30日', '13月1日', '0月1日', '11月0日', '11月32日', '2026-02-30', '2026-13-01', '2025-02-29',
    '2026年2月29日', '31号', '32日', '0日', '2026-11/20', '2026-11-20x', '11/20/2026', '周八', '上上周五', '星期', '十十月一日',
    'constructor', '__proto__', '1.5h', '2小时',
  ])('rejects %o', (text) => {
    expect(parseDate(text, NOW)).toBeNull();
  });
});

describe('parseDuration', () => {
  it.each([
    ['2小时', 2], ['2个小时', 2], ['2h', 2], ['2H', 2], ['1.5h', 1.5], ['1.5小时', 1.5], ['两小时', 2], ['两个小时', 2],
    ['兩個小時', 2], ['２小时', 2], [' 2 h ', 2], ['3hrs', 3], ['两个钟头', 2],
    ['90分钟', 1.5], ['30min', 0.5], ['45分钟', 0.75], ['十五分钟', 0.25], ['2小时30分钟', 2.5], ['1h30m', 1.5], ['1小时30分', 1.5],
    ['半天', 4], ['半小时', 0.5], ['半个小时', 0.5], ['半个钟头', 0.5],
    ['1天', 8], ['1.5天', 12], ['两天', 16], ['三天', 24], ['3d', 24], ['一天半', 12], ['1天半', 12], ['1个工作日', 8],
    ['一个半小时', 1.5], ['两个半小时', 2.5], ['十小时', 10], ['30天', 240], ['240h', 240],
  ])('%o → %d h', (text, hours) => {
    expect(parseDuration(text)).toEqual({ hours });
  });

  it.each([
    '', '2', '小时', 'abc', '1日', '20日', '0h', '0小时', '0天', '-2h', '31天', '241h', '30天半', '1.5个半小时',
    '2小时60分钟', '2h-30m', '1月', '零分钟',
  ])('rejects %o', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

const p = (kind: string, start: string, end: string, key: string, label: string) => ({ kind, start, end, key, label });

describe('periodOf', () => {
  it.each([
    ['week', '2026-11-22', p('week', '2026-11-16', '2026-11-22', '2026-W47', '2026年第47周')],
    ['week', '2026-12-31', p('week', '2026-12-28', '2027-01-03', '2026-W53', '2026年第53周')],
    ['week', '2027-01-01', p('week', '2026-12-28', '2027-01-03', '2026-W53', '2026年第53周')],
    ['week', '2027-01-04', p('week', '2027-01-04', '2027-01-10', '2027-W01', '2027年第1周')],
    ['week', '2025-12-29', p('week', '2025-12-29', '2026-01-04', '2026-W01', '2026年第1周')],
    ['week', '2025-12-28', p('week', '2025-12-22', '2025-12-28', '2025-W52', '2025年第52周')],
    ['month', '2024-02-29', p('month', '2024-02-01', '2024-02-29', '2024-02', '2024年2月')],
    ['month', '2026-02-15', p('month', '2026-02-01', '2026-02-28', '2026-02', '2026年2月')],
    ['month', '2100-02-01', p('month', '2100-02-01', '2100-02-28', '2100-02', '2100年2月')],
    ['month', '2026-11-30', p('month', '2026-11-01', '2026-11-30', '2026-11', '2026年11月')],
    ['quarter', '2026-03-31', p('quarter', '2026-01-01', '2026-03-31', '2026-Q1', '2026年第一季度')],
    ['quarter', '2026-04-01', p('quarter', '2026-04-01', '2026-06-30', '2026-Q2', '2026年第二季度')],
    ['quarter', '2026-09-30', p('quarter', '2026-07-01', '2026-09-30', '2026-Q3', '2026年第三季度')],
    ['quarter', '2026-12-31', p('quarter', '2026-10-01', '2026-12-31', '2026-Q4', '2026年第四季度')],
    ['year', '2026-12-31', p('year', '2026-01-01', '2026-12-31', '2026', '2026年')],
    ['year', '2027-01-01', p('year', '2027-01-01', '2027-12-31', '2027', '2027年')],
  ] as const)('%s of %s', (kind, d, expected) => {
    expect(periodOf(kind, d)).toEqual(expected);
  });

  it.each([
    ['month', '2026-01-15', -1, '2025-12'], ['month', '2026-12-01', 1, '2027-01'], ['quarter', '2026-02-01', -1, '2025-Q4'],
    ['quarter', '2026-11-01', 2, '2027-Q2'], ['week', '2026-12-31', 1, '2027-W01'], ['week', '2026-01-01', -1, '2025-W52'],
    ['year', '2026-06-01', -1, '2025'],
  ] as const)('shiftPeriod(%s of %s, %i) → %s', (kind, d, n, key) => {
    expect(shiftPeriod(periodOf(kind, d), n).key).toBe(key);
  });
});

describe('parsePeriod', () => {
  it.each([
    ['本周', p('week', '2026-11-16', '2026-11-22', '2026-W47', '2026年第47周')],
    ['这周', p('week', '2026-11-16', '2026-11-22', '2026-W47', '2026年第47周')],
    ['上周', p('week', '2026-11-09', '2026-11-15', '2026-W46', '2026年第46周')],
    ['上週', p('week', '2026-11-09', '2026-11-15', '2026-W46', '2026年第46周')],
    ['上个星期', p('week', '2026-11-09', '2026-11-15', '2026-W46', '2026年第46周')],
    ['本月', p('month', '2026-11-01', '2026-11-30', '2026-11', '2026年11月')],
    ['上月', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['上个月', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['本季', p('quarter', '2026-10-01', '2026-12-31', '2026-Q4', '2026年第四季度')],
    ['本季度', p('quarter', '2026-10-01', '2026-12-31', '2026-Q4', '2026年第四季度')],
    ['上季度', p('quarter', '2026-07-01', '2026-09-30', '2026-Q3', '2026年第三季度')],
    ['本年', p('year', '2026-01-01', '2026-12-31', '2026', '2026年')],
    ['今年', p('year', '2026-01-01', '2026-12-31', '2026', '2026年')],
    ['去年', p('year', '2025-01-01', '2025-12-31', '2025', '2025年')],
    ['2026-10', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['2026年10月', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['2024年二月', p('month', '2024-02-01', '2024-02-29', '2024-02', '2024年2月')],
    ['10月', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['十月份', p('month', '2026-10-01', '2026-10-31', '2026-10', '2026年10月')],
    ['11月', p('month', '2026-11-01', '2026-11-30', '2026-11', '2026年11月')],
    ['12月', p('month', '2025-12-01', '2025-12-31', '2025-12', '2025年12月')],
    ['2026Q4', p('quarter', '2026-10-01', '2026-12-31', '2026-Q4', '2026年第四季度')],
    ['2026q1', p('quarter', '2026-01-01', '2026-03-31', '2026-Q1', '2026年第一季度')],
    ['2026年第四季度', p('quarter', '2026-10-01', '2026-12-31', '2026-Q4', '2026年第四季度')],
    ['2025年第2季度', p('quarter', '2025-04-01', '2025-06-30', '2025-Q2', '2025年第二季度')],
    ['第三季度', p('quarter', '2026-07-01', '2026-09-30', '2026-Q3', '2026年第三季度')],
    ['2026年', p('year', '2026-01-01', '2026-12-31', '2026', '2026年')],
    ['2026', p('year', '2026-01-01', '2026-12-31', '2026', '2026年')],
    ['第47周', p('week', '2026-11-16', '2026-11-22', '2026-W47', '2026年第47周')],
    ['第四十六周', p('week', '2026-11-09', '2026-11-15', '2026-W46', '2026年第46周')],
    ['第48周', p('week', '2025-11-24', '2025-11-30', '2025-W48', '2025年第48周')],
    ['2026-W53', p('week', '2026-12-28', '2027-01-03', '2026-W53', '2026年第53周')],
    ['2026年第1周', p('week', '2025-12-29', '2026-01-04', '2026-W01', '2026年第1周')],
  ])('%o', (text, expected) => {
    expect(parsePeriod(text, NOW)).toEqual(expected);
  });

  it.each([
    ['本周', '2026-W01'], ['上周', '2025-W52'], ['上月', '2025-12'], ['上季度', '2025-Q4'], ['12月', '2025-12'],
    ['1月', '2026-01'], ['第一季度', '2026-Q1'], ['第二季度', '2025-Q2'], ['去年', '2025'], ['第1周', '2026-W01'], ['第2周', '2025-W02'],
  ])('across New Year: %o → %s', (text, key) => {
    expect(parsePeriod(text, NEW_YEAR)?.key).toBe(key);
  });

  it('uses the tz calendar', () => {
    expect(parsePeriod('本周', LATE_UTC)?.key).toBe('2026-W48');
    expect(parsePeriod('本周', LATE_UTC, 'UTC')?.key).toBe('2026-W47');
  });

  it.each(['', 'abc', '13月', '0月', '2026-13', '2026Q5', '第五季度', '第0周', '第54周', '2027-W53', '上上周', '26', 'constructor'])(
    'rejects %o', (text) => {
      expect(parsePeriod(text, NOW)).toBeNull();
    },
  );
});

describe('localMinutes', () => {
  it.each([
    ['2026-11-20T22:30:00+08:00', 'Asia/Shanghai', 22 * 60 + 30],
    ['2026-11-22T23:30:00Z', 'Asia/Shanghai', 7 * 60 + 30],
    ['2026-11-20T00:00:00+08:00', 'Asia/Shanghai', 0],
    ['2026-03-08T10:30:00Z', 'America/Los_Angeles', 3 * 60 + 30], // just after the spring-forward
  ])('%s in %s is minute %i of the local day', (iso, tz, minutes) => {
    expect(localMinutes(new Date(iso), tz)).toBe(minutes);
  });
});
