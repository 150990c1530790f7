/**
 * A job the BullMQ way: a name, a zod schema for its data, and `process(data, deps)`. The
 * scheduler looks the job up by name, validates the data (invalid data cannot become valid on a
 * retry: `UnrecoverableError`) and hands it what it needs on `deps` — never module globals.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import type { DeliveryMetrics } from '../bot/metrics.js';
import type { Db } from '../storage/db.js';
import type { ReminderSettings } from '../storage/reminder-settings.js';

export interface JobDeps {
  db: Db;
  outbound: Outbound;
  log: Logger;
  tz: string;
  /** This worker's name (recorded with each claimed reminder). */
  worker: string;
  /** The reminder settings now: the environment's defaults with /提醒 changes over them (read from the database). */
  settings(): Promise<ReminderSettings>;
  /** Queues delivery of everything recorded and not yet delivered; returns how many. */
  enqueueUndelivered(): Promise<number>;
  /** Queues delivery of `keys` to run at `at` (epoch ms): a look at reminders another claim held. */
  deliverLater(keys: string[], at: number): Promise<void>;
  /** How long a delivery claim holds (jobs/pass.ts LEASE_MS unless set). */
  leaseMs?: number;
  /** Counts failed sends and times delivered ones (`/metrics`). */
  metrics?: DeliveryMetrics;
  enrich?: (reply: Reply) => Promise<Reply>;
  /** The clock (injected in tests). */
  now(): Date;
  /** Where export files are written and how many days they are kept (jobs/retention.ts). */
  exports?: { dir: string; retentionDays: number };
}

export interface JobDef<S extends z.ZodType = z.ZodType, R = unknown> {
  name: string;
  data: S;
  process(data: z.output<S>, deps: JobDeps): Promise<R>;
}

export function defineJob<S extends z.ZodType, R>(j: JobDef<S, R>): JobDef<S, R> {
  return j;
}
