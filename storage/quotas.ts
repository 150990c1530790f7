/** Quota rules are data (SPEC §6). */
import type { Db } from './db.js';

/** Switches on the nine preset rules from the seeds; running it again changes nothing. */
export function installPresets(_db: Db, _at: number): void {
  // TODO(quota helper): implemented with the quota engine.
}
