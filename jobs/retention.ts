/**
 * Export files are kept only as long as needed (docs/rules.md#retention): a spreadsheet of the 民情记录表
 * or the ledger holds citizens' names, phones and problems, and once it has been sent to the
 * cadre who asked, the copy in the export folder serves nobody. Files older than the retention
 * period are deleted by the daily `prune-exports` job (jobs/prune-exports-job.ts) and by
 * `minqing remind --at` (scripts/remind.ts).
 *
 * Only files named the way handlers/report-files.ts `reportFile` names them
 * (`<what>_<unit>_<period>_<yyyyMMdd-HHmmss>[-n].<ext>`) are touched: MINQING_EXPORT_DIR may point
 * at a folder that holds other things too. Age is the file's modification time (an export is
 * written once, when asked for).
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const EXPORT_NAME = /_\d{8}-\d{6}(-\d+)?\.(xlsx|csv|png)$/;
const DAY_MS = 86_400_000;

export interface PruneResult {
  /** Files deleted (or, with dryRun, that would be), oldest first. */
  deleted: string[];
  /** Export files still within the retention period. */
  kept: number;
}

export function pruneExports(dir: string, o: { now: Date; retentionDays: number; dryRun?: boolean }): PruneResult {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    // No export was ever written: nothing to delete.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { deleted: [], kept: 0 };
    throw e;
  }
  const cutoff = o.now.getTime() - o.retentionDays * DAY_MS;
  const old: Array<{ file: string; at: number }> = [];
  let kept = 0;
  for (const name of names) {
    if (!EXPORT_NAME.test(name)) continue;
    const file = join(dir, name);
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (st.mtimeMs < cutoff) old.push({ file, at: st.mtimeMs });
    else kept++;
  }
  old.sort((a, b) => a.at - b.at);
  const deleted: string[] = [];
  for (const { file } of old) {
    if (!o.dryRun) {
      try {
        unlinkSync(file);
      } catch (e) {
        // Deleted meanwhile by another worker: the goal is reached all the same.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    deleted.push(file);
  }
  return { deleted, kept };
}
