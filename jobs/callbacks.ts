/**
 * 回访 reminders (docs/rules.md#reminders): on the first working day after an issue's /办结 (mainland calendar,
 * 调休 included: bot/lights.ts), if nobody has rated the result since, its responsible cadre is
 * asked by direct message to call the citizen back and record the outcome with
 * `/评价 #12 满意 回访`. Planned by the deadlines pass (jobs/plan.ts planFor), so it goes through
 * the same exactly-once path: the key names the issue and that /办结's audit row, so a pass after
 * a restart or a second worker records nothing new, and a new /办结 after a reopening asks again.
 *
 * Caught up after downtime: any later pass still finds it due — unless its moment has passed:
 * the issue was rated (by the cadre or the citizen) or reopened meanwhile, or the /办结 is more
 * than {@link CALLBACK_WINDOW_DAYS} days old (a call-back a month late is no call-back).
 */
import { nextWorkday } from '../bot/lights.js';
import { addDays, type LocalDate } from '../bot/time.js';
import type { Db } from '../storage/db.js';
import { unratedResolvedIssues } from '../storage/callbacks.js';
import type { NewReminder } from '../storage/reminders.js';
import { R } from './texts.js';
import { fill, msg } from './reminder.js';

export const CALLBACK_WINDOW_DAYS = 30;

export async function planCallbacks(db: Db, d: LocalDate): Promise<NewReminder[]> {
  const out: NewReminder[] = [];
  for (const i of await unratedResolvedIssues(db, addDays(d, -CALLBACK_WINDOW_DAYS), addDays(d, -1))) {
    if (nextWorkday(i.resolvedDate) > d) continue;
    const short = i.description.length > 30 ? i.description.slice(0, 30) + '…' : i.description;
    out.push(msg(`callback:${i.id}:${i.resolveEventId}`, 'callback', d, {
      to: 'user', cadreId: i.responsibleCadreId, text: R.callback(i.id, `${i.place} ${short}`, i.resolvedDate), actions: fill(`/评价 #${i.id} 满意 回访`),
    }));
  }
  return out;
}
