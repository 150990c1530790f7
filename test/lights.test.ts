/**
 * Deadline lights and working days (bot/lights.ts) on the real mainland calendar of
 * `chinese-days`: 2026 National Day (10月1日–7日 off, Saturday 10月10日 and Sunday 9月20日 worked)
 * and Spring Festival (2月16日–23日 off, Saturdays 2月14日 and 2月28日 worked).
 */
import { describe, expect, it } from 'vitest';
import { deadlineLight, isWorkday, nextWorkday, workdaysLeft } from '../bot/lights.js';

describe('the calendar data these cases stand on', () => {
  it.each([
    ['2026-10-10', true], ['2026-09-20', true], ['2026-02-14', true], ['2026-02-28', true], // 调休 weekends worked
    ['2026-10-05', false], ['2026-02-23', false], ['2026-10-11', false], ['2026-11-21', false],
  ])('%s is a working day: %s', (d, w) => expect(isWorkday(d)).toBe(w));
});

describe('nextWorkday', () => {
  it.each([
    ['2026-11-20', '2026-11-23'], // Friday → Monday
    ['2026-11-21', '2026-11-23'], // Saturday → Monday
    ['2026-10-09', '2026-10-10'], // Friday → the 调休 Saturday
    ['2026-09-30', '2026-10-08'], // before National Day → after it
    ['2026-02-13', '2026-02-14'], // Friday → the 调休 Saturday before Spring Festival
    ['2026-02-14', '2026-02-24'], // across the Spring Festival holiday
    ['2026-09-18', '2026-09-20'], // Friday → the 调休 Sunday
  ])('after %s comes %s', (d, next) => expect(nextWorkday(d)).toBe(next));
});

describe('deadlineLight', () => {
  it.each([
    // today, deadline, working days left, light
    ['2026-11-20', '2026-11-19', 0, 'red'], // overdue by a day
    ['2026-11-20', '2026-11-20', 0, 'yellow'], // due today
    ['2026-11-20', '2026-11-24', 2, 'yellow'], // Fri → Tue: Mon, Tue
    ['2026-11-20', '2026-11-25', 3, 'green'], // Fri → Wed: three working days
    ['2026-11-20', '2026-11-22', 0, 'yellow'], // a deadline on a Sunday, no working day before it
    ['2026-09-30', '2026-10-09', 2, 'yellow'], // nine calendar days, but the holiday leaves 10月8日 and 9日
    ['2026-10-09', '2026-10-12', 2, 'yellow'], // the 调休 Saturday counts: 10日, 12日
    ['2026-10-09', '2026-10-13', 3, 'green'], // 10日, 12日, 13日 — yellow on the plain week calendar
    ['2026-09-18', '2026-09-22', 3, 'green'], // the 调休 Sunday 9月20日 counts
    ['2026-02-13', '2026-02-24', 2, 'yellow'], // 2月14日 (调休), then the holiday, then 24日
    ['2026-02-13', '2026-02-25', 3, 'green'],
    ['2026-02-24', '2026-02-23', 0, 'red'],
  ] as const)('today %s, deadline %s: %i working days left, %s', (today, deadline, left, light) => {
    expect(workdaysLeft(today, deadline)).toBe(left);
    expect(deadlineLight(deadline, today)).toBe(light);
  });
});
