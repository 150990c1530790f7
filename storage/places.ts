/**
 * Places the deployment knows, for reading a message (README "How the bot reads what cadres type"): unit names, contact points and
 * the places of the cadre's own recent visits. Bounded, so a big ledger never makes a message
 * read slowly.
 */
import type { Db } from './db.js';

const RECENT_VISITS = 60;

export async function knownPlaces(db: Db, cadreId: number | undefined): Promise<string[]> {
  const names = (await db.all<{ name: string }>('SELECT name FROM units UNION SELECT name FROM contact_points')).map((r) => r.name);
  if (cadreId !== undefined) {
    // The newest visits through the (cadre_id, date) index: bounded however many a cadre has.
    const own = await db.all<{ place: string }>(
      `SELECT DISTINCT place FROM (SELECT place FROM visits WHERE cadre_id = ? ORDER BY date DESC LIMIT ${RECENT_VISITS}) recent`, [cadreId]);
    names.push(...own.map((r) => r.place));
  }
  return [...new Set(names)];
}
