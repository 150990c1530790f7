/**
 * Working days of the mainland calendar and the deadline lights built on them (docs/rules.md#three-rates-and-deadline-lights): the
 * one place the rule is written. Working days come from the maintained `chinese-days` data, so
 * 调休 make-up Saturdays and Sundays count and holidays do not (jobs/calendar.ts reads the same
 * data for when reminders may go out).
 *
 * The rule: an issue still waiting for work is
 * - red 🔴 once its deadline is before today (overdue);
 * - yellow 🟡 when two working days or fewer are left — counting the working days after today up
 *   to and including the deadline, so a deadline today (0 left), or on one of the next two
 *   working days, is yellow, however many holidays lie between;
 * - green 🟢 otherwise.
 */
import chineseDays from 'chinese-days';
import { addDays, type LocalDate } from './time.js';

export type Light = 'green' | 'yellow' | 'red';

/** Working days left at or below this: yellow. */
export const YELLOW_WORKDAYS = 2;

export const LIGHT_MARK: Record<Light, string> = { green: '🟢', yellow: '🟡', red: '🔴' };
export const LIGHT_NAMES: Record<Light, string> = { green: '绿灯', yellow: '黄灯', red: '红灯' };
/** Cell fills of the ledger export (ARGB). */
export const LIGHT_FILLS: Record<Light, string> = { green: 'FFC6EFCE', yellow: 'FFFFEB9C', red: 'FFFFC7CE' };

export function isWorkday(d: LocalDate): boolean {
  return chineseDays.isWorkday(d);
}

/** The first working day after `d` (the day after a Friday before a 调休 Saturday is that Saturday). */
export function nextWorkday(d: LocalDate): LocalDate {
  let x = addDays(d, 1);
  while (!isWorkday(x)) x = addDays(x, 1);
  return x;
}

/**
 * Working days in (today, deadline], counted up to `cap` (further ones do not change a light, and
 * a deadline three years out would otherwise cost a thousand look-ups). 0 when the deadline is
 * today or before.
 */
export function workdaysLeft(today: LocalDate, deadline: LocalDate, cap = Infinity): number {
  let n = 0;
  for (let x = addDays(today, 1); x <= deadline && n < cap; x = addDays(x, 1)) if (isWorkday(x)) n++;
  return n;
}

export function deadlineLight(deadline: LocalDate, today: LocalDate): Light {
  if (deadline < today) return 'red';
  return workdaysLeft(today, deadline, YELLOW_WORKDAYS + 1) <= YELLOW_WORKDAYS ? 'yellow' : 'green';
}
