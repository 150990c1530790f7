/** Request proofs seen once (schema `seen_proofs`): the replay guard of signed callbacks. */
import type { Db } from './db.js';

/**
 * Remembers `proof` under `scope` until `expiresAt`; false when it is already remembered and not
 * expired (the request is a replay). Expired proofs are swept as new ones arrive.
 */
export async function firstSeen(db: Db, scope: string, proof: string, expiresAt: number, now: number): Promise<boolean> {
  // A sweep per 64 proofs keeps the table at about one window's worth without a timer.
  if (Math.random() < 1 / 64) await db.run('DELETE FROM seen_proofs WHERE expires_at < ?', [now]);
  return (await db.run(`INSERT INTO seen_proofs (scope, proof, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (scope, proof) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_proofs.expires_at < ?`, [scope, proof, expiresAt, now])) === 1;
}
