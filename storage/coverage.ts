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
 * PostgreSQL gets the same list as an array (`= ANY`), which its planner also turns into index
 * seeks on the partial index. Lists of ids or names are passed the same way: a JSON array read
 * with json_each on SQLite, a bound array on PostgreSQL.
 */
const anyKind = (db: Db) => (db.dialect === 'postgres' ? 'v.kind = ANY(?::text[])' : 'v.kind IN (SELECT value FROM json_each(?))');
const KINDS_JSON = JSON.stringify(VISIT_KINDS);
const kinds = (db: Db): unknown => (db.dialect === 'postgres' ? [...VISIT_KINDS] : KINDS_JSON);
/** A list parameter: a JS array on PostgreSQL, its JSON text on SQLite. */
const list = (db: Db, xs: unknown[]): unknown => (db.dialect === 'postgres' ? xs : JSON.stringify(xs));

export interface CoverageCadre { id: number; name: string; unit: string; rank: 'leader' | 'staff'; createdAt: number }

/** Active cadres of the unit and everything below it, in unit order. */
export function activeCadresUnder(db: Db, unitPath: string): Promise<CoverageCadre[]> {
  return db.all<CoverageCadre>(`SELECT c.id, c.name, u.name AS unit, c.rank, c.created_at AS "createdAt" FROM cadres c
    JOIN units u ON u.id = c.unit_id WHERE c.active = TRUE AND u.path LIKE ? ORDER BY u.path, c.id`, [unitPath + '%']);
}

/**
 * Cadres of the subtree (`null`: everyone) with at least one counted visit in [from, to]. The ids
 * come back as one array value (a row per cadre would cost more than the query for a county):
 * json_group_array on SQLite, array_agg on PostgreSQL.
 */
export async function cadresWhoVisited(db: Db, unitPath: string | null, from: string, to: string): Promise<Set<number>> {
  const scope = unitPath
    ? ' AND v.cadre_id IN (SELECT c.id FROM cadres c JOIN units u ON u.id = c.unit_id WHERE u.path LIKE ?)' : '';
  const ids = await db.value<string | number[] | null>(`SELECT ${db.dialect === 'postgres' ? 'array_agg(x.id)' : 'json_group_array(x.id)'}
    FROM (SELECT DISTINCT v.cadre_id AS id FROM visits v WHERE ${anyKind(db)} AND v.date BETWEEN ? AND ? AND ${COUNTED}${scope}) x`,
  [kinds(db), from, to, ...(unitPath ? [unitPath + '%'] : [])]);
  return new Set(typeof ids === 'string' ? JSON.parse(ids) as number[] : ids ?? []);
}

export interface CoveragePoint { id: number; name: string; kind: string; unit: string; cadre: string | null; visited: boolean }

/**
 * The contact points of the subtree, each marked visited when a counted visit in [from, to] was
 * made there: `visits.contact_point_id` names it, or the visit's place is the point's name.
 */
export async function contactPointCoverage(db: Db, unitPath: string, from: string, to: string): Promise<CoveragePoint[]> {
  const points = await db.all<Omit<CoveragePoint, 'visited'>>(`SELECT p.id, p.name, p.kind, u.name AS unit, c.name AS cadre FROM contact_points p
    JOIN units u ON u.id = p.unit_id LEFT JOIN cadres c ON c.id = p.cadre_id
    WHERE u.path LIKE ? ORDER BY u.path, p.name`, [unitPath + '%']);
  if (!points.length) return [];
  const pg = db.dialect === 'postgres';
  // Places first, from the index of counted visits (place has no index of its own) …
  const names = [...new Set(points.map((p) => p.name))];
  const places = new Set((await db.all<{ place: string }>(`SELECT DISTINCT v.place FROM visits v
    WHERE ${anyKind(db)} AND v.date BETWEEN ? AND ? AND ${COUNTED}
      AND ${pg ? 'v.place = ANY(?::text[])' : 'v.place IN (SELECT value FROM json_each(?))'}`,
  [kinds(db), from, to, list(db, names)])).map((r) => r.place));
  // … then visits that name a point still missing. SQLite: one plain pass over the table
  // (NOT INDEXED), which beats walking the date index and reading every row behind it
  // (contact_point_id has no index). PostgreSQL's planner makes that choice by itself.
  const missing = points.filter((p) => !places.has(p.name)).map((p) => p.id);
  const ids = new Set(missing.length ? (await db.all<{ id: number }>(pg
    ? `SELECT DISTINCT v.contact_point_id AS id FROM visits v
       WHERE v.contact_point_id = ANY(?::int[]) AND v.date BETWEEN ? AND ? AND ${COUNTED}`
    : `SELECT DISTINCT v.contact_point_id AS id FROM visits v NOT INDEXED
       WHERE v.contact_point_id IN (SELECT value FROM json_each(?)) AND v.date BETWEEN ? AND ? AND ${COUNTED}`,
  [list(db, missing), from, to])).map((r) => r.id) : []);
  return points.map((p) => ({ ...p, visited: ids.has(p.id) || places.has(p.name) }));
}
