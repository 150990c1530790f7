/**
 * Places the deployment knows, for reading a message (README "How the bot reads what cadres type"): unit names, contact points and
 * the places of the cadre's own recent visits. Bounded, so a big ledger never makes a message
 * read slowly.
 */
import type { Db } from './db.js';

const RECENT_VISITS = 60;

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
  const shared = await db.memo('known-places', ['units', 'contact_points'], async () => {
    const names = [...new Set((await db.all<{ name: string }>('SELECT name FROM units UNION SELECT name FROM contact_points')).map((r) => fold(r.name)))];
    return { names, set: new Set(names) };
  });
  if (cadreId === undefined) return { shared: shared.names, own: [] };
  // The newest visits through the (cadre_id, date) index: bounded however many a cadre has.
  const own = await db.all<{ place: string }>(
    `SELECT DISTINCT place FROM (SELECT place FROM visits WHERE cadre_id = ? ORDER BY date DESC LIMIT ${RECENT_VISITS}) recent`, [cadreId]);
  return { shared: shared.names, own: [...new Set(own.map((r) => fold(r.place)))].filter((p) => !shared.set.has(p)) };
}
