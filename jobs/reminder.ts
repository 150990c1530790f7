/**
 * How a planned reminder is put together, shared by the planners (jobs/plan.ts and
 * jobs/callbacks.ts, which the deadlines pass calls): its "去填报" button and its record.
 */
import type { Reply } from '../bot/reply.js';
import type { LocalDate } from '../bot/time.js';
import type { NewReminder } from '../storage/reminders.js';
import { R } from './texts.js';

/** The button that fills the command in (a card form where the platform has one). */
export const fill = (command: string, form?: string) => [{ label: R.fill, command, form }];

/** A reminder to record: its key and kind, the reply and where it goes (read off the reply). */
export function msg(key: string, kind: string, dueDate: LocalDate, reply: Reply): NewReminder {
  return { key, kind, to: reply.to, cadreId: reply.cadreId ?? null, platform: reply.platform ?? null, target: reply.target ?? null, reply: JSON.stringify(reply), dueDate };
}
