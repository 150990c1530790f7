/**
 * Reminder times: environment defaults, overridden per deployment by admins with /提醒 (kept in
 * the settings table). Validated with zod on the way in and on the way out.
 */
import { z } from 'zod';
import type { Db } from './db.js';
import { getSetting, setSetting } from './reminders.js';

/** 'HH:MM' → minutes since midnight; null when malformed. */
export function parseClock(s: string): number | null {
  const m = /^([01]?\d|2[0-3])[:：]([0-5]\d)$/.exec(s.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const CRON_FIELD = /^(\*|\d{1,2}(-\d{1,2})?(,\d{1,2}(-\d{1,2})?)*)(\/\d{1,2})?$/;
/** Five-field cron (minute hour day month weekday), numbers, ranges, lists and steps. */
export const cronSchema = z.string().trim().refine((s) => {
  const f = s.split(/\s+/);
  return f.length === 5 && f.every((x) => CRON_FIELD.test(x));
}, { message: '应为 5 段 cron 表达式（分 时 日 月 周），如 0 9 * * 1-5' });

const clock = z.string().refine((s) => parseClock(s) !== null, { message: '应为 时:分，如 21:00' });

export const reminderSettingsSchema = z.object({
  /** Quiet hours, local time; wraps midnight when start > end. */
  quietStart: clock.default('21:00'),
  quietEnd: clock.default('08:00'),
  /** Quota nudge slots: weekdays (1 = Monday) for weekly rules, days of month for monthly rules. */
  weekSlots: z.array(z.number().int().min(1).max(7)).default([4]),
  monthSlots: z.array(z.number().int().min(1).max(31)).default([20, 27]),
  /** Days before the end of the quarter / year. */
  quarterSlots: z.array(z.number().int().min(0).max(80)).default([20, 7]),
  yearSlots: z.array(z.number().int().min(0).max(300)).default([30, 10]),
  /** MINQING_NAMES_IN_GROUPS: false keeps cadres' names out of reminders sent to groups (bot/names.ts). */
  namesInGroups: z.boolean().default(true),
  /** Weekday of the committee digest (about the previous week). */
  digestWeekday: z.number().int().min(1).max(7).default(1),
  crons: z.object({
    quota: cronSchema.default('0 9 * * *'),
    deadlines: cronSchema.default('30 8 * * *'),
    quarterly: cronSchema.default('0 10 * * *'),
    digest: cronSchema.default('0 9 * * *'),
  }).prefault({}),
});

export type ReminderSettings = z.output<typeof reminderSettingsSchema>;
/** What the environment sets (MINQING_QUIET_HOURS, MINQING_CRON_*): any part, any cron. */
export type ReminderDefaults = Partial<Omit<ReminderSettings, 'crons'>> & { crons?: Partial<ReminderSettings['crons']> };
export const JOB_KINDS = ['quota', 'deadlines', 'quarterly', 'digest'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const KEY = 'reminders';

/** The settings in force: the schema's defaults, under the environment's, under the admins' (/提醒). */
export async function loadReminderSettings(db: Db, envDefaults: ReminderDefaults = {}): Promise<ReminderSettings> {
  const stored = await getSetting(db, KEY);
  const over = stored ? (JSON.parse(stored) as Partial<ReminderSettings>) : {};
  const r = reminderSettingsSchema.safeParse({ ...envDefaults, ...over, crons: { ...envDefaults.crons, ...over.crons } });
  return r.success ? r.data : reminderSettingsSchema.parse({});
}

/** Stores one admin change, validated as a whole; returns the new settings. */
export async function updateReminderSettings(db: Db, patch: Partial<Omit<ReminderSettings, 'crons'>> & { crons?: Partial<ReminderSettings['crons']> }): Promise<ReminderSettings> {
  const stored = await getSetting(db, KEY);
  const prev = stored ? (JSON.parse(stored) as Partial<ReminderSettings>) : {};
  const next = { ...prev, ...patch, crons: { ...prev.crons, ...patch.crons } };
  const parsed = reminderSettingsSchema.parse(next);
  await setSetting(db, KEY, JSON.stringify(next));
  return parsed;
}

export function quietWindow(s: ReminderSettings): { start: number; end: number } {
  return { start: parseClock(s.quietStart)!, end: parseClock(s.quietEnd)! };
}
