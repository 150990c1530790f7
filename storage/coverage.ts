/**
 * The data of 时间、空间、人员三个全覆盖 (docs/rules.md#coverage): which cadres visited in a span, which
 * contact points were reached, for a unit with its sub-units. Only counted visits count (not
 * voided, not returned, not waiting for /核查).
 */
import type { Db } from './db.js';
import { VISIT_KINDS } from './types.js';

const COUNTED = `v.status IN ('ok','verified') AND v.voided_at IS NULL`;
/**
 * Naming every kind lets SQLite seek the partial index of counted visits (kind, date, …) kind by
 * kind and answer from the index alone; without that index the date index serves as before.
 */
const ANY_KIND = 'v.kind IN (SELECT value FROM json_each(?))';
const KINDS = JSON.stringify(VISIT_KINDS);

export interface CoverageCadre { id: number; name: string; unit: string; rank: 'leader' | 'staff'; createdAt: number }

/** Active cadres of the unit and everything below it, in unit order. */
export function activeCadresUnder(db: Db, unitPath: string): CoverageCadre[] {
  return db.$client.prepare(`SELECT c.id, c.name, u.name AS unit, c.rank, c.created_at AS createdAt FROM cadres c
    JOIN units u ON u.id = c.unit_id WHERE c.active = 1 AND u.path LIKE ? ORDER BY u.path, c.id`).all(unitPath + '%') as CoverageCadre[];
}

/** Cadres of the subtree (`null`: everyone) with at least one counted visit in [from, to]. */
export function cadresWhoVisited(db: Db, unitPath: string | null, from: string, to: string): Set<number> {
  const scope = unitPath
    ? ' AND v.cadre_id IN (SELECT c.id FROM cadres c JOIN units u ON u.id = c.unit_id WHERE u.path LIKE ?)' : '';
  const ids = db.$client.prepare(`SELECT DISTINCT v.cadre_id FROM visits v
    WHERE ${ANY_KIND} AND v.date BETWEEN ? AND ? AND ${COUNTED}${scope}`).pluck().all(KINDS, from, to, ...(unitPath ? [unitPath + '%'] : [])) as number[];
  return new Set(ids);
}

export interface CoveragePoint { id: number; name: string; kind: string; unit: string; cadre: string | null; visited: boolean }

/**
 * The contact points of the subtree, each marked visited when a counted visit in [from, to] was
 * made there: `visits.contact_point_id` names it, or the visit's place is the point's name.
 */
export function contactPointCoverage(db: Db, unitPath: string, from: string, to: string): CoveragePoint[] {
  const points = db.$client.prepare(`SELECT p.id, p.name, p.kind, u.name AS unit, c.name AS cadre FROM contact_points p
    JOIN units u ON u.id = p.unit_id LEFT JOIN cadres c ON c.id = p.cadre_id
    WHERE u.path LIKE ? ORDER BY u.path, p.name`).all(unitPath + '%') as Array<Omit<CoveragePoint, 'visited'>>;
  if (!points.length) return [];
  // Places first, from the index of counted visits (place has no index of its own) …
  const names = JSON.stringify([...new Set(points.map((p) => p.name))]);
  const places = new Set(db.$client.prepare(`SELECT DISTINCT v.place FROM visits v
    WHERE ${ANY_KIND} AND v.date BETWEEN ? AND ? AND ${COUNTED} AND v.place IN (SELECT value FROM json_each(?))`)
    .pluck().all(KINDS, from, to, names) as string[]);
  // … then visits that name a point still missing: one plain pass over the table, which beats
  // walking the date index and reading every row behind it (contact_point_id has no index).
  const missing = points.filter((p) => !places.has(p.name)).map((p) => p.id);
  const ids = new Set(missing.length ? db.$client.prepare(`SELECT DISTINCT v.contact_point_id FROM visits v NOT INDEXED
    WHERE v.contact_point_id IN (SELECT value FROM json_each(?)) AND v.date BETWEEN ? AND ? AND ${COUNTED}`)
    .pluck().all(JSON.stringify(missing), from, to) as number[] : []);
  return points.map((p) => ({ ...p, visited: ids.has(p.id) || places.has(p.name) }));
}
