/**
 * Places the deployment knows, for reading a message (README "How the bot reads what cadres type"): unit names, contact points and
 * the places of the cadre's own recent visits. Bounded, so a big ledger never makes a message
 * read slowly.
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

const RECENT_VISITS = 60;

export function knownPlaces(db: Db, cadreId: number | undefined): string[] {
  const fixed = prepared(db, 'knownPlacesFixed', (d) => d.$client.prepare(
    'SELECT name FROM units UNION SELECT name FROM contact_points').pluck());
  const names = fixed.all() as string[];
  if (cadreId !== undefined) {
    const own = prepared(db, 'knownPlacesOwn', (d) => d.$client.prepare(
      // The newest visits through the (cadre_id, date) index: bounded however many a cadre has.
      `SELECT DISTINCT place FROM (SELECT place FROM visits WHERE cadre_id = ? ORDER BY date DESC LIMIT ${RECENT_VISITS})`).pluck());
    names.push(...(own.all(cadreId) as string[]));
  }
  return [...new Set(names)];
}
