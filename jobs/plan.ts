/**
 * What reminders are due at an instant. Pure reading: the pass (jobs/pass.ts) records what this
 * returns in one transaction, and the deterministic keys make a second run record nothing new.
 *
 * Catch-up without repeats: a nudge belongs to a slot (e.g. the 20th of the month); a pass at
 * any time after the slot and within the same period still sends it unless a message of that
 * kind already went to the person on or after the slot. Once the period (or the issue) is over,
 * the slot is never considered again — its moment has passed.
 */
import { addDays, daysBetween, periodOf, shiftPeriod, weekdayOf, type LocalDate, type Period, type PeriodKind } from '../bot/time.js';
import { forEachQuota, type QuotaStatus } from '../bot/quota.js';
import { missingText } from '../bot/quota-text.js';
import type { Db } from '../storage/db.js';
import { allChatGroups, lastReminderDates, leadersByUnit, type NewReminder } from '../storage/reminders.js';
import { pendingIssuesDueBy } from '../storage/issues.js';
import { allUnits, unitById, rootUnits } from '../storage/units.js';
import { cadreById } from '../storage/identity.js';
import { unitStats } from '../storage/stats.js';
import type { ReminderSettings, JobKind } from '../storage/reminder-settings.js';
import { R } from './texts.js';
import { planCallbacks } from './callbacks.js';
import { fill, msg } from './reminder.js';
import { deadlineLight, LIGHT_MARK } from '../bot/lights.js';
import { ratesText } from '../bot/rates-text.js';
import { threeRates } from '../storage/rates.js';
import { nameInGroup } from '../bot/names.js';

const LEAD_DIGEST_LINES = 20;

/** The latest nudge slot of each period kind that is on or before `d` within d's period. */
export function dueSlots(d: LocalDate, s: ReminderSettings): Array<{ kind: PeriodKind; slot: LocalDate; period: Period }> {
  const out: Array<{ kind: PeriodKind; slot: LocalDate; period: Period }> = [];
  const candidates: Record<PeriodKind, (p: Period) => LocalDate[]> = {
    week: (p) => s.weekSlots.map((w) => addDays(p.start, w - 1)),
    month: (p) => s.monthSlots.map((m) => `${p.start.slice(0, 8)}${String(m).padStart(2, '0')}`).filter((x) => x <= p.end),
    quarter: (p) => s.quarterSlots.map((n) => addDays(p.end, -n)),
    year: (p) => s.yearSlots.map((n) => addDays(p.end, -n)),
  };
  for (const kind of ['week', 'month', 'quarter', 'year'] as const) {
    const period = periodOf(kind, d);
    const slots = candidates[kind](period).filter((x) => x >= period.start && x <= d).sort();
    if (slots.length) out.push({ kind, slot: slots[slots.length - 1], period });
  }
  return out;
}

/** Quota nudges: one message per cadre per day bundling everything missing; one digest per lead. */
export async function planQuotaNudges(db: Db, d: LocalDate, s: ReminderSettings): Promise<NewReminder[]> {
  const slots = dueSlots(d, s);
  if (!slots.length) return [];
  const earliest = slots.reduce((m, x) => (x.slot < m ? x.slot : m), slots[0].slot);
  const lastNudge = await lastReminderDates(db, 'quota', earliest);
  const lastDigest = await lastReminderDates(db, 'quota-lead', earliest);
  const slotOf = new Map(slots.map((x) => [x.kind, x.slot]));
  const behind = new Map<number, QuotaStatus[]>();
  await forEachQuota(db, { at: d, periods: slots.map((x) => x.kind), onlyUnmet: true }, (st) => {
    if (st.met || (st.cadre.mutedUntil && st.cadre.mutedUntil >= d)) return;
    const last = lastNudge.get(st.cadre.id);
    if (last && last >= slotOf.get(st.rule.period)!) return;
    const xs = behind.get(st.cadre.id);
    if (xs) xs.push(st); else behind.set(st.cadre.id, [st]);
  });
  const out: NewReminder[] = [];
  const byUnit = new Map<number, string[]>();
  for (const [cadreId, sts] of behind) {
    const text = missingText(sts);
    const c = sts[0].cadre;
    out.push(msg(`quota:${cadreId}:${d}`, 'quota', d, { to: 'user', cadreId, text: R.quotaNudge(c.name, text), actions: fill('/走访', 'visit') }));
    const lines = byUnit.get(c.unitId) ?? [];
    lines.push(`${c.name}：${text}`);
    byUnit.set(c.unitId, lines);
  }
  // A lead's digest covers their unit and every unit below it; it shows the first lines only.
  // The units read once, not a round trip per unit (a county has a thousand).
  const units = new Map((await allUnits(db)).map((u) => [u.id, u]));
  const lines = new Map<number, { n: number; first: string[] }>();
  for (const [unitId, xs] of byUnit) {
    for (const id of (units.get(unitId)?.path ?? '').split('/').filter(Boolean).map(Number)) {
      let acc = lines.get(id);
      if (!acc) lines.set(id, (acc = { n: 0, first: [] }));
      acc.n += xs.length;
      for (let i = 0; i < xs.length && acc.first.length < LEAD_DIGEST_LINES; i++) acc.first.push(xs[i]);
    }
  }
  for (const [unitId, leads] of await leadersByUnit(db)) {
    const acc = lines.get(unitId);
    if (!acc) continue;
    const unit = units.get(unitId)!;
    for (const lead of leads) {
      const last = lastDigest.get(lead.id);
      if (last && last >= earliest) continue;
      out.push(msg(`quota-lead:${lead.id}:${d}`, 'quota-lead', d,
        { to: 'user', cadreId: lead.id, text: R.leadDigest(unit.name, acc.n, acc.first, acc.n - acc.first.length) }));
    }
  }
  return out;
}

/** Deadlines: 3 and 1 days before; daily once overdue (lead told too); the committee after 7 days. */
export async function planDeadlines(db: Db, d: LocalDate, s?: ReminderSettings): Promise<NewReminder[]> {
  const out: NewReminder[] = [];
  const committee = (await allChatGroups(db)).filter((g) => g.committee);
  const leaders = await leadersByUnit(db);
  for (const i of await pendingIssuesDueBy(db, addDays(d, 3))) {
    const left = daysBetween(d, i.deadline);
    const short = i.description.length > 30 ? i.description.slice(0, 30) + '…' : i.description;
    const base = `${i.id}:${i.deadline}`;
    if (left >= 0) {
      const slot = left <= 1 ? 'd1' : 'd3';
      out.push(msg(`deadline:${base}:${slot}`, 'deadline', d, { to: 'user', cadreId: i.responsibleCadreId, text: `${LIGHT_MARK[deadlineLight(i.deadline, d)]} ${R.deadlineSoon(i.id, short, i.deadline, left)}`, actions: fill(`/进展 #${i.id}`) }));
      continue;
    }
    const over = -left;
    const who = (await cadreById(db, i.responsibleCadreId))?.name ?? '';
    out.push(msg(`overdue:${base}:${d}`, 'overdue', d, { to: 'user', cadreId: i.responsibleCadreId, text: `${LIGHT_MARK.red} ${R.overdue(i.id, short, i.deadline, over)}`, actions: fill(`/办结 #${i.id}`) }));
    const leads = i.leadCadreId ? [{ id: i.leadCadreId }] : (leaders.get(i.unitId) ?? []);
    for (const l of leads) {
      if (l.id === i.responsibleCadreId) continue;
      out.push(msg(`overdue-lead:${base}:${l.id}:${d}`, 'overdue-lead', d, { to: 'user', cadreId: l.id, text: R.overdueLead(i.id, short, who, over), actions: fill(`/督办 #${i.id}`) }));
    }
    if (over >= 7) {
      const unit = (await unitById(db, i.unitId))?.name ?? '';
      for (const g of committee) {
        out.push(msg(`overdue-committee:${base}:${g.platform}:${g.chatId}`, 'overdue-committee', d,
          { to: 'chat', platform: g.platform, target: g.chatId, text: R.overdueCommittee(i.id, short, unit, nameInGroup(who, s?.namesInGroups ?? true, '已私信通知'), over) }));
      }
    }
  }
  return out;
}

/** The volunteer day (last weekend of the quarter) and the quarter-end report (docs/rules.md#volunteer-day). */
export async function planQuarterly(db: Db, d: LocalDate): Promise<NewReminder[]> {
  const q = periodOf('quarter', d);
  let saturday = q.end;
  while (weekdayOf(saturday) !== 6) saturday = addDays(saturday, -1);
  const out: NewReminder[] = [];
  const groups = await allChatGroups(db);
  if (d >= addDays(saturday, -3) && d <= saturday) {
    for (const g of groups) out.push(msg(`volunteer-day:${q.key}:${g.platform}:${g.chatId}`, 'volunteer-day', d,
      { to: 'chat', platform: g.platform, target: g.chatId, text: R.volunteerDay(saturday), actions: fill('/志愿', 'volunteer') }));
  }
  if (d >= addDays(q.end, -5) && d <= q.end) {
    for (const g of groups) out.push(msg(`quarter-report:${q.key}:${g.platform}:${g.chatId}`, 'quarter-report', d,
      { to: 'chat', platform: g.platform, target: g.chatId, text: R.quarterReport(q.label, q.end) }));
  }
  return out;
}

/** The weekly digest about last week, to every committee group, from its digest weekday on. */
export async function planDigest(db: Db, d: LocalDate, s: ReminderSettings): Promise<NewReminder[]> {
  if (weekdayOf(d) < s.digestWeekday) return [];
  const last = shiftPeriod(periodOf('week', d), -1);
  const out: NewReminder[] = [];
  for (const g of (await allChatGroups(db)).filter((x) => x.committee)) {
    const unit = (await unitById(db, g.unitId)) ?? (await rootUnits(db))[0];
    if (!unit) continue;
    const st = await unitStats(db, unit, last.start, last.end, d, new Map(), 0);
    const share = st.cadres ? Math.round((st.covered / st.cadres) * 100) : 0;
    const lines = [
      `${unit.name}：走访 ${st.visits.count} 次，${Math.round(st.visits.hours * 10) / 10} 小时；志愿服务 ${Math.round(st.volunteerHours * 10) / 10} 小时`,
      `问题：新登记 ${st.issues.raised} 件，办结 ${st.issues.resolved} 件，超期 ${st.issues.overdue} 件`,
      `覆盖：${st.covered}/${st.cadres} 名干部有走访（${share}%）`,
      R.rates(ratesText(await threeRates(db, unit.path, last.start, last.end, d))),
    ];
    out.push(msg(`digest:${last.key}:${g.platform}:${g.chatId}`, 'digest', d,
      { to: 'chat', platform: g.platform, target: g.chatId, text: R.digest(last.label, lines), chart: { kind: 'visits', unitId: unit.id } }));
  }
  return out;
}

export async function planFor(db: Db, kind: JobKind, d: LocalDate, s: ReminderSettings): Promise<NewReminder[]> {
  switch (kind) {
    case 'quota': return planQuotaNudges(db, d, s);
    case 'deadlines': return [...await planDeadlines(db, d, s), ...await planCallbacks(db, d)];
    case 'quarterly': return planQuarterly(db, d);
    case 'digest': return planDigest(db, d, s);
  }
}
