/** A reminder pass of one kind at an instant (a job scheduler's tick, or the catch-up at start). */
import { z } from 'zod';
import { JOB_KINDS } from '../storage/reminder-settings.js';
import { runPass } from './pass.js';
import { defineJob } from './job.js';

export const passJob = defineJob({
  name: 'pass',
  data: z.object({ kind: z.enum(JOB_KINDS), at: z.iso.datetime({ offset: true }).optional() }),
  async process(d, deps) {
    const r = await runPass(deps.db, { kind: d.kind, at: d.at ? new Date(d.at) : new Date(), tz: deps.tz, settings: await deps.settings() });
    deps.log.info({ kind: r.kind, date: r.date, planned: r.planned, fresh: r.fresh.length, skipped: r.skipped }, 'reminder pass');
    await deps.enqueueUndelivered();
    return { planned: r.planned, fresh: r.fresh.length };
  },
});
