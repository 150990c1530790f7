/**
 * The reminder scheduler on BullMQ. Four job schedulers (upserted under fixed ids, so a restart
 * never adds a second) start passes by cron in the deployment's timezone; each pass records its
 * reminders (jobs/pass.ts) and queues their delivery in batches. Exactly-once lives in the
 * database (SQLite or PostgreSQL), not in Redis: a lost, retried or duplicated job can only find
 * reminders already claimed or sent.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import type { Db } from '../storage/db.js';
import type { DeliveryMetrics } from '../bot/metrics.js';
import { undeliveredKeys } from '../storage/reminders.js';
import { JOB_KINDS, loadReminderSettings, type ReminderDefaults, type ReminderSettings } from '../storage/reminder-settings.js';
import type { JobDef, JobDeps } from './job.js';
import { passJob } from './pass-job.js';
import { deliverJob } from './deliver-job.js';
import { pruneExportsJob } from './prune-exports-job.js';

export { passJob } from './pass-job.js';
export { deliverJob } from './deliver-job.js';

export const DEFAULT_QUEUE = 'minqing-reminders';
const BATCH = 200;

/** Every job this queue runs, by name. */
export const JOBS: Record<string, JobDef> = Object.fromEntries([passJob, deliverJob, pruneExportsJob].map((j) => [j.name, j as JobDef]));

/** When export files past their retention are deleted: daily, in the small hours. */
export const PRUNE_EXPORTS_CRON = '30 3 * * *';

export interface SchedulerOptions {
  db: Db;
  redisUrl: string;
  outbound: Outbound;
  log: Logger;
  tz: string;
  queueName?: string;
  worker?: string;
  /** Settings from the environment; /提醒 changes stored in the database take precedence. */
  envSettings?: ReminderDefaults;
  /** Deliveries in flight per worker. */
  concurrency?: number;
  /** Attaches charts to reminders that ask for one (see Reply.chart). */
  enrich?: (reply: Reply) => Promise<Reply>;
  /** Export folder and retention: with it, the `prune-exports` scheduler runs too. */
  exports?: { dir: string; retentionDays: number };
  /** The clock (tests inject one). */
  now?: () => Date;
  /** How long a delivery claim holds before another worker may take the reminder over (jobs/pass.ts LEASE_MS). */
  leaseMs?: number;
  /** Counts failed sends and times delivered reminders (`/metrics`). */
  metrics?: DeliveryMetrics;
}

export function redisConnection(url: string, log: Logger): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: null,
    // Back off to 10 s while Redis is away; commands never wait on it, reminders resume with it.
    retryStrategy: (n) => Math.min(10_000, 200 * 2 ** Math.min(n, 6)),
    lazyConnect: false,
  });
  let down = false;
  r.on('error', (e) => { if (!down) log.warn({ err: e.message }, 'redis unavailable; retrying with backoff'); down = true; });
  r.on('ready', () => { if (down) log.info('redis is back'); down = false; });
  return r;
}

export class Scheduler {
  readonly queue: Queue;
  private worker?: Worker;
  private conn: Redis;
  private workerConn?: Redis;
  readonly name: string;
  private id: string;

  constructor(private o: SchedulerOptions) {
    this.name = o.queueName ?? DEFAULT_QUEUE;
    this.id = o.worker ?? `worker-${process.pid}`;
    this.conn = redisConnection(o.redisUrl, o.log);
    this.queue = new Queue(this.name, { connection: this.conn });
    this.queue.on('error', (e) => o.log.warn({ err: e.message }, 'reminder queue error'));
  }

  async settings(): Promise<ReminderSettings> {
    return loadReminderSettings(this.o.db, this.o.envSettings);
  }

  /** (Re)declares the four reminder schedulers with the current cron times, and the export pruning. */
  async upsertSchedulers(): Promise<void> {
    const s = await this.settings();
    for (const kind of JOB_KINDS) {
      await this.queue.upsertJobScheduler(`remind-${kind}`, { pattern: s.crons[kind], tz: this.o.tz },
        { name: passJob.name, data: { kind }, opts: { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100, removeOnFail: 500 } });
    }
    if (this.o.exports) {
      await this.queue.upsertJobScheduler(pruneExportsJob.name, { pattern: PRUNE_EXPORTS_CRON, tz: this.o.tz },
        { name: pruneExportsJob.name, data: {}, opts: { attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 10, removeOnFail: 50 } });
    }
  }

  startWorker(): Worker {
    this.workerConn = redisConnection(this.o.redisUrl, this.o.log);
    this.worker = new Worker(this.name, (job) => this.process(job), { connection: this.workerConn, concurrency: this.o.concurrency ?? 4 });
    this.worker.on('failed', (job, err) => this.o.log.warn({ job: job?.name, id: job?.id, err: err.message }, 'reminder job failed'));
    this.worker.on('error', (e) => this.o.log.warn({ err: e.message }, 'reminder worker error'));
    return this.worker;
  }

  /** What every job's `process` gets. */
  get deps(): JobDeps {
    return {
      db: this.o.db, outbound: this.o.outbound, log: this.o.log, tz: this.o.tz, worker: this.id, enrich: this.o.enrich,
      settings: () => this.settings(), enqueueUndelivered: () => this.enqueueUndelivered(),
      deliverLater: (keys, at) => this.deliverLater(keys, at),
      now: this.o.now ?? (() => new Date()), exports: this.o.exports, leaseMs: this.o.leaseMs, metrics: this.o.metrics,
    };
  }

  async process(job: Job): Promise<unknown> {
    const def = JOBS[job.name];
    if (!def) throw new UnrecoverableError(`unknown job ${job.name}`);
    const d = def.data.safeParse(job.data);
    if (!d.success) throw new UnrecoverableError(`invalid ${job.name} job data: ${d.error.issues[0].message}`);
    return def.process(d.data, this.deps);
  }

  /**
   * Queues delivery of everything recorded and not yet delivered — this pass's reminders and any
   * left over by a crash. Batches keep the job count far below the reminder count.
   */
  async enqueueUndelivered(): Promise<number> {
    const keys = await undeliveredKeys(this.o.db, 1_000_000);
    const jobs = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      jobs.push({ name: deliverJob.name, data: { keys: keys.slice(i, i + BATCH) }, opts: { attempts: 8, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 } });
    }
    if (jobs.length) await this.queue.addBulk(jobs);
    return keys.length;
  }

  /**
   * Queues one delivery of `keys` for `at`. Every process that found the same keys held at the
   * same claim's end queues the same job id, so BullMQ keeps one.
   */
  async deliverLater(keys: string[], at: number): Promise<void> {
    const id = `recheck-${at}-${createHash('sha1').update(keys.join('\n')).digest('hex').slice(0, 16)}`;
    for (let i = 0; i < keys.length; i += BATCH) {
      await this.queue.add(deliverJob.name, { keys: keys.slice(i, i + BATCH) }, {
        jobId: `${id}-${i / BATCH}`, delay: Math.max(0, at - Date.now()), attempts: 8, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000,
      });
    }
  }

  /** Catch-up at start: run every pass for now and queue what is undelivered. */
  async catchUp(at = new Date()): Promise<void> {
    for (const kind of JOB_KINDS) {
      await this.queue.add(passJob.name, { kind, at: at.toISOString() }, { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100 });
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    this.conn.disconnect();
    this.workerConn?.disconnect();
  }
}
