/**
 * Outbound limits shared by every bot process through Redis (issue 13). The platforms count per app
 * and target (docs/platforms.md#limits), so with several `minqing start` processes on one Redis the
 * limit must hold for all of them together, not for each.
 *
 * How: one sorted set per (platform, target) holds the moments booked for sends in the longest
 * window; one Lua script, run atomically by Redis on Redis's clock (`TIME`), finds the earliest
 * moment at which every window still has room, books it and returns the wait — the arithmetic of the
 * in-process `Limiter` (bot/outbound.ts), moved where every process sees it. That is a sliding
 * window log, not a counter: no stretch of a window's length (plus `marginMs`) holds more than `max`
 * booked sends, whichever processes booked them, and a burst up to `max` goes at once. A message
 * is sent at or after its booked moment, so when the delay from booking to the platform receiving
 * it varies by less than `marginMs`, the platform sees the bound too. The wait is computed in Redis
 * time and slept in the caller's, so clocks of different hosts do not matter.
 *
 * Cost: one round trip to Redis per limited message; per target up to `max` entries of the longest
 * window (WeCom: up to 1000 per member for an hour); each window is `marginMs` (default 100) longer
 * than the platform's, which costs Feishu's 5/s the most (5 per 1.1 s) and minute or hour windows
 * next to nothing. A process that dies between booking and sending wastes its slot, never adds one.
 *
 * Why not a library: rate-limiter-flexible's RateLimiterRedis keeps a fixed-window counter whose
 * expiry is whole seconds (`EX floor(ms / 1000)`): pacing Feishu at one per 200 ms never expires
 * and WeCom's one per 3.6 s becomes 3 s (1200/h); unpaced, a fixed window lets 2×max through across
 * its boundary. BullMQ's limiter is one fixed window per queue — per target it needs BullMQ Pro's
 * groups, or one busy group holds every other target. Neither is a coordinator we could use as is;
 * this is the usual single-script Redis limiter (no leader, no locks, no process list).
 *
 * When Redis does not answer, `reserve` returns `undefined` and the caller limits in-process (the
 * console, a single county without Redis, a Redis restart); sends made during an outage are not
 * known to the other processes. The connection holds the process open only while a command is in
 * flight, and is not retried by ioredis: the next message tries again (at most every `retryMs`).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULT_REDIS_URL } from '../jobs/redis.js';
import type { Window } from './outbound.js';

/** A limiter every process shares; `undefined` from `reserve` means "cannot answer: limit locally". */
export interface SharedLimits {
  /** Milliseconds to wait before a message under `key` may go; books its slot at that moment. */
  reserve(key: string, windows: Window[]): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * KEYS[1]: the target's sorted set (member: a booking id, score: its moment in ms).
 * ARGV: marginMs, booking id, then max and ms of each window. Returns the wait in ms.
 */
const RESERVE = `
local key = KEYS[1]
local margin = tonumber(ARGV[1])
local n = (#ARGV - 2) / 2
local maxes, lens, longest = {}, {}, 0
for i = 1, n do
  maxes[i] = tonumber(ARGV[1 + 2 * i])
  lens[i] = tonumber(ARGV[2 + 2 * i]) + margin
  if lens[i] > longest then longest = lens[i] end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - longest))
local at = now
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) > at then at = tonumber(last[2]) end
while true do
  local nextAt = at
  for i = 1, n do
    local lo = '(' .. string.format('%.0f', at - lens[i])
    local hi = string.format('%.0f', at)
    local c = redis.call('ZCOUNT', key, lo, hi)
    if c >= maxes[i] then
      local s = redis.call('ZRANGEBYSCORE', key, lo, hi, 'WITHSCORES', 'LIMIT', c - maxes[i], 1)
      local free = tonumber(s[2]) + lens[i]
      if free > nextAt then nextAt = free end
    end
  end
  if nextAt <= at then break end
  at = nextAt
end
redis.call('ZADD', key, string.format('%.0f', at), ARGV[2])
redis.call('PEXPIRE', key, string.format('%.0f', at - now + longest))
return at - now
`;

type Reserving = Redis & { minqingReserve(key: string, ...args: string[]): Promise<number> };

export interface RedisLimitsOptions {
  /** Redis to share through; default the scheduler's default, redis://127.0.0.1:6379. */
  url?: string | undefined;
  log: Logger;
  /** Key prefix; processes that share limits must share it. */
  prefix?: string;
  /** Added to every window's length: the spread of delays between a booked moment and the platform. */
  marginMs?: number;
  /** Least time between connection attempts while Redis does not answer. */
  retryMs?: number;
  /** How long a connection attempt or a booking may take before the message is limited locally. */
  timeoutMs?: number;
}

export class RedisLimits implements SharedLimits {
  private client: Reserving;
  private connecting?: Promise<boolean>;
  private failedAt = -Infinity;
  private down = false;
  private closed = false;
  private inFlight = 0;
  private prefix: string;
  private margin: number;

  constructor(private o: RedisLimitsOptions) {
    this.prefix = o.prefix ?? 'minqing:outbound:';
    this.margin = o.marginMs ?? 100;
    const timeout = o.timeoutMs ?? 2_000;
    this.client = new Redis(o.url ?? DEFAULT_REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: timeout,
      commandTimeout: timeout,
    }) as Reserving;
    this.client.defineCommand('minqingReserve', { numberOfKeys: 1, lua: RESERVE });
    this.client.on('error', () => {}); // reported by reserve(), once per outage
    this.client.on('ready', () => { if (!this.inFlight) this.client.stream?.unref(); });
  }

  async reserve(key: string, windows: Window[]): Promise<number | undefined> {
    if (!windows.length) return 0;
    if (this.closed) return undefined;
    this.inFlight++;
    try {
      if (!(await this.connected())) return undefined;
      this.client.stream?.ref();
      const args = windows.flatMap((w) => [String(w.max), String(w.ms)]);
      const wait = Number(await this.client.minqingReserve(this.prefix + key, String(this.margin), randomUUID(), ...args));
      if (this.down) this.o.log.info('outbound limits shared through Redis again');
      this.down = false;
      return wait;
    } catch (e) {
      this.report(e as Error);
      return undefined;
    } finally {
      if (!--this.inFlight && this.client.status === 'ready') this.client.stream?.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
  }

  private connected(): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    if (!this.connecting) {
      if (Date.now() - this.failedAt < (this.o.retryMs ?? 5_000)) return Promise.resolve(false);
      if (this.client.status !== 'wait' && this.client.status !== 'end') return Promise.resolve(false);
      this.connecting = this.client.connect().then(
        () => true,
        (e: Error) => { this.failedAt = Date.now(); this.report(e); this.client.disconnect(); return false; },
      ).finally(() => { this.connecting = undefined; });
    }
    return this.connecting;
  }

  private report(e: Error): void {
    if (this.down) return;
    this.down = true;
    const msg = 'outbound limits kept in this process: Redis does not answer';
    if (this.o.url) this.o.log.warn({ err: e.message }, msg);
    else this.o.log.info({ err: e.message }, msg);
  }
}
