/**
 * Delivers a batch of recorded reminders; a failure of any one fails the job so BullMQ retries it.
 * Reminders another claim holds (a racing process sending them, or a process that died holding
 * them) are looked at again when that claim runs out: delivered by then, they are skipped; still
 * undelivered, this job's successor takes them over. Without that look a dead process's claims
 * would wait for the next pass (the next day's cron tick).
 */
import { z } from 'zod';
import { deliverMany } from './pass.js';
import { defineJob } from './job.js';

export const deliverJob = defineJob({
  name: 'deliver',
  data: z.object({ keys: z.array(z.string().min(1)).min(1).max(10_000) }),
  async process(d, deps) {
    const r = await deliverMany(deps.db, d.keys, { outbound: deps.outbound, worker: deps.worker, log: deps.log, enrich: deps.enrich, leaseMs: deps.leaseMs, metrics: deps.metrics });
    if (r.held.keys.length) {
      await deps.deliverLater(r.held.keys, r.held.until);
      deps.log.info({ held: r.held.keys.length, at: new Date(r.held.until).toISOString() }, 'reminders claimed elsewhere: looking again when the claim runs out');
    }
    for (const f of r.failed) deps.log.warn({ key: f.key, err: f.error.message }, 'reminder delivery failed; will retry');
    if (r.failed.length) throw new Error(`${r.failed.length} of ${d.keys.length} reminders not delivered`);
    return { sent: r.sent, held: r.held.keys.length };
  },
});
