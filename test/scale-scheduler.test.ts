/**
 * One scheduler, many workers (issue 13): three "processes" — each a Scheduler with a Db handle
 * and Redis connections of its own — on ONE PostgreSQL schema and ONE Redis queue, as three
 * `minqing start` processes are. Their job schedulers stay one set; a cron tick runs once on
 * whichever worker takes it; a month-end pass started by all three records and delivers each
 * reminder exactly once; and a process that dies holding a delivery claim hands the reminders
 * on when its lease runs out. PostgreSQL only: on SQLite one process owns the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropTestDb, testDbTarget, testDialect } from './chat.js';
import { countOf, NOT_NULL } from './db-probe.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { openDb, type Db } from '../storage/db.js';
import { reminders } from '../storage/schema.js';
import { claimReminders, undeliveredKeys } from '../storage/reminders.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';
import { seedRoster } from '../scripts/bench-seed.js';
import { runPass } from '../jobs/pass.js';
import { Scheduler } from '../jobs/scheduler.js';

const log = createLogger('silent');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TZ = 'Asia/Shanghai';
/** The month's last nudge day (the 27th, a Friday): every cadre without a visit is behind. */
const MONTH_END = new Date('2026-11-27T09:00:00+08:00');

interface Proc { name: string; db: Db; scheduler: Scheduler; closed: boolean }

let dir: string;
let procs: Proc[];
let queueName: string;
/** Every send any process made: [process, idempotency key]. */
let sent: Array<[string, string]>;

async function until(cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Three processes on one schema and one queue (`openDb` three times on the same target). */
async function start(o: { leaseMs?: number } = {}): Promise<void> {
  const target = testDbTarget(dir);
  for (const name of ['p1', 'p2', 'p3']) {
    // One after the other: each open migrates (a no-op after the first, under an advisory lock).
    const db = await openDb(target);
    const outbound = new Outbound({ log, limits: {} });
    outbound.register({ platform: 'console', send: async (_r, key) => { await new Promise((r) => setTimeout(r, 1)); sent.push([name, key]); } });
    const scheduler = new Scheduler({ db, redisUrl: REDIS, outbound, log, tz: TZ, queueName, worker: name, concurrency: 4, leaseMs: o.leaseMs });
    procs.push({ name, db, scheduler, closed: false });
  }
}

async function seed(cadres: number): Promise<void> {
  const db = procs[0].db;
  await seedRoster(db, 12, cadres, MONTH_END.getTime() - 86_400_000);
  await installPresets(db, MONTH_END.getTime(), ALL_PRESET_SETS);
}

const db = () => procs[0].db;
const withReply = () => countOf(db(), reminders, { reply: NOT_NULL });
/** The reminders that carry a message. (Raw SQL: rows.ts's column list leaves `to` unquoted, which PostgreSQL refuses.) */
const rows = () => db().all<{ key: string; claimedBy: string | null; deliveredAt: number | null }>(
  'SELECT key, claimed_by AS "claimedBy", delivered_at AS "deliveredAt" FROM reminders WHERE reply IS NOT NULL');
const undelivered = () => countOf(db(), reminders, { reply: NOT_NULL, deliveredAt: null });

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'minqing-scale-')); procs = []; sent = []; queueName = `test-scale-${randomUUID()}`; });
afterEach(async () => {
  await procs[0]?.scheduler.queue.obliterate({ force: true }).catch(() => {});
  for (const p of procs) await p.scheduler.close().catch(() => {});
  for (const p of procs.slice(1)) if (!p.closed) await p.db.close();
  if (procs[0]) await dropTestDb(procs[0].db);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(testDialect() === 'sqlite')('three processes, one PostgreSQL, one Redis', () => {
  it('upsert one set of job schedulers, and each cron tick runs once, on whichever worker takes it', async () => {
    await start();
    await seed(30);
    // All three start at once, and again (a restart of each).
    await Promise.all(procs.map((p) => p.scheduler.upsertSchedulers()));
    for (const p of procs) await p.scheduler.upsertSchedulers();
    const q = procs[0].scheduler.queue;
    const list = await q.getJobSchedulers();
    expect(list.map((j) => j.key).sort()).toEqual(['remind-deadlines', 'remind-digest', 'remind-quarterly', 'remind-quota']);
    // What Redis holds: one scheduler entry per id, and one next tick each (not three).
    const redis = new Redis(REDIS);
    try {
      expect(await redis.zcard(`bull:${queueName}:repeat`)).toBe(4);
    } finally {
      redis.disconnect();
    }
    const next = await q.getDelayed();
    expect(next).toHaveLength(4);
    expect(new Set(next.map((j) => j.id)).size).toBe(4);

    // Make the next ticks due now: each runs on exactly one of the three workers.
    const ran: Array<[string, string]> = [];
    for (const p of procs) p.scheduler.startWorker().on('completed', (job) => { if (job.name === 'pass') ran.push([p.name, job.id!]); });
    const ticks = next.map((j) => j.id!).sort();
    for (const j of next) await j.promote();
    await until(() => ran.length >= 4);
    await new Promise((r) => setTimeout(r, 500));
    expect(ran.map(([, id]) => id).sort()).toEqual(ticks);
    // …and BullMQ has queued the tick after each: still one per scheduler.
    expect(await q.getDelayed()).toHaveLength(4);
  }, 60_000);

  it('a month-end pass started by all three records every reminder once and delivers it once', async () => {
    await start();
    await seed(600);
    const settings = await loadReminderSettings(db());
    const planned = (await runPass(db(), { kind: 'quota', at: MONTH_END, tz: TZ, settings, dryRun: true })).fresh.length;
    expect(planned).toBeGreaterThan(600); // a nudge per cadre, a digest per lead
    for (const p of procs) p.scheduler.startWorker();
    // Each process runs the catch-up (every kind of pass) at once, twice over.
    await Promise.all(procs.flatMap((p) => [p.scheduler.catchUp(MONTH_END), p.scheduler.catchUp(MONTH_END)]));
    await until(async () => (await withReply()) >= planned && (await undelivered()) === 0);
    await new Promise((r) => setTimeout(r, 500));
    const total = await withReply();
    expect(await countOf(db(), reminders, { kind: 'quota' })).toBe(600);
    expect(sent).toHaveLength(total);
    expect(new Set(sent.map(([, k]) => k)).size).toBe(total);
    // Each row was claimed, sent and marked by one of the three (which ones took how many is up
    // to BullMQ: a worker with free slots may take every batch).
    for (const r of await rows()) {
      expect(r.deliveredAt).not.toBeNull();
      expect(['p1', 'p2', 'p3']).toContain(r.claimedBy);
    }
  }, 90_000);

  it('a process that dies holding a claim hands its reminders on when the lease runs out', async () => {
    const LEASE = 2_500;
    await start({ leaseMs: LEASE });
    await seed(40);
    await runPass(db(), { kind: 'quota', at: MONTH_END, tz: TZ, settings: await loadReminderSettings(db()) });
    const keys = await undeliveredKeys(db());
    expect(keys.length).toBeGreaterThan(40);
    // p3 claims every reminder (as a delivery job does first), then dies before sending any.
    const p3 = procs[2];
    const claimedAt = Date.now();
    expect(await claimReminders(p3.db, keys, 'p3', claimedAt, LEASE)).toHaveLength(keys.length);
    await p3.scheduler.close();
    await p3.db.close();
    p3.closed = true;

    // p1 and p2 are up; the next pass (the next tick) queues what is undelivered: held, so not sent yet…
    for (const p of procs.slice(0, 2)) p.scheduler.startWorker();
    await procs[0].scheduler.catchUp(MONTH_END);
    await procs[1].scheduler.catchUp(MONTH_END);
    await new Promise((r) => setTimeout(r, 800));
    if (Date.now() < claimedAt + LEASE - 200) expect(sent).toEqual([]);
    // …and looked at again when p3's lease runs out: delivered then, each once, by the survivors.
    await until(async () => (await undelivered()) === 0, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(sent).toHaveLength(keys.length);
    expect(new Set(sent.map(([, k]) => k)).size).toBe(keys.length);
    expect(new Set(sent.map(([p]) => p)).has('p3')).toBe(false);
    for (const r of await rows()) {
      expect(['p1', 'p2']).toContain(r.claimedBy);
      expect(r.deliveredAt! - claimedAt).toBeGreaterThanOrEqual(LEASE);
    }
  }, 60_000);
});
