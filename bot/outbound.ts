/**
 * The one path every outgoing message takes — replies and reminders alike. Each platform's
 * sender is wrapped by a limiter per (platform, target): a message over the limit waits for its
 * turn; nothing is dropped and nothing is sent twice by the limiter.
 *
 * Default limits (docs/platforms.md#limits): DingTalk robot 20/min; WeCom 30/min and 1000/h per member;
 * Feishu 5/s per user and per group. The console has none.
 *
 * The platforms count per app and target, so with Redis (`redis` option: the running bot's
 * REDIS_URL, or the scheduler's default) the sliding windows live in Redis and hold for every
 * process together (bot/shared-limiter.ts); without it, or while it does not answer, the `Limiter`
 * below keeps them in this process.
 */
import type { Logger } from 'pino';
import type { Reply } from './reply.js';
import { outgoingOf, type Outgoing } from './outgoing.js';
import type { Attachment } from './event.js';
import { RedisLimits, type SharedLimits } from './shared-limiter.js';

/**
 * What an adapter provides to deliver an addressed message; `key` is an idempotency key (Feishu
 * `uuid`). A refusal a retry cannot cure is thrown as a `PlatformError` with `permanent: true`
 * (bot/delivery.ts); anything else thrown is retried.
 */
export interface Sender {
  platform: string;
  send(msg: Outgoing, key: string): Promise<void>;
  /** The bytes of an attachment a message of this platform carried (evidence, roster files). */
  download?(messageId: string | undefined, attachment: Attachment): Promise<Buffer>;
}

export interface Window { max: number; ms: number }

export const DEFAULT_LIMITS: Record<string, Window[]> = {
  dingtalk: [{ max: 20, ms: 60_000 }],
  wecom: [{ max: 30, ms: 60_000 }, { max: 1000, ms: 3_600_000 }],
  feishu: [{ max: 5, ms: 1_000 }],
  console: [],
};

/** Sliding-window limiter: `reserve` returns when the caller may send (a slot is booked for it). */
export class Limiter {
  private sent = new Map<string, number[]>();

  constructor(private windows: Window[], private now: () => number = Date.now) {}

  /** Milliseconds to wait before a message to `target` may go; books the slot at that time. */
  reserve(target: string): number {
    if (!this.windows.length) return 0;
    const t0 = this.now();
    const longest = Math.max(...this.windows.map((w) => w.ms));
    const times = (this.sent.get(target) ?? []).filter((t) => t > t0 - longest);
    let at = t0;
    for (;;) {
      const blocked = this.windows.map((w) => {
        const inWin = times.filter((t) => t > at - w.ms && t <= at);
        return inWin.length >= w.max ? inWin[inWin.length - w.max] + w.ms : 0;
      });
      const next = Math.max(...blocked);
      if (next <= at) break;
      at = next;
    }
    times.push(at);
    times.sort((a, b) => a - b);
    this.sent.set(target, times);
    return at - t0;
  }
}

export interface OutboundOptions {
  log: Logger;
  limits?: Record<string, Window[]>;
  sleep?: (ms: number) => Promise<void>;
  /** Share the limits with every process through this Redis (url: default redis://127.0.0.1:6379). */
  redis?: { url?: string | undefined; marginMs?: number; prefix?: string };
  /** A shared limiter given directly (tests); takes precedence over `redis`. */
  shared?: SharedLimits;
}

export class Outbound {
  private senders = new Map<string, Sender>();
  private limiters = new Map<string, Limiter>();
  private shared?: SharedLimits;

  constructor(private opts: OutboundOptions) {
    this.shared = opts.shared ?? (opts.redis ? new RedisLimits({ ...opts.redis, log: opts.log }) : undefined);
  }

  register(sender: Sender): void {
    this.senders.set(sender.platform, sender);
  }

  has(platform: string): boolean {
    return this.senders.has(platform);
  }

  /** Fetches an attachment through the platform it came from; throws when that cannot be done. */
  async download(platform: string, messageId: string | undefined, attachment: Attachment): Promise<Buffer> {
    const sender = this.senders.get(platform);
    if (!sender?.download) throw new Error(`platform ${platform} cannot fetch attachments`);
    return sender.download(messageId, attachment);
  }

  /**
   * Delivers one message; waits for the target's rate limit; throws when the platform fails. An
   * addressed `Reply` (reminders) is read as an outgoing message to a user (direct) or a group.
   */
  async send(reply: Reply | Outgoing, key: string): Promise<void> {
    const msg = outgoingOf({ platform: 'console', ...reply } as Reply);
    const platform = msg.platform;
    const sender = this.senders.get(platform);
    if (!sender) throw new Error(`no sender for platform ${platform}`);
    const wait = await this.reserve(platform, `${msg.to}:${msg.target}`);
    if (wait > 0) {
      this.opts.log.debug({ platform, wait }, 'rate limit: message delayed');
      await (this.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(wait);
    }
    await sender.send(msg, key);
  }

  /** Stops sharing limits (closes the Redis connection, if any). */
  async close(): Promise<void> {
    await this.shared?.close();
  }

  /** Books the message's slot: in Redis when shared and answering, else in this process. */
  private async reserve(platform: string, target: string): Promise<number> {
    const windows = (this.opts.limits ?? DEFAULT_LIMITS)[platform] ?? [];
    if (!windows.length) return 0;
    const shared = await this.shared?.reserve(`${platform}:${target}`, windows);
    if (shared !== undefined) return shared;
    let limiter = this.limiters.get(platform);
    if (!limiter) {
      limiter = new Limiter(windows);
      this.limiters.set(platform, limiter);
    }
    return limiter.reserve(target);
  }
}
