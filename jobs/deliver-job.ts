/** Delivers a batch of recorded reminders; a failure of any one fails the job so BullMQ retries it. */
import { z } from 'zod';
import { deliverMany } from './pass.js';
import { defineJob } from './job.js';

export const deliverJob = defineJob({
  name: 'deliver',
  data: z.object({ keys: z.array(z.string().min(1)).min(1).max(10_000) }),
  async process(d, deps) {
    const r = await deliverMany(deps.db, d.keys, { outbound: deps.outbound, worker: deps.worker, log: deps.log, enrich: deps.enrich });
    for (const f of r.failed) deps.log.warn({ key: f.key, err: f.error.message }, 'reminder delivery failed; will retry');
    if (r.failed.length) throw new Error(`${r.failed.length} of ${d.keys.length} reminders not delivered`);
    return { sent: r.sent };
  },
});
