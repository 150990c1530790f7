/**
 * Shared by the benchmarks: where a part's database is, fast raw seeding (the command path is
 * measured separately), progress, percentiles.
 *
 * Seeding on SQLite goes straight through the better-sqlite3 handle (one prepared statement, a
 * transaction per 50,000 rows); on PostgreSQL through multi-row `INSERT … VALUES` of a thousand
 * rows, a transaction per 50,000 — a million visits in a thousand round trips, not a million.
 */
import { Presets, SingleBar } from 'cli-progress';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays } from '../bot/time.js';
import { isPostgresUrl, openDb, type Db } from '../storage/db.js';

/**
 * The benches' clock for "this month": the afternoon of the last day of November 2026, with
 * visits seeded over the 365 days up to that day, so "本月" is a whole month of data whatever
 * day the bench runs (with the real date, on the 2nd of a month it would be two days).
 */
export const BENCH_AT = new Date('2026-11-30T15:00:00+08:00');
export const BENCH_TODAY = '2026-11-30';

/** A progress bar on stderr (stdout carries the figures). */
export function progressBar(label: string, total: number): SingleBar {
  const b = new SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: process.stderr }, Presets.shades_classic);
  b.start(total, 0);
  return b;
}

/** The p-th percentile (nearest rank) of values sorted ascending; 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : 0;
}

export interface BenchDb {
  db: Db;
  /** What `openDb` was given: a file in `dir`, or the PostgreSQL URL with the part's own schema. */
  target: string;
  /** A temporary folder of the part's own (exports, request files; the SQLite file). */
  dir: string;
  /** Drops the part's schema (PostgreSQL), closes the database and removes `dir`. */
  dispose(): Promise<void>;
}

/**
 * A fresh, migrated database for one bench part. `base` is the bot's `MINQING_DB`: a PostgreSQL
 * URL gives the part a schema of its own in that database (dropped by `dispose`), so it starts
 * empty and leaves the bot's tables alone; anything else (or nothing) a SQLite file in a
 * temporary folder.
 */
export async function openBenchDb(base: string | undefined, name: string): Promise<BenchDb> {
  const dir = mkdtempSync(join(tmpdir(), 'minqing-bench-'));
  let target = join(dir, `${name}.db`);
  if (base && isPostgresUrl(base)) {
    const u = new URL(base);
    u.searchParams.set('schema', `bench_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`);
    target = u.toString();
  }
  const db = await openDb(target);
  return {
    db, target, dir,
    dispose: async () => {
      try {
        if (db.dialect === 'postgres' && db.schema) await db.run(`DROP SCHEMA IF EXISTS ${db.schema} CASCADE`);
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Planner statistics after a bulk load, as a deployment keeps them: `ANALYZE` then `PRAGMA
 * optimize` on SQLite (a fresh file has no sqlite_stat1, and a plain `PRAGMA optimize` only
 * looks at tables this connection has queried), `ANALYZE` of the part's tables on PostgreSQL
 * (what autovacuum would run after a load this size).
 */
export async function optimize(db: Db): Promise<void> {
  if (db.dialect === 'sqlite') {
    db.sqlite!.exec('ANALYZE');
    db.sqlite!.pragma('optimize');
  } else for (const t of await ownTables(db)) await db.run(`ANALYZE "${t}"`);
}

/** PostgreSQL: `VACUUM` of the part's tables (the visibility map, which index-only scans need). */
export async function vacuum(db: Db): Promise<void> {
  if (db.dialect === 'postgres') for (const t of await ownTables(db)) await db.run(`VACUUM "${t}"`);
}

/** PostgreSQL: the tables of this handle's schema — not the whole database, which others share. */
async function ownTables(db: Db): Promise<string[]> {
  return (await db.all<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename')).map((r) => r.t);
}

/** Rows per `INSERT … VALUES` on PostgreSQL (a thousand rows stay far below its 65,535 parameters). */
const PG_ROWS = 1000;
/** Rows per transaction. */
export const COMMIT_ROWS = 50_000;

const sqliteValue = (v: unknown): unknown => (v === true ? 1 : v === false ? 0 : v);

/**
 * Inserts `rows` in one transaction: `head` is `INSERT INTO t (…)`, `row` one row's
 * `(?, ?, 'const', …)`. SQLite: one prepared statement run per row on the raw handle.
 * PostgreSQL: `VALUES row, row, …` a thousand rows at a time.
 */
export async function insertRows(db: Db, head: string, row: string, rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  if (db.dialect === 'sqlite') {
    const c = db.sqlite!;
    const ins = c.prepare(`${head} VALUES ${row}`);
    c.transaction(() => { for (const r of rows) ins.run(...r.map(sqliteValue)); })();
    return;
  }
  await db.withWrite(async (tx) => {
    for (let k = 0; k < rows.length; k += PG_ROWS) {
      const part = rows.slice(k, k + PG_ROWS);
      await tx.run(`${head} VALUES ${Array<string>(part.length).fill(row).join(', ')}`, part.flat());
    }
  });
}

/**
 * PostgreSQL: rows inserted with explicit ids leave the table's identity sequence behind; this
 * moves it past them, so the next row the bot inserts gets a fresh id. (SQLite takes max + 1.)
 */
export async function syncIds(db: Db, ...tables: string[]): Promise<void> {
  if (db.dialect !== 'postgres') return;
  for (const t of tables) await db.value(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT max(id) FROM ${t}))`);
}

const KINDS = ['household', 'village', 'residency', 'enterprise', 'meeting', 'briefing', 'talk', 'other'];

/** Seeds `units` units (a root, townships, villages) and `cadres` cadres bound to console:c<i>. */
export async function seedRoster(db: Db, units: number, cadres: number, at = Date.now()): Promise<void> {
  const townships = Math.max(1, Math.round(Math.sqrt(units)));
  const unitRows: unknown[][] = [[1, '基准县', null, '/1/', at]];
  for (let i = 2; i <= units; i++) {
    const parent = i <= townships + 1 ? 1 : 2 + ((i - townships - 2) % townships);
    const path = parent === 1 ? `/1/${i}/` : `/1/${parent}/${i}/`;
    unitRows.push([i, `单位${i}`, parent, path, at]);
  }
  await insertRows(db, 'INSERT INTO units (id, name, parent_id, path, created_at)', '(?, ?, ?, ?, ?)', unitRows);
  const pg = db.dialect === 'postgres';
  const phone = pg ? '(13000000000 + i)::text' : 'CAST(13000000000 + i AS TEXT)';
  for (let start = 1; start <= cadres; start += COMMIT_ROWS) {
    const range = [start, Math.min(cadres, start + COMMIT_ROWS - 1)];
    await db.run(`${series(db)} INSERT INTO cadres (id, name, phone, unit_id, rank, resident_worker, is_admin, created_at)
      SELECT i, '干部' || i, ${phone}, 1 + i % ?, CASE WHEN i % 10 = 0 THEN 'leader' ELSE 'staff' END, i % 7 = 0, i = 1, ? FROM s`, [...range, units, at]);
    await db.run(`${series(db)} INSERT INTO accounts (platform, account_id, cadre_id, created_at) SELECT 'console', 'c' || i, i, ? FROM s`, [...range, at]);
  }
  await syncIds(db, 'units', 'cadres');
}

/**
 * `WITH s(i) AS (the integers from ? to ?)`, to start an `INSERT … SELECT … FROM s` that makes
 * its rows in the database: a chunk of 50,000 rows is one statement, with nothing per row to
 * bind, send or parse (on PostgreSQL a million visits in a fraction of the time of VALUES lists).
 */
function series(db: Db): string {
  return db.dialect === 'postgres'
    ? 'WITH s(i) AS (SELECT generate_series(?::bigint, ?::bigint))'
    : 'WITH RECURSIVE s(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM s WHERE i < ?)';
}

/**
 * Seeds visits spread over the `spreadDays` days up to `today` (by default a year: a twelfth a
 * month). Visit i (from 0) is cadre 1 + (i·7919 mod cadres) in that cadre's unit, on `today`
 * minus (i mod spreadDays) days, kind i mod 8, 2 + (i mod 7) hours, i mod 4 households, at
 * 地点(i mod 3000).
 */
export async function seedVisits(db: Db, visits: number, cadres: number, units: number, today: string, progress?: SingleBar, spreadDays = 365): Promise<void> {
  const pg = db.dialect === 'postgres';
  const date = pg ? "to_char(?::date - (i % ?)::int, 'YYYY-MM-DD')" : "date(?, '-' || (i % ?) || ' days')";
  const kind = `CASE i % 8 ${KINDS.map((k, n) => `WHEN ${n} THEN '${k}'`).join(' ')} END`;
  for (let start = 0; start < visits; start += COMMIT_ROWS) {
    const end = Math.min(visits, start + COMMIT_ROWS) - 1;
    await db.run(`${series(db)} INSERT INTO visits (cadre_id, unit_id, date, hours, place, status, backdated, platform, created_at, kind, households, content)
      SELECT c, 1 + c % ?, ${date}, 2 + i % 7, '地点' || (i % 3000), 'ok', FALSE, 'bench', ?, ${kind}, i % 4, ''
      FROM (SELECT i, 1 + (i * 7919) % ? AS c FROM s) v`, [start, end, units, today, spreadDays, Date.now(), cadres]);
    progress?.update(end + 1);
  }
}

/** A small seeded generator (mulberry32): the same load, or the same kill points, on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A process's user + system CPU seconds so far (Linux /proc; undefined elsewhere or once it is gone). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
