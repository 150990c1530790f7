/**
 * Reply delivery from the outbox (storage/outbox.ts). Replies are written with the command that
 * produced them; this sends them through the outbound path (so inside the per-target limits),
 * retries transient failures with exponential backoff, marks permanent ones undeliverable, and
 * resumes after a restart. It needs the database only — no Redis — so replies go out with
 * `--no-reminders` or with Redis down. On PostgreSQL several processes may deliver from one
 * outbox: a row's claim is a lease, and a row claimed elsewhere is skipped (storage/outbox.ts).
 *
 * The one window left is a crash between the platform accepting a message and our "delivered"
 * commit: the reply is sent again after the restart with the same key (Feishu `uuid` drops it;
 * the others show it twice). Everything else is sent once.
 */
import type { Logger } from 'pino';
import type { Db } from '../storage/db.js';
import { claimDue, claimNextOf, markFailed, markRetry, markSent, nextDue, releaseClaims, type OutboxRow } from '../storage/outbox.js';
import { recordedReplies } from '../storage/inbound.js';
import { outgoingOf, readOutgoing, type Outgoing } from './outgoing.js';
import type { Reply } from './reply.js';
import type { DeliveryMetrics } from './metrics.js';

/**
 * A platform's refusal, typed so delivery knows what a retry can cure. `permanent` (unknown user,
 * no permission, a malformed message) is never retried; everything else is (429, 5xx, timeouts,
 * a token that stayed invalid after one refresh).
 */
export class PlatformError extends Error {
  readonly platform: string;
  readonly permanent: boolean;
  readonly status?: number;
  readonly code?: string | number;
  /** The platform's own "retry after" (Feishu `x-ogw-ratelimit-reset`), in ms. */
  readonly retryAfterMs?: number;

  constructor(o: { platform: string; message: string; permanent?: boolean; status?: number; code?: string | number; retryAfterMs?: number; cause?: unknown }) {
    super(o.message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'PlatformError';
    this.platform = o.platform;
    this.permanent = !!o.permanent;
    this.status = o.status;
    this.code = o.code;
    this.retryAfterMs = o.retryAfterMs;
  }
}

export const isPlatformError = (e: unknown): e is PlatformError => e instanceof PlatformError;

/** A network failure or a timeout of `fetch` (undici), as a transient PlatformError. */
export function networkError(platform: string, what: string, err: unknown): PlatformError {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  const code = e?.cause?.code ?? e?.name;
  return new PlatformError({ platform, message: `${what}: ${code ?? ''} ${e?.message ?? String(err)}`.trim(), code, cause: err });
}

export interface RetryPolicy {
  /** Attempts in all, the first included; after the last the reply is undeliverable. */
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/** 8 attempts: 2 s, 4 s, … about 4 minutes between the last ones; 8.5 minutes in all. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 2_000, maxMs: 10 * 60_000 };

/**
 * Wait after the `attempt`-th failure: exponential with "equal jitter" (half fixed, half random,
 * so replies failed together do not retry together), never sooner than the platform asked.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfterMs = 0, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs, Math.round(exp / 2 + random() * (exp / 2)));
}

export interface DeliveryOptions {
  db: Db;
  /** `Outbound.send`: waits for the target's rate limit, then hands the message to its sender. */
  send: (msg: Outgoing, key: string) => Promise<void>;
  log: Logger;
  now?: () => number;
  retry?: RetryPolicy;
  /** A claim older than this is taken to be abandoned (longer than any rate-limit wait). */
  leaseMs?: number;
  /** Replies being sent at once (each waits for its own target's limit). */
  concurrency?: number;
  random?: () => number;
  /** Counts failed sends and times delivered ones (`/metrics`). */
  metrics?: DeliveryMetrics;
}

export interface DeliveryStats { sent: number; retried: number; undeliverable: number }

export class ReplyDelivery {
  private active = new Map<number, Promise<void>>();
  private bySource = new Map<string, Set<Promise<void>>>();
  private timer?: NodeJS.Timeout;
  private pumping?: Promise<void>;
  private again = false;
  private stopped = true;
  /** `start` releasing the previous run's claims. */
  private starting?: Promise<void>;
  /** The claims, one at a time (`claimed`). */
  private claims: Promise<unknown> = Promise.resolve();
  /** The look-up of the next due time under way, and which call it is (only the newest sets the timer). */
  private scheduling?: Promise<void>;
  private scheduled = 0;
  readonly stats: DeliveryStats = { sent: 0, retried: 0, undeliverable: 0 };
  private now: () => number;
  private retry: RetryPolicy;
  private leaseMs: number;
  private concurrency: number;

  constructor(private o: DeliveryOptions) {
    this.now = o.now ?? Date.now;
    this.retry = o.retry ?? DEFAULT_RETRY;
    this.leaseMs = o.leaseMs ?? 15 * 60_000;
    this.concurrency = o.concurrency ?? 16;
  }

  /**
   * Resumes what a previous process left: its claims are released (SQLite), every due reply is
   * sent. Never rejects; `idle()` waits for it too.
   */
  start(): Promise<void> {
    this.stopped = false;
    const starting: Promise<void> = releaseClaims(this.o.db).then(
      (released) => { if (released) this.o.log.info({ released }, 'outbox: resuming replies a previous run left in flight'); },
      (err) => this.o.log.error({ err }, 'outbox: the previous run\'s claims could not be released; they pass on when their lease runs out'),
    ).then(() => {
      if (this.starting === starting) this.starting = undefined;
      if (!this.stopped) this.kick();
    });
    this.starting = starting;
    return starting;
  }

  /** Stops the timer and waits for the sends under way; what is left stays in the outbox. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.idle();
  }

  /** Resolves when no send is under way, no pass is running and no timer is being set. */
  async idle(): Promise<void> {
    while (this.starting || this.pumping || this.active.size || this.scheduling) {
      await this.starting;
      await this.pumping;
      await Promise.allSettled([...this.active.values()]);
      await this.scheduling;
    }
  }

  /**
   * What an adapter calls after the router handled a message: a recorded message's replies are
   * delivered from the outbox (for a redelivery whose replies went out: nothing); a message the
   * router did not record (a fault's apology, no message id) gets its replies sent once, directly.
   * Resolves once each due reply of the message was attempted.
   */
  async settle(platform: string, messageId: string | undefined, replies: Array<Reply | Outgoing>, origin?: { chatId: string; direct: boolean; senderId?: string }): Promise<void> {
    if (messageId && (await recordedReplies(this.o.db, platform, messageId)) !== undefined) {
      await this.deliverMessage(platform, messageId);
      return;
    }
    // Keys of their own: a fault's apology must not share the key (Feishu `uuid`) of the reply a
    // successful redelivery of the same message will record, or Feishu would drop that reply.
    const attempt = `u${this.now().toString(36)}`;
    for (const [i, r] of replies.entries()) {
      try {
        await this.o.send(outgoingOf(r as Reply, origin && { platform, ...origin }), `${platform}:${messageId ?? 'no-id'}:${attempt}:${i}`);
      } catch (err) {
        this.o.log.error({ err, platform, target: r.target }, 'unrecorded reply could not be delivered');
      }
    }
  }

  /** Sends the due replies of one message in order, waiting for any already under way. */
  async deliverMessage(platform: string, messageId: string): Promise<void> {
    const source = `${platform}\u0000${messageId}`;
    for (;;) {
      // Wrapped, not returned: the claim is over when the row is registered, not when it is sent.
      const next = await this.claimed(async () => {
        const row = await claimNextOf(this.o.db, platform, messageId, this.now(), this.leaseMs);
        return row && { sending: this.track(row) };
      });
      if (next) { await next.sending; continue; }
      // Every row of this process's earlier claims is registered by now (claims run one at a
      // time): nothing here means no reply of the message is under way in this process.
      const running = this.bySource.get(source);
      if (!running?.size) return;
      await Promise.allSettled([...running]);
    }
  }

  /** Starts a pass over every due reply (at once if none is running, else right after it). */
  kick(): void {
    if (this.pumping) { this.again = true; return; }
    this.pumping = this.pass()
      .catch((err) => this.o.log.error({ err }, 'outbox: a delivery pass failed; the timer tries again'))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) { this.again = false; this.kick(); } else this.schedule();
      });
  }

  private async pass(): Promise<void> {
    for (;;) {
      const free = this.concurrency - this.active.size;
      if (free <= 0) { await Promise.race(this.active.values()); continue; }
      const claimed = await this.claimed(async () => {
        const rows = await claimDue(this.o.db, this.now(), this.leaseMs, free);
        // Not awaited: a reply waiting for its target's limit must not hold up the others.
        for (const r of rows) void this.track(r).then(() => { if (!this.stopped) this.kick(); });
        return rows.length;
      });
      if (!claimed) return;
    }
  }

  /**
   * Runs one claim after the ones before it have finished. A claim registers the rows it took
   * (`track`) before it ends, so a claim that finds nothing can trust `bySource`: otherwise a row
   * claimed by a pass, its answer still on its way back from the database, would look neither due
   * nor under way to `deliverMessage`.
   */
  private claimed<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.claims.then(fn);
    this.claims = run.catch(() => undefined);
    return run;
  }

  /** Wakes up when the next retry is due (at most a minute, to notice rows written elsewhere). */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const call = ++this.scheduled;
    const look = nextDue(this.o.db, this.leaseMs).then((due) => {
      // A newer call (or a stop) decides.
      if (call !== this.scheduled || this.stopped || due === undefined) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.kick(), Math.min(60_000, Math.max(0, due - this.now())));
      this.timer.unref();
    }, (err) => {
      if (this.stopped || call !== this.scheduled) return;
      this.o.log.error({ err }, 'outbox: the next due reply could not be looked up; looking again in a minute');
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.kick(), 60_000);
      this.timer.unref();
    });
    const done: Promise<void> = look.finally(() => { if (this.scheduling === done) this.scheduling = undefined; });
    this.scheduling = done;
  }

  private track(row: OutboxRow): Promise<void> {
    const p = this.attempt(row);
    const source = `${row.platform}\u0000${row.messageId}`;
    let set = this.bySource.get(source);
    if (!set) this.bySource.set(source, (set = new Set()));
    set.add(p);
    this.active.set(row.id, p);
    return p.finally(() => {
      this.active.delete(row.id);
      set.delete(p);
      if (!set.size) this.bySource.delete(source);
      // A retry was set (or a row freed): the timer must know, unless a pass will set it anyway.
      if (!this.pumping) this.schedule();
    });
  }

  /** One send of one row and its outcome recorded; never rejects (a failure to record is logged, the lease then runs out). */
  private async attempt(row: OutboxRow): Promise<void> {
    const { db, log } = this.o;
    const record = async (what: string, write: () => Promise<void>): Promise<void> => {
      try {
        await write();
      } catch (err) {
        log.error({ err, key: row.key, outcome: what }, 'outbox: the outcome of a send could not be recorded; the row is tried again when its lease runs out');
      }
    };
    let msg: Outgoing;
    try {
      msg = readOutgoing(row.message);
    } catch (err) {
      await record('failed', () => markFailed(db, row.id, this.now(), `unreadable: ${(err as Error).message}`));
      log.error({ err, key: row.key }, 'outbox: stored reply unreadable, marked undeliverable');
      this.o.metrics?.deliveryFailed(row.platform, 'reply', 'undeliverable');
      this.stats.undeliverable++;
      return;
    }
    try {
      await this.o.send(msg, row.key);
    } catch (err) {
      const e = err as Error;
      const permanent = isPlatformError(err) && err.permanent;
      const fields = { key: row.key, platform: msg.platform, to: msg.to, target: msg.target, attempt: row.attempts, err: e.message, code: (err as PlatformError).code };
      const givenUp = permanent || row.attempts >= this.retry.maxAttempts;
      this.o.metrics?.deliveryFailed(msg.platform, 'reply', givenUp ? 'undeliverable' : 'retry');
      if (givenUp) {
        await record('failed', () => markFailed(db, row.id, this.now(), e.message ?? String(err)));
        log.error(fields, permanent ? 'reply undeliverable: the platform refused it for good' : 'reply undeliverable: out of attempts');
        this.stats.undeliverable++;
      } else {
        const wait = backoffMs(row.attempts, this.retry, isPlatformError(err) ? err.retryAfterMs : undefined, this.o.random);
        await record('retry', () => markRetry(db, row.id, this.now() + wait, e.message ?? String(err)));
        log.warn({ ...fields, retryInMs: wait }, 'reply not delivered yet: will retry');
        this.stats.retried++;
      }
      return;
    }
    const at = this.now();
    await record('sent', () => markSent(db, row.id, at));
    this.o.metrics?.delivered(msg.platform, 'reply', row.createdAt, at);
    this.stats.sent++;
  }
}
