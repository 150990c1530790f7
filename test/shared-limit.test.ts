/**
 * Outbound limits shared through Redis (bot/shared-limiter.ts): three separate processes, each with
 * its own Outbound, send to one target through a loopback HTTP sink; together they stay within the
 * limit in every sliding window, and every message arrives exactly once. Short windows (5 per
 * second) keep it to seconds. Needs the Redis on 127.0.0.1:6379 (or REDIS_URL) the other tests use.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisLimits } from '../bot/shared-limiter.js';
import { createLogger } from '../bot/logger.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHILD = fileURLToPath(new URL('./shared-limit-child.ts', import.meta.url));
const MAX = 5;
const WINDOW_MS = 1_000;
/**
 * The limiter books moments exactly; a message reaches the sink a little after its moment (the
 * Redis reply, a timer, the HTTP request), late by more on a loaded machine. The margin each window
 * is lengthened by must cover the spread of that lateness: 100 ms in production, more here, where
 * the test machine may be running other suites (a loaded two-core box showed up to 200 ms).
 */
const MARGIN_MS = 250;

interface Arrival { key: string; target: string; from: string; sentAt: number; at: number }

/** A loopback "platform": records each message with the moment it arrived. */
async function sink(): Promise<{ url: string; got: Arrival[]; server: Server }> {
  const got: Arrival[] = [];
  const server = createServer((req, res) => {
    const at = Date.now();
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { got.push({ ...JSON.parse(body), at }); res.end('ok'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got, server };
}

interface Spec { name: string; target: string; count: number; delayMs?: number; parallel?: boolean }

/** Starts one process per spec, waits until all are ready, says go, and waits for them to finish. */
async function run(specs: Spec[], o: { url: string; shared: boolean; prefix: string }): Promise<void> {
  const children: ChildProcess[] = specs.map((s) => fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: {
      ...process.env, SINK: o.url, NAME: s.name, TARGET: s.target, COUNT: String(s.count), MAX: String(MAX),
      WINDOW_MS: String(WINDOW_MS), MARGIN_MS: String(MARGIN_MS), PREFIX: o.prefix, REDIS_URL: REDIS, SHARED: o.shared ? '1' : '0', DELAY_MS: String(s.delayMs ?? 0),
      PARALLEL: s.parallel ? '1' : '0',
    },
  }));
  live.push(...children);
  const stderr = children.map((c) => { let s = ''; c.stderr!.on('data', (d) => { s += d; }); return () => s; });
  const said = (c: ChildProcess, what: string) => new Promise<void>((ok, fail) => {
    c.on('message', (m) => { if (m === what) ok(); });
    c.once('exit', (code) => fail(new Error(`child exited ${code} before "${what}": ${stderr[children.indexOf(c)]()}`)));
  });
  await Promise.all(children.map((c) => said(c, 'ready')));
  const done = children.map((c) => said(c, 'done'));
  for (const c of children) c.send('go');
  await Promise.all(done);
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const [i, c] of children.entries()) expect(c.exitCode, stderr[i]()).toBe(0);
}

/** The most moments that fall in one half-open window (t - ms, t]. */
function mostInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let j = 0, i = 0; j < t.length; j++) {
    while (t[i] <= t[j] - ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

const live: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const c of live.splice(0)) if (c.exitCode === null) c.kill();
  for (const s of servers.splice(0)) s.close();
});

describe('outbound limits shared by processes through Redis', () => {
  it('three processes sending 20 each to one target never pass 5 in any 1 s window, and all 60 arrive once', async () => {
    const s = await sink();
    servers.push(s.server);
    const specs = ['a', 'b', 'c'].map((name) => ({ name, target: 'ou_same', count: 20 }));
    await run(specs, { url: s.url, shared: true, prefix: `minqing:test:${randomUUID()}:` });

    expect(s.got.map((g) => g.key).sort()).toEqual(specs.flatMap((p) => Array.from({ length: 20 }, (_, i) => `${p.name}-${i}`)).sort());
    expect(mostInWindow(s.got.map((g) => g.at), WINDOW_MS)).toBeLessThanOrEqual(MAX);
    expect(mostInWindow(s.got.map((g) => g.sentAt), WINDOW_MS)).toBeLessThanOrEqual(MAX);
    // All three sent from the start: the limit was shared, not taken in turns by luck.
    const first = [...s.got].sort((x, y) => x.at - y.at).slice(0, 15);
    expect(new Set(first.map((g) => g.from)).size).toBe(3);
    // Nothing held longer than its turn: 60 go in 12 windows of 1.25 s.
    const span = Math.max(...s.got.map((g) => g.at)) - Math.min(...s.got.map((g) => g.at));
    expect(span).toBeLessThan(12 * (WINDOW_MS + MARGIN_MS) + 5_000);
  }, 60_000);

  it('the same three processes limiting each in itself pass the limit (what the shared limiter prevents)', async () => {
    const s = await sink();
    servers.push(s.server);
    const specs = ['a', 'b', 'c'].map((name) => ({ name, target: 'ou_same', count: 10 }));
    await run(specs, { url: s.url, shared: false, prefix: `minqing:test:${randomUUID()}:` });
    expect(s.got).toHaveLength(30);
    expect(mostInWindow(s.got.map((g) => g.at), WINDOW_MS)).toBeGreaterThan(MAX);
  }, 60_000);

  it('a busy target does not hold another: its messages go at once while the first waits its turn', async () => {
    const s = await sink();
    servers.push(s.server);
    await run([
      { name: 'busy', target: 'ou_busy', count: 20, parallel: true },
      { name: 'other', target: 'oc_other', count: 5, delayMs: 300 },
    ], { url: s.url, shared: true, prefix: `minqing:test:${randomUUID()}:` });
    const busy = s.got.filter((g) => g.target === 'ou_busy').map((g) => g.at);
    const other = s.got.filter((g) => g.target === 'oc_other').map((g) => g.at);
    expect(busy).toHaveLength(20);
    expect(other).toHaveLength(5);
    expect(mostInWindow(busy, WINDOW_MS)).toBeLessThanOrEqual(MAX);
    // The busy target's 20 take 3 windows more (3.75 s); the other's 5 do not wait behind them.
    expect(Math.max(...busy) - Math.min(...busy)).toBeGreaterThanOrEqual(3 * (WINDOW_MS + MARGIN_MS) - 100);
    expect(Math.max(...other) - Math.min(...busy)).toBeLessThan(2 * WINDOW_MS);
  }, 60_000);
});

describe('RedisLimits', () => {
  const log = createLogger('silent');

  it('books every window of a target (WeCom-like: a short and a long one), counting the bookings of every caller', async () => {
    const prefix = `minqing:test:${randomUUID()}:`;
    const windows = [{ max: 3, ms: 400 }, { max: 5, ms: 3_000 }];
    const one = new RedisLimits({ url: REDIS, log, prefix, marginMs: 50 });
    const two = new RedisLimits({ url: REDIS, log, prefix, marginMs: 50 });
    const redis = new Redis(REDIS);
    try {
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) waits.push((await (i % 2 ? two : one).reserve('wecom:user:m1', windows))!);
      expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
      expect(waits.slice(3).every((w) => w > 0)).toBe(true);
      // The booked moments, on Redis's clock: the 4th and 5th a short window (+ margin) after the
      // 1st and 2nd, the 6th a long window after the 1st.
      const booked = (await redis.zrange(`${prefix}wecom:user:m1`, 0, '-1', 'WITHSCORES') as string[]).filter((_, i) => i % 2).map(Number);
      expect(booked).toHaveLength(6);
      expect(booked[3] - booked[0]).toBe(450);
      expect(booked[4] - booked[1]).toBeGreaterThanOrEqual(450);
      expect(booked[5] - booked[0]).toBe(3_050);
      expect(waits[5]).toBeGreaterThan(2_500);
      expect(await one.reserve('wecom:user:m2', windows)).toBe(0); // another target
    } finally {
      await one.close();
      await two.close();
      redis.disconnect();
    }
  });

  it('answers undefined (limit in this process) quickly when Redis does not answer, and tries again later', async () => {
    const l = new RedisLimits({ url: 'redis://127.0.0.1:1', log, retryMs: 200, timeoutMs: 500 });
    const t0 = Date.now();
    expect(await l.reserve('k', [{ max: 1, ms: 1000 }])).toBeUndefined();
    expect(await l.reserve('k', [{ max: 1, ms: 1000 }])).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await l.reserve('k', [])).toBe(0);
    await l.close();
  });
});
