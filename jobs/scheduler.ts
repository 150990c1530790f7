/**
 * The reminder scheduler on BullMQ. Four job schedulers (upserted under fixed ids, so a restart
 * never adds a second) start passes by cron in the deployment's timezone; each pass records its
 * reminders (jobs/pass.ts) and queues their delivery in batches. Exactly-once lives in SQLite,
 * not in Redis: a lost, retried or duplicated job can only find reminders already claimed or sent.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import type { Db } from '../storage/db.js';
import { undeliveredKeys } from '../storage/reminders.js';
import { deliverMany, runPass } from './pass.js';
import { JOB_KINDS, loadReminderSettings, type ReminderSettings } from '../storage/reminder-settings.js';

export const DEFAULT_QUEUE = 'minqing-reminders';
const BATCH = 200;

export const passJob = {
  name: 'pass',
  data: z.object({ kind: z.enum(JOB_KINDS), at: z.iso.datetime({ offset: true }).optional() }),
};
export const deliverJob = {
  name: 'deliver',
  data: z.object({ keys: z.array(z.string().min(1)).min(1).max(10_000) }),
};

export interface SchedulerOptions {
  db: Db;
  redisUrl: string;
  outbound: Outbound;
  log: Logger;
  tz: string;
  queueName?: string;
  worker?: string;
  /** Settings from the environment; /提醒 changes stored in the database take precedence. */
  envSettings?: Partial<ReminderSettings>;
  /** Deliveries in flight per worker. */
  concurrency?: number;
  /** Attaches charts to reminders that ask for one (see Reply.chart). */
  enrich?: (reply: Reply) => Promise<Reply>;
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

  settings(): ReminderSettings {
    return loadReminderSettings(this.o.db, this.o.envSettings);
  }

  /** (Re)declares the four schedulers with the current cron times. */
  async upsertSchedulers(): Promise<void> {
    const s = this.settings();
    for (const kind of JOB_KINDS) {
      await this.queue.upsertJobScheduler(`remind-${kind}`, { pattern: s.crons[kind], tz: this.o.tz },
        { name: passJob.name, data: { kind }, opts: { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100, removeOnFail: 500 } });
    }
  }

  startWorker(): Worker {
    this.workerConn = redisConnection(this.o.redisUrl, this.o.log);
    this.worker = new Worker(this.name, (job) => this.process(job), { connection: this.workerConn, concurrency: this.o.concurrency ?? 4 });
    this.worker.on('failed', (job, err) => this.o.log.warn({ job: job?.name, id: job?.id, err: err.message }, 'reminder job failed'));
    this.worker.on('error', (e) => this.o.log.warn({ err: e.message }, 'reminder worker error'));
    return this.worker;
  }

  async process(job: Job): Promise<unknown> {
    if (job.name === passJob.name) {
      const d = passJob.data.safeParse(job.data);
      if (!d.success) throw new UnrecoverableError(`invalid pass job data: ${d.error.issues[0].message}`);
      const r = runPass(this.o.db, { kind: d.data.kind, at: d.data.at ? new Date(d.data.at) : new Date(), tz: this.o.tz, settings: this.settings() });
      this.o.log.info({ kind: r.kind, date: r.date, planned: r.planned, fresh: r.fresh.length, skipped: r.skipped }, 'reminder pass');
      await this.enqueueUndelivered();
      return { planned: r.planned, fresh: r.fresh.length };
    }
    if (job.name === deliverJob.name) {
      const d = deliverJob.data.safeParse(job.data);
      if (!d.success) throw new UnrecoverableError(`invalid deliver job data: ${d.error.issues[0].message}`);
      const r = await deliverMany(this.o.db, d.data.keys, { outbound: this.o.outbound, worker: this.id, log: this.o.log, enrich: this.o.enrich });
      for (const f of r.failed) this.o.log.warn({ key: f.key, err: f.error.message }, 'reminder delivery failed; will retry');
      if (r.failed.length) throw new Error(`${r.failed.length} of ${d.data.keys.length} reminders not delivered`);
      const sent = r.sent;
      return { sent };
    }
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  /**
   * Queues delivery of everything recorded and not yet delivered — this pass's reminders and any
   * left over by a crash. Batches keep the job count far below the reminder count.
   */
  async enqueueUndelivered(): Promise<number> {
    const keys = undeliveredKeys(this.o.db, 1_000_000);
    const jobs = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      jobs.push({ name: deliverJob.name, data: { keys: keys.slice(i, i + BATCH) }, opts: { attempts: 8, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 } });
    }
    if (jobs.length) await this.queue.addBulk(jobs);
    return keys.length;
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
