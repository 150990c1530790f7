/**
 * A reminder pass and a delivery — the two halves of exactly-once:
 * 1. `runPass` records every due reminder under its deterministic key in ONE transaction; a key
 *    already there is skipped, so restarts, retries and racing workers record each reminder once.
 * 2. `deliver` claims a recorded reminder (a lease in the database; on PostgreSQL taken with
 *    `FOR UPDATE SKIP LOCKED`, so racing processes split a batch), sends it through the outbound
 *    path with the key as the platform's idempotency key, and marks it delivered. A second worker
 *    finds it claimed or delivered and sends nothing.
 * The one window left is a crash between the platform accepting a message and our "delivered"
 * commit; the retry then re-sends with the same key, which Feishu (`uuid`) and WeCom
 * (`enable_duplicate_check`) drop as a duplicate.
 */
import type { Logger } from 'pino';
import { addressTo } from '../bot/address.js';
import { accountsOfMany } from '../storage/identity.js';
import type { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import { localDate } from '../bot/time.js';
import type { Db } from '../storage/db.js';
import { claimReminders, heldReminders, markDelivered, recordReminders, releaseReminder, reminderExists, type NewReminder } from '../storage/reminders.js';
import type { DeliveryMetrics } from '../bot/metrics.js';
import { inQuietHours, isWorkday } from './calendar.js';
import { planFor } from './plan.js';
import { quietWindow, type JobKind, type ReminderSettings } from '../storage/reminder-settings.js';

export interface PassResult {
  kind: JobKind;
  date: string;
  /** Why nothing was planned, when nothing was. */
  skipped?: 'quiet-hours' | 'not-a-workday';
  planned: number;
  /** Reminders recorded by this pass (a dry run: the ones that would be). */
  fresh: NewReminder[];
}

export async function runPass(db: Db, o: { kind: JobKind; at: Date; tz: string; settings: ReminderSettings; dryRun?: boolean }): Promise<PassResult> {
  const date = localDate(o.at, o.tz);
  const base = { kind: o.kind, date, planned: 0, fresh: [] };
  if (inQuietHours(o.at, o.tz, quietWindow(o.settings))) return { ...base, skipped: 'quiet-hours' };
  if (!isWorkday(date)) return { ...base, skipped: 'not-a-workday' };
  if (o.dryRun) {
    const planned = await planFor(db, o.kind, date, o.settings);
    const fresh: NewReminder[] = [];
    for (const r of planned) if (!(await reminderExists(db, r.key))) fresh.push(r);
    return { ...base, planned: planned.length, fresh };
  }
  // Planning reads inside the transaction too (through `tx`): what is recorded is what was read.
  // On PostgreSQL a retried transaction plans again from scratch.
  return db.withWrite(async (tx) => {
    const planned = await planFor(tx, o.kind, date, o.settings);
    const keys = new Set(await recordReminders(tx, planned, o.at.getTime()));
    return { ...base, planned: planned.length, fresh: planned.filter((r) => keys.has(r.key)) };
  });
}

/** Long enough to outlast a rate-limit wait (DingTalk: 20 a minute per robot). */
export const LEASE_MS = 15 * 60_000;

export type DeliveryOutcome = 'sent' | 'already' | 'unreachable';

/** Sends one recorded reminder at most once; throws (after releasing the claim) when sending fails. */
export async function deliver(db: Db, key: string, o: DeliverOptions): Promise<DeliveryOutcome> {
  const r = await deliverMany(db, [key], o);
  if (r.failed.length) throw r.failed[0].error;
  return r.sent ? 'sent' : r.unreachable ? 'unreachable' : 'already';
}

export interface DeliverOptions {
  outbound: Outbound;
  worker: string;
  log: Logger;
  leaseMs?: number;
  now?: () => number;
  /** Attaches what a reminder asks for (a chart) just before it is sent. */
  enrich?: (reply: Reply) => Promise<Reply>;
  /** Counts failed sends and times delivered ones (`/metrics`). */
  metrics?: DeliveryMetrics;
}

export interface DeliverResult {
  sent: number;
  unreachable: number;
  /** Not taken: delivered already, or under someone's live claim (`held`). */
  already: number;
  failed: Array<{ key: string; error: Error }>;
  /** Of the keys not taken, those still undelivered under a live claim, and when the last claim runs out. */
  held: { keys: string[]; until: number };
}

/**
 * Claims a batch in one transaction, sends each reminder, and marks the sent ones delivered in
 * one transaction at the end (a commit per message would cost more than the sends). A crash
 * in between leaves that batch's sent part to be re-sent after the lease, with the same
 * idempotency key — the window is one batch's sending time (milliseconds at console speed).
 */
export async function deliverMany(db: Db, keys: string[], o: DeliverOptions): Promise<DeliverResult> {
  const now = o.now ?? Date.now;
  const leaseMs = o.leaseMs ?? LEASE_MS;
  const at = now();
  const claimed = await claimReminders(db, keys, o.worker, at, leaseMs);
  const taken = new Set(claimed.map((c) => c.key));
  const held = claimed.length < keys.length ? await heldReminders(db, keys.filter((k) => !taken.has(k)), at, leaseMs) : { keys: [], until: 0 };
  const out: DeliverResult = { sent: 0, unreachable: 0, already: keys.length - claimed.length, failed: [], held };
  const done: Array<{ key: string; note: string | null }> = [];
  try {
    // The batch's accounts in one query, not a round trip per reminder.
    const parsed = claimed.map((c) => JSON.parse(c.reply) as Reply);
    const accounts = await accountsOfMany(db, [...new Set(parsed.flatMap((r) => (r.cadreId === undefined ? [] : [r.cadreId])))]);
    for (const [i, { key, createdAt }] of claimed.entries()) {
      const r = parsed[i];
      const reply = addressTo(r, r.cadreId === undefined ? [] : accounts.get(r.cadreId) ?? []);
      if (!reply) {
        o.log.warn({ key }, 'reminder not delivered: the cadre has no chat account');
        done.push({ key, note: 'no chat account' });
        out.unreachable++;
        continue;
      }
      const platform = reply.platform ?? 'unknown';
      try {
        await o.outbound.send(o.enrich && reply.chart ? await o.enrich(reply) : reply, key);
      } catch (e) {
        await releaseReminder(db, key, String((e as Error).message ?? e));
        o.metrics?.deliveryFailed(platform, 'reminder', 'retry');
        out.failed.push({ key, error: e as Error });
        continue;
      }
      o.metrics?.delivered(platform, 'reminder', createdAt, now());
      done.push({ key, note: null });
      out.sent++;
    }
  } finally {
    await markDelivered(db, done, now());
  }
  return out;
}
