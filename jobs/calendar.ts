/**
 * When people may be nudged: working days of the mainland calendar, 调休 make-up days included
 * (from the maintained `chinese-days` data, not a hand-written list), outside quiet hours.
 */
import { localMinutes } from '../bot/time.js';

// The mainland working-day calendar is read in one place (bot/lights.ts), for nudges and lights alike.
export { isWorkday } from '../bot/lights.js';

/** Quiet hours wrap midnight when start > end (21:00–08:00). */
export function inQuietHours(now: Date, tz: string, quiet: { start: number; end: number }): boolean {
  const m = localMinutes(now, tz);
  return quiet.start > quiet.end ? m >= quiet.start || m < quiet.end : m >= quiet.start && m < quiet.end;
}
