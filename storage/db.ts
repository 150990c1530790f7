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

interface Job { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }
const queues = new WeakMap<Db, { jobs: Job[]; scheduled: boolean }>();

/**
 * Group commit: write commands that arrive while the event loop is busy share one commit, each in
 * its own savepoint — so every command is still all-or-nothing (a failing one rolls back alone),
 * and none is answered before the commit that makes it durable. A lone command waits one turn.
 */
export function inGroupCommit<T>(db: Db, fn: () => T): Promise<T> {
  let q = queues.get(db);
  if (!q) queues.set(db, (q = { jobs: [], scheduled: false }));
  const queue = q;
  return new Promise<T>((resolve, reject) => {
    queue.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    if (queue.scheduled) return;
    queue.scheduled = true;
    setImmediate(() => {
      queue.scheduled = false;
      const jobs = queue.jobs.splice(0);
      let outcomes: Array<{ ok: boolean; v: unknown }>;
      try {
        outcomes = inTransaction(db, () => jobs.map((j) => {
          try { return { ok: true, v: inTransaction(db, j.fn) }; } catch (e) { return { ok: false, v: e }; }
        }));
      } catch (e) {
        for (const j of jobs) j.reject(e);
        return;
      }
      outcomes.forEach((o, i) => (o.ok ? jobs[i].resolve(o.v) : jobs[i].reject(o.v)));
    });
  });
}
