/**
 * Places the deployment knows, for reading a message (issue 10): unit names, contact points and
 * the places of the cadre's own recent visits. Bounded, so a big ledger never makes a message
 * read slowly.
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

const RECENT_VISIT_PLACES = 200;

export function knownPlaces(db: Db, cadreId: number | undefined): string[] {
  const fixed = prepared(db, 'knownPlacesFixed', (d) => d.$client.prepare(
    'SELECT name FROM units UNION SELECT name FROM contact_points').pluck());
  const names = fixed.all() as string[];
  if (cadreId !== undefined) {
    const own = prepared(db, 'knownPlacesOwn', (d) => d.$client.prepare(
      `SELECT place FROM (SELECT place, max(id) AS last FROM visits WHERE cadre_id = ? GROUP BY place ORDER BY last DESC LIMIT ${RECENT_VISIT_PLACES})`).pluck());
    names.push(...(own.all(cadreId) as string[]));
  }
  return [...new Set(names)];
}
