/** Turns "this cadre" into a platform account to send to — the same way for replies and reminders. */
import type { Db } from '../storage/db.js';
import { accountsOf } from '../storage/identity.js';
import type { Reply } from './reply.js';

/** The reply addressed to one of the cadre's accounts (preferring `platform`); null if they have none. */
export async function addressCadre(db: Db, reply: Reply, platform?: string): Promise<Reply | null> {
  if (reply.cadreId === undefined) return reply;
  return addressTo(reply, await accountsOf(db, reply.cadreId), platform);
}

/** {@link addressCadre} with the cadre's accounts at hand (`accs`, as accountsOf lists them; accountsOfMany for a batch). */
export function addressTo(reply: Reply, accs: ReadonlyArray<{ platform: string; accountId: string }>, platform?: string): Reply | null {
  if (reply.cadreId === undefined) return reply;
  const acc = accs.find((a) => a.platform === platform) ?? accs[0];
  if (!acc) return null;
  const { cadreId: _, ...rest } = reply;
  return { ...rest, target: acc.accountId, platform: acc.platform };
}
