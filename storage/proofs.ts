/** Request proofs seen once (schema `seen_proofs`): the replay guard of signed callbacks. */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

/**
 * Remembers `proof` under `scope` until `expiresAt`; false when it is already remembered and not
 * expired (the request is a replay). Expired proofs are swept as new ones arrive.
 */
export function firstSeen(db: Db, scope: string, proof: string, expiresAt: number, now: number): boolean {
  const sweep = prepared(db, 'proofSweep', (d) => d.$client.prepare('DELETE FROM seen_proofs WHERE expires_at < ?'));
  const ins = prepared(db, 'proofInsert', (d) => d.$client.prepare(
    `INSERT INTO seen_proofs (scope, proof, expires_at) VALUES (@scope, @proof, @expiresAt)
     ON CONFLICT (scope, proof) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_proofs.expires_at < @now`));
  // A sweep per 64 proofs keeps the table at about one window's worth without a timer.
  if (Math.random() < 1 / 64) sweep.run(now);
  return ins.run({ scope, proof, expiresAt, now }).changes === 1;
}
