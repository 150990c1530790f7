/**
 * What `GET /metrics` shows, in the Prometheus text format (prom-client): the reply outbox's
 * depth, delivery failures and latency (replies and reminders), inbound messages by outcome, the
 * reminder queue's depth in Redis, and the process's own metrics (CPU, memory, event-loop lag,
 * GC, handles).
 *
 * One `Metrics` per process, on a registry of its own (tests make as many as they like). The
 * counters count what this process did; the outbox and queue depths are read from the shared
 * database and Redis at scrape time, so every process of a deployment reports the same value —
 * aggregate them with max(), not sum(). A depth that cannot be read within a second (Redis or
 * the database away) is left out of that scrape, and `minqing_metrics_source_up` says so.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../storage/db.js';
import { outboxPending } from '../storage/outbox.js';

/** How an inbound message ended (bot/router.ts). */
export type InboundOutcome =
  /** Answered (or recorded) as asked. */
  | 'handled'
  /** Not for the bot (a group message without a mention), nothing answered. */
  | 'ignored'
  /** Answered with why it could not run: not bound, not allowed, arguments wrong, too long. */
  | 'rejected'
  /** A platform's resend of a message already handled: the recorded replies again. */
  | 'redelivered'
  /** A fault: the apology sent, nothing recorded (the platform's resend may succeed). */
  | 'error';

/** A reply from the outbox, or a reminder from the scheduler. */
export type DeliveryKind = 'reply' | 'reminder';

/** What the delivery paths report (bot/delivery.ts, jobs/pass.ts); `Metrics` is one. */
export interface DeliveryMetrics {
  /** A send that failed: `retry` when it will be tried again, `undeliverable` when given up. */
  deliveryFailed(platform: string, kind: DeliveryKind, result: 'retry' | 'undeliverable'): void;
  /** A message the platform took, `createdAt` being when it was written (epoch ms). */
  delivered(platform: string, kind: DeliveryKind, createdAt: number, now: number): void;
}

/** What the router reports. */
export interface InboundMetrics {
  inbound(platform: string, outcome: InboundOutcome): void;
}

/** The job counts of a BullMQ queue (`Queue.getJobCounts`). */
export interface QueueLike {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;
const SCRAPE_TIMEOUT_MS = 1_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, no) => { timer = setTimeout(() => no(new Error('timed out')), ms); })]).finally(() => clearTimeout(timer));
}

export interface MetricsOptions {
  /** The database whose outbox depth is shown. */
  db?: Db;
  /** Process metrics (CPU, memory, event loop, GC); on unless false. */
  defaults?: boolean;
  scrapeTimeoutMs?: number;
}

export class Metrics implements DeliveryMetrics, InboundMetrics {
  readonly registry = new Registry();
  private queue?: QueueLike;
  private readonly failures: Counter<'platform' | 'kind' | 'result'>;
  private readonly latency: Histogram<'platform' | 'kind'>;
  private readonly inboundTotal: Counter<'platform' | 'outcome'>;
  private readonly up: Gauge<'source'>;
  private readonly pending: Gauge;
  private readonly queueJobs: Gauge<'state'>;
  private reading?: Promise<void>;

  constructor(private o: MetricsOptions = {}) {
    const registers = [this.registry];
    if (o.defaults !== false) collectDefaultMetrics({ register: this.registry });
    this.failures = new Counter({
      name: 'minqing_delivery_failures_total', help: 'Sends a platform refused or that failed, by platform, kind (reply, reminder) and result (retry, undeliverable)',
      labelNames: ['platform', 'kind', 'result'], registers,
    });
    this.latency = new Histogram({
      name: 'minqing_delivery_latency_seconds', help: 'From when a reply was written to the outbox (a reminder: recorded by its pass) to when the platform took it',
      labelNames: ['platform', 'kind'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600], registers,
    });
    this.inboundTotal = new Counter({
      name: 'minqing_inbound_messages_total', help: 'Inbound messages handled, by platform and outcome (handled, ignored, rejected, redelivered, error)',
      labelNames: ['platform', 'outcome'], registers,
    });
    // The three read together, once per scrape: the registry reads its metrics side by side, so
    // each one's `collect` waits for the same look-up.
    const read = () => this.readSources();
    this.up = new Gauge({ name: 'minqing_metrics_source_up', help: 'Whether the last scrape could read a source (db: the outbox; redis: the reminder queue)', labelNames: ['source'], registers, collect: read });
    this.pending = new Gauge({ name: 'minqing_outbox_pending', help: 'Replies in the outbox not yet delivered nor given up (shared by every process on the database)', registers, collect: read });
    this.queueJobs = new Gauge({ name: 'minqing_reminder_queue_jobs', help: 'Jobs in the reminder queue in Redis by state (shared by every process on the queue)', labelNames: ['state'], registers, collect: read });
  }

  private readSources(): Promise<void> {
    this.reading ??= this.read().finally(() => { this.reading = undefined; });
    return this.reading;
  }

  private async read(): Promise<void> {
    const timeout = this.o.scrapeTimeoutMs ?? SCRAPE_TIMEOUT_MS;
    const { db } = this.o;
    const queue = this.queue;
    await Promise.all([
      db && within(outboxPending(db), timeout).then(
        (n) => { this.pending.set(n); this.up.set({ source: 'db' }, 1); },
        () => { this.pending.reset(); this.up.set({ source: 'db' }, 0); }),
      queue && within(queue.getJobCounts(...QUEUE_STATES), timeout).then(
        (counts) => { for (const s of QUEUE_STATES) this.queueJobs.set({ state: s }, counts[s] ?? 0); this.up.set({ source: 'redis' }, 1); },
        () => { this.queueJobs.reset(); this.up.set({ source: 'redis' }, 0); }),
    ]);
  }

  /** The reminder queue whose depth is shown (set once the scheduler runs). */
  watchQueue(queue: QueueLike | undefined): void {
    this.queue = queue;
  }

  deliveryFailed(platform: string, kind: DeliveryKind, result: 'retry' | 'undeliverable'): void {
    this.failures.inc({ platform, kind, result });
  }

  delivered(platform: string, kind: DeliveryKind, createdAt: number, now: number): void {
    this.latency.observe({ platform, kind }, Math.max(0, now - createdAt) / 1000);
  }

  inbound(platform: string, outcome: InboundOutcome): void {
    this.inboundTotal.inc({ platform, outcome });
  }

  /** The text `/metrics` answers. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
