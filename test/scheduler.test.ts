/**
 * The scheduler on a real Redis: job schedulers upserted once, two workers racing for the same
 * reminders, a Redis restart in the middle of a pass, and jobs whose data is invalid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { NOT_NULL } from './db-probe.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { Scheduler } from '../jobs/scheduler.js';
import { redisAnswers } from '../jobs/redis.js';

const log = createLogger('silent');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let chat: Chat;
let sent: string[];
let schedulers: Scheduler[];

function sink(delayMs = 0): Outbound {
  const o = new Outbound({ log, limits: {} });
  o.register({ platform: 'console', send: async (_r, key) => { await new Promise((r) => setTimeout(r, delayMs)); sent.push(key); } });
  return o;
}

function scheduler(queueName: string, worker: string, redisUrl = REDIS, delayMs = 0): Scheduler {
  const s = new Scheduler({ db: chat.db, redisUrl, outbound: sink(delayMs), log, tz: 'Asia/Shanghai', queueName, worker, concurrency: 4 });
  schedulers.push(s);
  return s;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const undelivered = () => chat.count('reminders', { deliveredAt: null, reply: NOT_NULL });
/** Reminders that carry a message (not bookkeeping rows). */
const withReply = () => chat.count('reminders', { reply: NOT_NULL });

beforeEach(async () => { chat = await Chat.demo(); sent = []; schedulers = []; });
async function closeSchedulers() {
  for (const s of schedulers) {
    await s.queue.obliterate({ force: true }).catch(() => {});
    await s.close().catch(() => {});
  }
  schedulers = [];
}
afterEach(async () => {
  await closeSchedulers();
  await chat.close();
});

describe('BullMQ scheduler', () => {
  it('upserts its four job schedulers under fixed ids: a restart adds none', async () => {
    const name = `test-${randomUUID()}`;
    const a = scheduler(name, 'a');
    await a.upsertSchedulers();
    await a.upsertSchedulers();
    const b = scheduler(name, 'b');
    await b.upsertSchedulers();
    const list = await a.queue.getJobSchedulers();
    expect(list.map((j) => j.key).sort()).toEqual(['remind-deadlines', 'remind-digest', 'remind-quarterly', 'remind-quota']);
    expect(list.find((j) => j.key === 'remind-quota')).toMatchObject({ pattern: '0 9 * * *', tz: 'Asia/Shanghai' });
  });

  it('two workers racing over the same passes deliver every reminder exactly once', async () => {
    await chat.says('u1', '/民情 石门村 道路破损 责任人:张三 时限:11月23日');
    const name = `test-${randomUUID()}`;
    const a = scheduler(name, 'a', REDIS, 5);
    const b = scheduler(name, 'b', REDIS, 5);
    a.startWorker();
    b.startWorker();
    const at = new Date('2026-11-20T09:00:00+08:00');
    // Both processes run the catch-up at once, twice (as after two restarts).
    await Promise.all([a.catchUp(at), b.catchUp(at), a.catchUp(at), b.catchUp(at)]);
    await until(async () => (await withReply()) > 0 && (await undelivered()) === 0);
    await new Promise((r) => setTimeout(r, 300));
    const total = await withReply();
    expect(total).toBeGreaterThanOrEqual(4); // 3 quota nudges, a lead digest, a deadline reminder
    expect(sent).toHaveLength(total);
    expect(new Set(sent).size).toBe(total);
  });

  it('fails a job with invalid data once, without retries', async () => {
    const name = `test-${randomUUID()}`;
    const a = scheduler(name, 'a');
    const w = a.startWorker();
    const failed = new Promise<{ attemptsMade: number; reason: string }>((res) => w.on('failed', (job, err) => res({ attemptsMade: job!.attemptsMade, reason: err.message })));
    await a.queue.add('deliver', { keys: 'not-a-list' }, { attempts: 5 });
    const f = await failed;
    expect(f.reason).toContain('invalid deliver job data');
    expect(f.attemptsMade).toBe(1);
  });
});

describe('Redis restart during a pass', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;

  const freePort = () => new Promise<number>((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); }); });
  async function startRedis() {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await redisAnswers('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 50));
  }
  async function stopRedis() {
    const s = server!;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await exited;
  }

  beforeEach(async () => { dir = mkdtempSync(join(tmpdir(), 'minqing-redis-')); port = await freePort(); await startRedis(); });
  afterEach(async () => {
    await closeSchedulers();
    if (server && server.exitCode === null) await stopRedis();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no reminder and sends none twice when Redis dies mid-delivery and comes back', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const name = `test-${randomUUID()}`;
    const a = scheduler(name, 'a', url, 150);
    a.startWorker();
    await a.catchUp(new Date('2026-11-20T09:00:00+08:00'));
    await until(() => sent.length >= 1);
    await stopRedis();
    await new Promise((r) => setTimeout(r, 500));
    await startRedis();
    // After the restart a new pass (the next cron tick) queues whatever is still undelivered.
    await a.catchUp(new Date('2026-11-20T09:05:00+08:00'));
    await until(async () => (await withReply()) > 0 && (await undelivered()) === 0, 30_000);
    const total = await withReply();
    expect(sent).toHaveLength(total);
    expect(new Set(sent).size).toBe(total);
  }, 60_000);

  // Redis already down when the pass falls due, back after it.
  it('runs a pass that fell due while Redis was down once it is back, sending each reminder once', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const name = `test-${randomUUID()}`;
    const a = scheduler(name, 'a', url);
    a.startWorker();
    await stopRedis();
    // The tick comes while Redis is away: the pass waits in the client's offline queue; nothing runs.
    const queued = a.catchUp(new Date('2026-11-20T09:00:00+08:00'));
    await new Promise((r) => setTimeout(r, 500));
    expect(await chat.count('reminders')).toBe(0);
    expect(sent).toEqual([]);
    await startRedis();
    await queued;
    await until(async () => (await withReply()) > 0 && (await undelivered()) === 0, 30_000);
    // The next tick after the restart finds everything recorded and sends nothing again.
    await a.catchUp(new Date('2026-11-20T09:05:00+08:00'));
    await new Promise((r) => setTimeout(r, 500));
    const total = await withReply();
    expect(total).toBeGreaterThanOrEqual(3);
    expect(sent).toHaveLength(total);
    expect(new Set(sent).size).toBe(total);
  }, 60_000);
});

