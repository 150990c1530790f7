/**
 * Opening the database: WAL (readers never block the writer, and a crash loses nothing that
 * was committed), migrations applied automatically, one handle per process.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export function openDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL is durable against a crash of the process; only power loss can drop the
  // last transactions, and it never corrupts the file.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema }) as Db;
  migrate(db, { migrationsFolder });
  return db;
}

const runners = new WeakMap<Db, Database.Transaction<(fn: () => unknown) => unknown>>();

/** Runs `fn` in one immediate transaction: all of it is written, or none of it. */
export function inTransaction<T>(db: Db, fn: () => T): T {
  let run = runners.get(db);
  // One wrapper per handle: building better-sqlite3's wrapper per call costs more than a commit.
  if (!run) runners.set(db, (run = db.$client.transaction((f: () => unknown) => f())));
  return run.immediate(fn) as T;
}
