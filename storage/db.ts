/**
 * The one storage handle, SQLite or PostgreSQL, chosen by configuration (`openDb`). Every query
 * is a promise; storage functions write SQL with `?` placeholders that both dialects accept, and
 * pick a dialect's twin (`db.dialect`) only where the SQL itself differs. Handlers never see it.
 *
 * Writes that belong together run in `withWrite(async (tx) => …)`: all of it or none of it.
 * - SQLite: one writer. Commands arriving while the event loop is busy share one commit (group
 *   commit), each in its own savepoint, so a failing one rolls back alone and none is answered
 *   before the commit that makes it durable. Queries are prepared once per text.
 * - PostgreSQL: a real transaction on a pooled connection, retried on a serialization failure or
 *   a deadlock; the record-once claim is a unique key with `ON CONFLICT DO NOTHING`.
 *
 * Rows come back with the column names (or quoted aliases) as written. Numbers are numbers on
 * both: PostgreSQL's bigint and numeric are parsed to JS numbers (milliseconds stay well inside
 * 2^53). Booleans are 0/1 on SQLite and true/false on PostgreSQL: read them with `!!`, write them
 * as JS booleans (SQLite stores 1/0) and compare them in SQL as `= TRUE` / `= FALSE`.
 */
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Checkpointer, SAFETY_NET_PAGES } from './checkpoint.js';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Dialect = 'sqlite' | 'postgres';

/** The reference tables {@link Db.memo} can watch; each write to them is counted on SQLite. */
export const WATCHED_TABLES = ['units', 'contact_points', 'cadres', 'accounts', 'chat_groups'] as const;
export type WatchedTable = typeof WATCHED_TABLES[number];
export type Params = readonly unknown[];

export interface Db {
  readonly dialect: Dialect;
  /** True inside `withWrite`. */
  readonly inTransaction: boolean;
  all<T = Record<string, unknown>>(text: string, params?: Params): Promise<T[]>;
  get<T = Record<string, unknown>>(text: string, params?: Params): Promise<T | undefined>;
  /** The first column of the first row (`INSERT … RETURNING id`, `SELECT count(*) …`). */
  value<T = unknown>(text: string, params?: Params): Promise<T | undefined>;
  /** Runs a write; the number of rows it changed. */
  run(text: string, params?: Params): Promise<number>;
  /** Runs `fn` all-or-nothing; inside a transaction already, `fn` simply joins it. */
  withWrite<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * What `read` returns, kept under `key` while none of `tables` changes: for the reference data
   * every message reads (who is speaking, the known place names), which changes rarely. SQLite
   * keeps it (see {@link SqliteDb.memo}); PostgreSQL reads every time — other processes write
   * there and nothing tells this one — unless `staleMs` allows a value that old (for what may
   * lag a little without harm: the place names the reader looks for, never who is speaking).
   * `read` reads through the handle it is given.
   */
  memo<T>(key: string, tables: readonly WatchedTable[], read: (db: Db) => Promise<T>, opts?: { staleMs?: number }): Promise<T>;
  close(): Promise<void>;
  /** The raw handles, for migrations, backups and benchmarks only. */
  readonly sqlite?: Database.Database;
  readonly pool?: pg.Pool;
  /** PostgreSQL: the schema this handle works in (tests isolate themselves this way). */
  readonly schema?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const sqliteMigrations = join(here, 'migrations');
const pgMigrations = join(here, 'migrations-pg');

/** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite file path. */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/** Opens (and migrates) the database named by `target`. */
export function openDb(target: string): Promise<Db> {
  return isPostgresUrl(target) ? openPostgres(target) : Promise.resolve(openSqlite(target));
}

// ---------------------------------------------------------------------------------------------
// SQLite

const sqliteParam = (v: unknown): unknown => (v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);

interface Job { fn: (tx: Db) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }

/** A kept value and the state of the database it was read in. */
interface Kept { value: unknown; writes: number; epoch: number; version: number }
/** Kept values at most; past it they are dropped together (they are cheap to read again). */
const MEMO_MAX = 100_000;

/** The SQLite handle whose group commit is running the current async context's command. */
const inCommand = new AsyncLocalStorage<SqliteDb>();

class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly rows = new Map<string, Database.Statement>();
  private readonly plucks = new Map<string, Database.Statement>();
  private readonly jobs: Job[] = [];
  private scheduled = false;
  /** Between a group's BEGIN and its COMMIT or ROLLBACK. */
  private flushing = false;
  private readonly tx: Db;
  /** Writes to each watched table through this connection, counted by TEMP triggers. */
  private readonly writes = new Map<string, number>();
  /** Moves on every rollback of the group commit: what was read before it may be undone. */
  private epoch = 0;
  private readonly kept = new Map<string, Kept>();
  private readonly dataVersion: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;

  constructor(readonly sqlite: Database.Database, private readonly checkpointer?: Checkpointer) {
    this.dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
    // Prepared once: `exec` parses its text on every call, and a command takes two of these.
    this.savepoint = sqlite.prepare('SAVEPOINT cmd');
    this.release = sqlite.prepare('RELEASE cmd');
    this.watchTables();
    // The view a write command gets: the same connection, known to be inside the transaction.
    const self = this;
    this.tx = {
      dialect: 'sqlite', inTransaction: true,
      all: (t, p) => self.all(t, p), get: (t, p) => self.get(t, p), value: (t, p) => self.value(t, p), run: (t, p) => self.run(t, p),
      withWrite: (fn) => fn(self.tx), memo: (k, t, r, o) => self.memo(k, t, r, o), close: () => self.close(), sqlite,
    };
  }

  /**
   * TEMP triggers (this connection's, not the schema's) count every insert, update and delete on
   * the watched tables, whoever issues it. Created when the connection opens, outside any
   * transaction, so no rollback drops them.
   */
  private watchTables(): void {
    this.sqlite.function('minqing_table_written', { deterministic: false }, (table: unknown) => {
      this.writes.set(String(table), (this.writes.get(String(table)) ?? 0) + 1);
      return null;
    });
    for (const t of WATCHED_TABLES) {
      for (const on of ['INSERT', 'UPDATE', 'DELETE']) {
        this.sqlite.exec(`CREATE TEMP TRIGGER IF NOT EXISTS minqing_written_${t}_${on.toLowerCase()} AFTER ${on} ON main.${t}
          BEGIN SELECT minqing_table_written('${t}'); END`);
      }
    }
  }

  /**
   * A value is kept with the write counts of its tables, the rollback epoch and `PRAGMA
   * data_version` (which moves when another connection commits — `minqing import` beside the
   * bot), and served while all three are unchanged. Counts, version and read are taken with no
   * await in between, so no write falls between what was checked and what was read. A value read
   * inside a transaction this handle does not run (a script's own `sqlite.transaction`) is not
   * kept: its rollback would go unseen.
   */
  async memo<T>(key: string, tables: readonly WatchedTable[], read: (db: Db) => Promise<T>, _opts?: { staleMs?: number }): Promise<T> {
    let writes = 0;
    for (const t of tables) writes += this.writes.get(t) ?? 0;
    const version = this.dataVersion.get() as number;
    const hit = this.kept.get(key);
    if (hit && hit.writes === writes && hit.epoch === this.epoch && hit.version === version) return hit.value as T;
    const epoch = this.epoch;
    // Decided before the read: a foreign transaction may have ended (rolled back) by the time it
    // resumes.
    const keep = !this.sqlite.inTransaction || inCommand.getStore() === this;
    const value = await read(this);
    if (keep) {
      if (this.kept.size >= MEMO_MAX) this.kept.clear();
      this.kept.set(key, { value, writes, epoch, version });
    }
    return value;
  }

  get inTransaction(): boolean { return this.sqlite.inTransaction; }

  private stmt(text: string, pluck: boolean): Database.Statement {
    const cache = pluck ? this.plucks : this.rows;
    let s = cache.get(text);
    if (!s) {
      // Texts are templates; the few built with a variable IN list are bounded, but keep it so.
      if (cache.size > 2000) cache.clear();
      s = this.sqlite.prepare(text);
      if (pluck && s.reader) s.pluck();
      cache.set(text, s);
    }
    return s;
  }

  async all<T>(text: string, params: Params = []): Promise<T[]> {
    const s = this.stmt(text, false);
    if (this.foreign(s)) return this.withWrite((tx) => tx.all<T>(text, params));
    return s.all(...params.map(sqliteParam)) as T[];
  }
  async get<T>(text: string, params: Params = []): Promise<T | undefined> {
    const s = this.stmt(text, false);
    if (this.foreign(s)) return this.withWrite((tx) => tx.get<T>(text, params));
    return s.get(...params.map(sqliteParam)) as T | undefined;
  }
  async value<T>(text: string, params: Params = []): Promise<T | undefined> {
    const s = this.stmt(text, true);
    if (this.foreign(s)) return this.withWrite((tx) => tx.value<T>(text, params));
    return s.get(...params.map(sqliteParam)) as T | undefined;
  }
  async run(text: string, params: Params = []): Promise<number> {
    const s = this.stmt(text, false);
    if (this.foreign(s)) return this.withWrite((tx) => tx.run(text, params));
    return s.run(...params.map(sqliteParam)).changes;
  }

  /**
   * A write from outside the running command while a group commit is open — the delivery loop
   * marking a reply sent while a command waits on real I/O in its savepoint. Run there, it would
   * become part of that command and be undone with it (the reply sent again); it goes into the
   * next group instead, a command of its own.
   */
  private foreign(s: Database.Statement): boolean {
    return this.flushing && !s.readonly && inCommand.getStore() !== this;
  }

  withWrite<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // Inside a command's own work (its async context), a nested write joins it. Anyone else —
    // another message whose code runs between this command's awaits — waits for the next group:
    // joining merely because a transaction is open would put its writes in this command's
    // savepoint, answered before the commit and rolled back with it.
    if (inCommand.getStore() === this) return fn(this.tx);
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /**
   * One group commit: every queued command in its own savepoint, one after the other (the
   * connection is one), then one COMMIT. Commands queued meanwhile wait for the next group.
   */
  private async flush(): Promise<void> {
    const jobs = this.jobs.splice(0);
    const outcomes: Array<{ ok: boolean; v: unknown }> = [];
    try {
      this.sqlite.exec('BEGIN IMMEDIATE');
      this.flushing = true;
      for (const j of jobs) {
        this.savepoint.run();
        try {
          outcomes.push({ ok: true, v: await inCommand.run(this, () => j.fn(this.tx)) });
          this.release.run();
        } catch (e) {
          this.epoch++;
          this.sqlite.exec('ROLLBACK TO cmd');
          this.release.run();
          outcomes.push({ ok: false, v: e });
        }
      }
      this.sqlite.exec('COMMIT');
      this.checkpointer?.committed();
      outcomes.forEach((o, i) => (o.ok ? jobs[i].resolve(o.v) : jobs[i].reject(o.v)));
    } catch (e) {
      this.epoch++;
      // A ROLLBACK that fails too must not leave the queued commands unsettled.
      try { if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK'); } catch { /* the jobs are rejected below */ }
      for (const j of jobs) j.reject(e);
    } finally {
      this.flushing = false;
      this.scheduled = false;
      if (this.jobs.length) this.schedule();
    }
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    if (this.sqlite.open) this.sqlite.close();
  }
}

function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL is durable against a crash of the process; only power loss can drop the
  // last transactions, and it never corrupts the file.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  migrateSqlite(drizzleSqlite(sqlite), { migrationsFolder: sqliteMigrations });
  if (file === ':memory:') return new SqliteDb(sqlite);
  // Checkpoints run in a worker (storage/checkpoint.ts); the writer's own is the safety net.
  sqlite.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
  return new SqliteDb(sqlite, new Checkpointer(file));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const pgTexts = new Map<string, string>();

/** `?` placeholders to `$1…$n`, outside quoted strings and identifiers. */
export function toPgText(text: string): string {
  let out = pgTexts.get(text);
  if (out !== undefined) return out;
  let n = 0;
  let quote: string | null = null;
  out = '';
  for (const ch of text) {
    if (quote) { if (ch === quote) quote = null; out += ch; continue; }
    if (ch === "'" || ch === '"') quote = ch;
    out += ch === '?' ? `$${++n}` : ch;
  }
  if (pgTexts.size > 5000) pgTexts.clear();
  pgTexts.set(text, out);
  return out;
}

const pgParam = (v: unknown): unknown => (v === undefined ? null : v);

// bigint (20) and numeric (1700) arrive as strings by default; ours are counts, sums and
// millisecond instants, all exact as JS numbers.
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 || oid === 1700 ? (v: string) => Number(v)
    : pg.types.getTypeParser(oid, format as never))) as typeof pg.types.getTypeParser,
};

/** PostgreSQL values kept for `Db.memo`'s `staleMs`, per pool (one per opened database). */
const pgKept = new WeakMap<pg.Pool, Map<string, { value: unknown; at: number }>>();

/** Whether a statement writes one of the watched tables (decided once per statement text). */
const WATCHED_WRITE = new RegExp(`\\b(?:INSERT\\s+INTO|UPDATE|DELETE\\s+FROM|TRUNCATE)\\s+(?:[\\w"]+\\.)?"?(?:${WATCHED_TABLES.join('|')})\\b`, 'i');
const watchedWrites = new Map<string, boolean>();
function writesWatched(text: string): boolean {
  let w = watchedWrites.get(text);
  if (w === undefined) {
    if (watchedWrites.size > 5000) watchedWrites.clear();
    watchedWrites.set(text, (w = WATCHED_WRITE.test(text)));
  }
  return w;
}

/** SQLSTATEs after which a whole transaction may simply be tried again. */
const RETRYABLE = new Set(['40001', '40P01']);

class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  constructor(readonly pool: pg.Pool, readonly schema: string | undefined, private readonly client?: pg.PoolClient) {}

  get inTransaction(): boolean { return !!this.client; }

  /** A write to a watched table through this transaction: kept values go when it commits. */
  private wroteWatched = false;

  private async q(text: string, params: Params): Promise<pg.QueryResult> {
    const r = await (this.client ?? this.pool).query(toPgText(text), params.map(pgParam));
    // What this process writes it sees at once: kept values go when the write is committed (a
    // transaction's own reads meanwhile bypass them, see memo).
    if (writesWatched(text)) {
      if (this.client) this.wroteWatched = true;
      else pgKept.get(this.pool)?.clear();
    }
    return r;
  }

  async all<T>(text: string, params: Params = []): Promise<T[]> { return (await this.q(text, params)).rows as T[]; }
  async get<T>(text: string, params: Params = []): Promise<T | undefined> { return (await this.q(text, params)).rows[0] as T | undefined; }
  async value<T>(text: string, params: Params = []): Promise<T | undefined> {
    const r = await this.q(text, params);
    const row = r.rows[0] as Record<string, unknown> | undefined;
    return row ? (row[r.fields[0].name] as T) : undefined;
  }
  async run(text: string, params: Params = []): Promise<number> { return (await this.q(text, params)).rowCount ?? 0; }

  /**
   * Read every time, except a value whose caller allows `staleMs`: kept that long, per pool (the
   * transaction views share it).
   */
  async memo<T>(key: string, _tables: readonly WatchedTable[], read: (db: Db) => Promise<T>, opts?: { staleMs?: number }): Promise<T> {
    // A transaction that wrote a watched table reads its own rows, and keeps nothing of them.
    if (!opts?.staleMs || this.wroteWatched) return read(this);
    let kept = pgKept.get(this.pool);
    if (!kept) pgKept.set(this.pool, (kept = new Map()));
    const hit = kept.get(key);
    if (hit && Date.now() - hit.at <= opts.staleMs) return hit.value as T;
    // Read on the caller's own connection (another from the pool could wait for ever behind
    // transactions that each wait for it); committed rows only (READ COMMITTED, nothing of its own
    // written), so no rollback can leave them behind.
    const value = await read(this);
    kept.set(key, { value, at: Date.now() });
    return value;
  }

  async withWrite<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const tx = new PgDb(this.pool, this.schema, client);
        const v = await fn(tx);
        await client.query('COMMIT');
        if (tx.wroteWatched) pgKept.get(this.pool)?.clear();
        return v;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (attempt < 5 && RETRYABLE.has((e as { code?: string }).code ?? '')) continue;
        throw e;
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> { if (!this.client && !this.pool.ended) await this.pool.end(); }
}

/**
 * `postgres://user@host:port/db?schema=name`: `schema` (ours, not libpq's) puts every table in
 * that schema, created when missing — the tests give each database user a schema of its own.
 * Migrations run under an advisory lock, so processes starting together migrate once.
 */
async function openPostgres(url: string): Promise<Db> {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: u.toString(), types: pgTypes, max: Number(process.env.MINQING_PG_POOL ?? 10),
    // PGOPTIONS (libpq's variable) still applies beside the schema's search path.
    options: [process.env.PGOPTIONS, schema ? `-c search_path=${schema}` : ''].filter(Boolean).join(' ') || undefined,
  });
  // An idle client's error (the server restarted) must not kill the process; the pool replaces it.
  pool.on('error', () => undefined);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7474)');
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await migratePg(drizzlePg(client), { migrationsFolder: pgMigrations, migrationsSchema: schema ?? 'drizzle' });
  } finally {
    await client.query('SELECT pg_advisory_unlock(7474)').catch(() => undefined);
    client.release();
  }
  return new PgDb(pool, schema);
}
