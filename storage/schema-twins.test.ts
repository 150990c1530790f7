/**
 * `schema.ts` (SQLite) and `schema-pg.ts` (PostgreSQL) describe one database twice; this keeps
 * them twins: the same exported tables, column names, nullability, defaults, enum values, primary
 * keys and indexes (names, uniqueness, columns, partial or not), and column types that differ
 * only as `schema-pg.ts` says (instants → bigint, flags → boolean, real → double precision).
 */
import { describe, expect, it } from 'vitest';
import { is, SQL, type Column } from 'drizzle-orm';
import { getTableConfig as sqliteConfig, SQLiteTable, sqliteTable, integer as sqliteInteger, text as sqliteText, index as sqliteIndex } from 'drizzle-orm/sqlite-core';
import { getTableConfig as pgConfig, PgTable, pgTable, integer as pgInteger, text as pgText, index as pgIndex } from 'drizzle-orm/pg-core';
import * as sqliteSchema from './schema.js';
import * as pgSchema from './schema-pg.js';

interface ColumnShape { key: string; name: string; type: string; notNull: boolean; hasDefault: boolean; default: unknown; primary: boolean; enumValues: string[] | undefined }
interface TableShape {
  name: string;
  columns: ColumnShape[];
  primaryKeys: string[][];
  indexes: Array<{ name: string; unique: boolean; columns: string[]; partial: boolean }>;
}

/** The dialect-neutral type a column must have on both sides (see schema-pg.ts). */
const SQLITE_TYPES: Record<string, string> = { SQLiteInteger: 'integer', SQLiteBoolean: 'boolean', SQLiteReal: 'float', SQLiteText: 'text' };
const PG_TYPES: Record<string, string> = { PgInteger: 'integer', PgBigInt53: 'instant', PgBoolean: 'boolean', PgDoublePrecision: 'float', PgText: 'text' };
/** An epoch-millisecond column: `at` or a name ending in `_at`. */
const isInstant = (name: string) => name === 'at' || name.endsWith('_at');

const indexColumn = (c: unknown): string => (is(c, SQL) ? '<expression>' : (c as { name: string }).name);

function columnShape(key: string, c: Column, types: Record<string, string>): ColumnShape {
  let type = types[c.columnType] ?? `unknown:${c.columnType}`;
  // SQLite keeps instants in `integer`; which ones they are is said by the name.
  if (type === 'integer' && c.columnType === 'SQLiteInteger' && isInstant(c.name)) type = 'instant';
  return {
    key, name: c.name, type, notNull: c.notNull, hasDefault: c.hasDefault, default: c.default, primary: c.primary,
    enumValues: c.enumValues && c.enumValues.length > 0 ? [...c.enumValues] : undefined,
  };
}

function describeSqlite(table: SQLiteTable): TableShape {
  const cfg = sqliteConfig(table);
  const keys = new Map(Object.entries(table as unknown as Record<string, Column>).filter(([, v]) => cfg.columns.includes(v as never)).map(([k, v]) => [v, k]));
  return {
    name: cfg.name,
    columns: cfg.columns.map((c) => columnShape(keys.get(c) ?? '?', c, SQLITE_TYPES)),
    primaryKeys: cfg.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    indexes: cfg.indexes.map((i) => ({ name: i.config.name, unique: i.config.unique, columns: i.config.columns.map(indexColumn), partial: i.config.where !== undefined }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

function describePg(table: PgTable): TableShape {
  const cfg = pgConfig(table);
  const keys = new Map(Object.entries(table as unknown as Record<string, Column>).filter(([, v]) => cfg.columns.includes(v as never)).map(([k, v]) => [v, k]));
  return {
    name: cfg.name,
    columns: cfg.columns.map((c) => columnShape(keys.get(c) ?? '?', c, PG_TYPES)),
    primaryKeys: cfg.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    indexes: cfg.indexes.map((i) => ({ name: i.config.name ?? '<unnamed>', unique: i.config.unique, columns: i.config.columns.map(indexColumn), partial: i.config.where !== undefined }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const tablesOf = <T>(mod: Record<string, unknown>, kind: new (...args: never[]) => T): Map<string, T> =>
  new Map(Object.entries(mod).filter(([, v]) => is(v, kind as never)).map(([k, v]) => [k, v as T]));

const sqliteTables = tablesOf(sqliteSchema, SQLiteTable);
const pgTables = tablesOf(pgSchema, PgTable);

describe('schema.ts and schema-pg.ts are twins', () => {
  it('export the same tables under the same names', () => {
    expect(sqliteTables.size).toBeGreaterThan(0);
    expect([...pgTables.keys()].sort()).toEqual([...sqliteTables.keys()].sort());
  });

  for (const [key, table] of sqliteTables) {
    it(`${key}: same table, columns, types, keys and indexes`, () => {
      const pg = pgTables.get(key);
      expect(pg, `schema-pg.ts does not export ${key}`).toBeDefined();
      const a = describeSqlite(table);
      const b = describePg(pg!);
      expect(b.name).toBe(a.name);
      // Column names first, for a readable failure when one is missing or misspelt.
      expect(b.columns.map((c) => c.name)).toEqual(a.columns.map((c) => c.name));
      expect(b.columns).toEqual(a.columns);
      expect(b.primaryKeys).toEqual(a.primaryKeys);
      expect(b.indexes.map((i) => i.name)).toEqual(a.indexes.map((i) => i.name));
      expect(b.indexes).toEqual(a.indexes);
    });
  }

  it('every column has a known type on both sides', () => {
    const shapes = [...[...sqliteTables.values()].map(describeSqlite), ...[...pgTables.values()].map(describePg)];
    for (const t of shapes) for (const c of t.columns) expect(c.type, `${t.name}.${c.name}`).not.toMatch(/^unknown/);
  });

  it('notices a drift (the comparison is not vacuous)', () => {
    const s = sqliteTable('t', { id: sqliteInteger('id').primaryKey(), a: sqliteText('a'), at: sqliteInteger('at') }, (t) => [sqliteIndex('t_a').on(t.a)]);
    const same = pgTable('t', { id: pgInteger('id').primaryKey(), a: pgText('a'), at: pgInteger('at') }, (t) => [pgIndex('t_a').on(t.a)]);
    const missingColumn = pgTable('t', { id: pgInteger('id').primaryKey(), at: pgInteger('at') });
    const otherIndex = pgTable('t', { id: pgInteger('id').primaryKey(), a: pgText('a'), at: pgInteger('at') }, (t) => [pgIndex('t_b').on(t.a)]);
    // `at` is an instant: int4 on PostgreSQL is the drift this twin exists to avoid.
    expect(describePg(same)).not.toEqual(describeSqlite(s));
    expect(describePg(missingColumn).columns.map((c) => c.name)).not.toEqual(describeSqlite(s).columns.map((c) => c.name));
    expect(describePg(otherIndex).indexes.map((i) => i.name)).not.toEqual(describeSqlite(s).indexes.map((i) => i.name));
  });
});
