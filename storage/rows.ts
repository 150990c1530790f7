/**
 * Whole rows of a table as the schema's TypeScript type, on either dialect: the select list
 * aliases every column to its camelCase key (quoted, or PostgreSQL would fold it to lower case),
 * and boolean columns read as JS booleans (SQLite hands back 0/1). Built once per table.
 */
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db, Params } from './db.js';

interface Shape { list: string; booleans: string[]; table: string }
const shapes = new WeakMap<SQLiteTable, Shape>();

function shapeOf(t: SQLiteTable): Shape {
  let s = shapes.get(t);
  if (!s) {
    const c = getTableConfig(t);
    const keys = new Map(Object.entries(t).map(([k, col]) => [(col as { name?: string }).name, k]));
    const cols = c.columns.map((col) => ({ name: col.name, key: keys.get(col.name) ?? col.name, bool: col.dataType === 'boolean' }));
    s = {
      table: c.name,
      // Quoted: some column names are SQL words (`to`).
      list: cols.map((x) => (x.key === x.name ? `"${x.name}"` : `"${x.name}" AS "${x.key}"`)).join(', '),
      booleans: cols.filter((x) => x.bool).map((x) => x.key),
    };
    shapes.set(t, s);
  }
  return s;
}

/** `col, col AS "key", …` for every column of `t`, optionally prefixed with a table alias. */
export function selectList(t: SQLiteTable, alias?: string): string {
  const s = shapeOf(t);
  return alias ? s.list.split(', ').map((x) => `${alias}.${x}`).join(', ') : s.list;
}

/** Turns a raw row of `t` (selected with `selectList`) into its typed shape. */
export function typed<T>(t: SQLiteTable, row: Record<string, unknown> | undefined): T | undefined {
  if (!row) return undefined;
  for (const k of shapeOf(t).booleans) if (k in row && row[k] !== null) row[k] = !!row[k];
  return row as T;
}

/** `SELECT <every column> FROM <t> <rest>` — one row. */
export async function rowOf<T extends SQLiteTable>(db: Db, t: T, rest: string, params: Params = []): Promise<T['$inferSelect'] | undefined> {
  const s = shapeOf(t);
  return typed(t, await db.get(`SELECT ${s.list} FROM ${s.table} ${rest}`, params));
}

/** `SELECT <every column> FROM <t> <rest>` — every row. */
export async function rowsOf<T extends SQLiteTable>(db: Db, t: T, rest: string, params: Params = []): Promise<Array<T['$inferSelect']>> {
  const s = shapeOf(t);
  const rows = await db.all<Record<string, unknown>>(`SELECT ${s.list} FROM ${s.table} ${rest}`, params);
  if (s.booleans.length) for (const r of rows) typed(t, r);
  return rows as Array<T['$inferSelect']>;
}

/**
 * `col IN <values>` on either dialect: a JSON text walked by `json_each` on SQLite, an array on
 * PostgreSQL (`int[]` or `text[]`, as `type` says) — one parameter however long the list.
 */
export function inList(db: Db, col: string, values: readonly (number | string)[], type: 'int' | 'text' = 'int'): { sql: string; params: unknown[] } {
  return db.dialect === 'postgres'
    ? { sql: `${col} = ANY(?::${type}[])`, params: [[...values]] }
    : { sql: `${col} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(values)] };
}

/** The quoted column names and values of `values` (schema keys; undefined ones left out). */
function columnsOf(t: SQLiteTable, values: Record<string, unknown>): { table: string; cols: string[]; params: unknown[] } {
  const table = getTableConfig(t).name;
  const cols: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const col = (t as unknown as Record<string, { name: string }>)[k];
    if (!col?.name) throw new Error(`${table} has no column ${k}`);
    cols.push(`"${col.name}"`);
    params.push(v);
  }
  return { table, cols, params };
}

/**
 * `INSERT INTO t (…) VALUES (…)` from an object keyed like the schema (undefined keys left out,
 * so column defaults apply). `tail`: e.g. `RETURNING id`, whose value is then returned.
 */
export async function insertRow(db: Db, t: SQLiteTable, values: Record<string, unknown>, tail = ''): Promise<number> {
  const { table, cols, params } = columnsOf(t, values);
  const text = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ${tail}`;
  return tail.includes('RETURNING') ? Number(await db.value(text, params)) : db.run(text, params);
}

/** `UPDATE t SET … WHERE <where>` from an object keyed like the schema. */
export async function updateRows(db: Db, t: SQLiteTable, values: Record<string, unknown>, where: string, whereParams: Params = []): Promise<number> {
  const { table, cols, params } = columnsOf(t, values);
  if (!cols.length) return 0;
  return db.run(`UPDATE ${table} SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE ${where}`, [...params, ...whereParams]);
}
