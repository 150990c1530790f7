/**
 * How tests look into the database on either dialect: by the schema's tables and keys, never
 * by SQL text of one dialect. `where` maps a column key to a value (`null` is IS NULL,
 * `NOT_NULL` is IS NOT NULL, an array is IN).
 */
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../storage/db.js';
import { rowsOf, updateRows } from '../storage/rows.js';

export const NOT_NULL = Symbol('not null');
export type Where = Record<string, unknown>;

function clause(t: SQLiteTable, where: Where): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(where)) {
    const name = (t as unknown as Record<string, { name?: string }>)[k]?.name;
    if (!name) throw new Error(`${getTableConfig(t).name} has no column ${k}`);
    const col = `"${name}"`;
    if (v === null) parts.push(`${col} IS NULL`);
    else if (v === NOT_NULL) parts.push(`${col} IS NOT NULL`);
    else if (Array.isArray(v)) { parts.push(v.length ? `${col} IN (${v.map(() => '?').join(', ')})` : '1 = 0'); params.push(...v); }
    else { parts.push(`${col} = ?`); params.push(v); }
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export async function countOf(db: Db, t: SQLiteTable, where: Where = {}): Promise<number> {
  const w = clause(t, where);
  return Number(await db.value(`SELECT count(*) FROM ${getTableConfig(t).name} ${w.sql}`, w.params));
}

/** Every matching row, typed as the schema says, ordered by `orderBy` (a column key; default the first column). */
export async function rowsWhere<T extends SQLiteTable>(db: Db, t: T, where: Where = {}, orderBy?: string): Promise<Array<T['$inferSelect']>> {
  const w = clause(t, where);
  const col = orderBy ? (t as unknown as Record<string, { name: string }>)[orderBy.replace(/ desc$/i, '')].name + (/ desc$/i.test(orderBy) ? ' DESC' : '')
    : getTableConfig(t).columns[0].name;
  return rowsOf(db, t, `${w.sql} ORDER BY ${col}`, w.params);
}

export async function oneWhere<T extends SQLiteTable>(db: Db, t: T, where: Where = {}): Promise<T['$inferSelect'] | undefined> {
  return (await rowsWhere(db, t, where))[0];
}

/** Sets columns (schema keys) on the matching rows: a test's way to age or change data. */
export async function setWhere(db: Db, t: SQLiteTable, values: Record<string, unknown>, where: Where): Promise<number> {
  const w = clause(t, where);
  return updateRows(db, t, values, w.sql.replace(/^WHERE /, '') || '1 = 1', w.params);
}
