/**
 * Places the deployment knows, for reading a message (README "How the bot reads what cadres type"): unit names, contact points and
 * the places of the cadre's own recent visits. Bounded, so a big ledger never makes a message
 * read slowly.
 */
import type { Db } from './db.js';

const RECENT_VISITS = 60;
/**
 * On PostgreSQL (where no write of another process is seen) the shared names may be this old: a
 * unit or contact point added elsewhere is looked for by the reader within 10 s; meanwhile a
 * message naming it reads the place by its shape (…村, …社区) or is asked. Reading tens of
 * thousands of names for every message would cost more than the message.
 */
const SHARED_STALE_MS = 10_000;

// Names folded one way are kept apart from names folded another (a key per fold function).
const foldIds = new WeakMap<(name: string) => string, number>();
const foldId = (fold: (name: string) => string): number => {
  let id = foldIds.get(fold);
  if (id === undefined) foldIds.set(fold, (id = nextFoldId++));
  return id;
};
let nextFoldId = 1;

/** The names every message may mention, and this cadre's own others. */
export interface KnownPlaces {
  /** Units and contact points: the same array while neither table changes. */
  shared: readonly string[];
  /** The cadre's recent visit places not among `shared`. */
  own: string[];
}

/**
 * `fold` puts a name into the form the reader matches (the caller's normalisation). The unit and
 * contact point names are read and folded once while neither table changes (`db.memo`): a
 * province has tens of thousands of them and every message reads them.
 */
export async function knownPlaces(db: Db, cadreId: number | undefined, fold: (name: string) => string): Promise<KnownPlaces> {
  const shared = await db.memo(`known-places:${foldId(fold)}`, ['units', 'contact_points'], async (via) => {
    const names = [...new Set((await via.all<{ name: string }>('SELECT name FROM units UNION SELECT name FROM contact_points')).map((r) => fold(r.name)))];
    return { names, set: new Set(names) };
  }, { staleMs: SHARED_STALE_MS });
  if (cadreId === undefined) return { shared: shared.names, own: [] };
  // The newest visits through the (cadre_id, date) index: bounded however many a cadre has.
  const own = await db.all<{ place: string }>(
    `SELECT DISTINCT place FROM (SELECT place FROM visits WHERE cadre_id = ? ORDER BY date DESC LIMIT ${RECENT_VISITS}) recent`, [cadreId]);
  return { shared: shared.names, own: [...new Set(own.map((r) => fold(r.place)))].filter((p) => !shared.set.has(p)) };
}
