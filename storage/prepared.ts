/**
 * Drizzle builds SQL text on every call; the hot path (one command = a handful of queries) would
 * spend more time there than in SQLite. Prepared queries are cached per database handle.
 */
import type { Db } from './db.js';

const cache = new WeakMap<Db, Map<string, unknown>>();

export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let q = m.get(name) as T | undefined;
  if (q === undefined) m.set(name, (q = build(db)));
  return q;
}
