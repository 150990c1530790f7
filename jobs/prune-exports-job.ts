/** Deletes export files older than MINQING_EXPORT_RETENTION_DAYS (jobs/retention.ts), once a day. */
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { defineJob } from './job.js';
import { pruneExports } from './retention.js';

export const pruneExportsJob = defineJob({
  name: 'prune-exports',
  data: z.object({ at: z.iso.datetime({ offset: true }).optional() }),
  async process(d, deps) {
    if (!deps.exports) throw new UnrecoverableError('prune-exports needs the export folder and retention (deps.exports)');
    const r = pruneExports(deps.exports.dir, { now: d.at ? new Date(d.at) : deps.now(), retentionDays: deps.exports.retentionDays });
    deps.log.info({ dir: deps.exports.dir, deleted: r.deleted.length, kept: r.kept, days: deps.exports.retentionDays }, 'export files pruned');
    return { deleted: r.deleted.length, kept: r.kept };
  },
});
