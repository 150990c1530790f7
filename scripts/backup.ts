/**
 * `minqing backup <file>` and `minqing restore <file>` (docs/rules.md#qualities), on the database
 * `MINQING_DB` names.
 *
 * SQLite. Backup uses SQLite's online backup API (better-sqlite3 `db.backup()`), so it runs while the bot
 * writes: the copy is a consistent snapshot of some moment during the run. The API restarts
 * whenever another connection writes to the source between two steps; under a steady write burst
 * small steps could restart forever, so each restart doubles the step until one step copies the
 * rest (in WAL mode a step only reads: the bot is never blocked). The copy is written beside the
 * target as `<file>.partial`, switched to a single self-contained file (journal_mode DELETE),
 * verified (`PRAGMA integrity_check`, row counts per table), and only then renamed to `<file>`.
 *
 * Restore verifies the backup the same way, then replaces `MINQING_DB` only when no other
 * process has that database open: it takes the database in exclusive locking mode (which fails
 * while the bot — or anything else — holds it open), keeps the current file as
 * `<db>.before-restore-<time>`, and moves the backup in atomically. Migrations are applied when
 * the bot next opens it, so a backup from an older version restores too.
 *
 * PostgreSQL. The PostgreSQL client tools do the work (`pg_dump`, `pg_restore`, `psql` on PATH;
 * without them the commands say what to install, or to use the deployment's own backups). Backup
 * is `pg_dump -Fc` of Minqing's schema (and `drizzle`, the migrations' own, when the URL names
 * no schema) into `<file>.partial`, taken in a snapshot exported by a repeatable-read
 * transaction that counts the rows of every table meanwhile: the counts reported are the dump's
 * own. It is verified with `pg_restore --list` (readable, every table's data in it) and only then
 * renamed to `<file>`. The bot keeps running; pg_dump takes no lock that blocks its writes.
 *
 * Restore refuses while anyone else is connected to the database as the bot's user, keeps the
 * current data as a `pg_dump` beside the backup (`minqing-before-restore-<time>.dump`), and then
 * in ONE transaction (`psql --single-transaction`) drops the schema's tables and loads the
 * backup: it either replaces everything or changes nothing. Tables from a newer version are
 * dropped with the rest, so the next start's migrations bring an older backup up to date, as on
 * SQLite. Objects are restored as owned by the restoring user (`--no-owner --no-privileges`).
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { Presets, SingleBar } from 'cli-progress';
import { spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdtempSync, openSync, fsyncSync, closeSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { isPostgresUrl, type Dialect } from '../storage/db.js';

const T = {
  progress: '备份数据库 [{bar}] {percentage}% {value}/{total} 页',
  noSource: (f: string) => `找不到数据库文件 ${f}。请检查 MINQING_DB，或先运行 minqing migrate。`,
  sameFile: '备份文件不能是数据库本身，请换一个文件名，例如 minqing backup backups/minqing-2026-11-20.db',
  exists: (f: string) => `${f} 已存在。为免覆盖旧备份，请换一个文件名，或加 --force 覆盖。`,
  noDir: (d: string) => `目录 ${d} 不存在，请先创建，例如 mkdir -p ${d}`,
  badCopy: (f: string, why: string) => `备份校验失败（${f}）：${why}。原数据库未受影响，请重试；如一再失败请检查磁盘空间。`,
  backedUp: (from: string, to: string) => `备份完成：${from} → ${to}`,
  stats: (ms: number, pages: number, bytes: number, restarts: number) =>
    `  用时 ${(ms / 1000).toFixed(2)} 秒，${pages} 页（${(bytes / 1048576).toFixed(1)} MB）${restarts ? `；复制期间数据库有写入，重新开始 ${restarts} 次` : ''}`,
  verified: '  校验：integrity_check 通过（ok）',
  counts: (rows: TableCount[]) => `  各表行数：${rows.map((r) => `${r.table} ${r.rows}`).join(' · ')}`,
  restoreHow: (f: string) => `  恢复：先停止机器人，再运行 minqing restore ${f}`,
  noBackup: (f: string) => `找不到备份文件 ${f}。`,
  notMinqing: (f: string) => `${f} 不是民情的数据库（缺少 cadres、visits 等表），没有恢复。`,
  inUse: (db: string) => `数据库 ${db} 正在被使用（机器人可能正在运行），没有恢复。请先停止 minqing start / minqing console，再运行 minqing restore。`,
  restored: (from: string, to: string) => `恢复完成：${from} → ${to}`,
  kept: (f: string) => `  原数据库已保留为 ${f}（确认无误后可删除）`,
  // PostgreSQL
  noPgTool: (tool: string) => `找不到 ${tool}。备份和恢复 PostgreSQL 数据库要用 PostgreSQL 客户端工具（pg_dump、pg_restore、psql）：`
    + `请安装，Debian/Ubuntu 上为 sudo apt-get install postgresql-client（主版本不低于数据库服务器）；或者改用数据库部署自己的备份（云数据库的自动备份、快照等）。`,
  toolFailed: (tool: string, why: string) => `${tool} 失败：${why}`,
  versionHint: '（客户端工具比数据库服务器旧：请安装与服务器主版本相同或更新的 postgresql-client）',
  noPgTables: (db: string) => `数据库 ${db} 里还没有民情的数据表。请检查 MINQING_DB，或先运行 minqing migrate。`,
  pgStats: (ms: number, bytes: number) => `  用时 ${(ms / 1000).toFixed(2)} 秒，${(bytes / 1048576).toFixed(1)} MB（pg_dump 自定义格式 -Fc）`,
  pgVerified: '  校验：pg_restore --list 读取通过，每张表的数据都在备份里',
  pgRestoreVerified: '  校验：pg_restore --list 读取通过；删除旧表和载入备份在同一个事务中完成',
  pgBadCopy: (f: string, missing: string[]) => `备份校验失败（${f}）：备份里缺少这些表的数据：${missing.join('、')}。原数据库未受影响，请重试。`,
  notPgDump: (f: string) => `${f} 不是 pg_dump 的备份（-Fc 自定义格式），没有恢复。SQLite 的备份文件只能恢复到 SQLite 数据库（MINQING_DB 为文件路径时）。`,
  otherSchema: (f: string, theirs: string, ours: string) => `${f} 是 schema「${theirs}」的备份，而 MINQING_DB 使用 schema「${ours}」，没有恢复。请让 MINQING_DB 指向同一 schema（?schema=${theirs}）后再恢复。`,
  pgInUse: (db: string, n: number, who: string) => `数据库 ${db} 正在被使用（另有 ${n} 个连接：${who}；机器人可能正在运行），没有恢复。请先停止 minqing start / minqing console，再运行 minqing restore。`,
  pgConnect: (db: string, why: string) => `无法连接数据库 ${db}：${why}。请检查 MINQING_DB 和数据库是否在运行。`,
  pgRestoreFailed: (why: string) => `恢复失败，数据库未改动：${why}`,
  pgKept: (f: string) => `  原数据库已导出为 ${f}（可用 minqing restore 恢复；确认无误后可删除）`,
};

export interface TableCount { table: string; rows: number }

export interface BackupReport {
  dialect: Dialect;
  source: string;
  target: string;
  ms: number;
  /** SQLite pages copied (0 on PostgreSQL). */
  pages: number;
  bytes: number;
  /** How often the copy started over because the bot wrote meanwhile (SQLite; 0 on PostgreSQL). */
  restarts: number;
  tables: TableCount[];
}

export class BackupError extends Error {}

/** Row counts of every table of a SQLite database file, after `PRAGMA integrity_check` says ok. */
export function verifyDatabase(file: string): TableCount[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = check.map((r) => r.integrity_check).filter((x) => x !== 'ok');
    if (problems.length) throw new BackupError(T.badCopy(file, problems.slice(0, 3).join('；')));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    return tables.map((t) => ({ table: t, rows: db.prepare(`SELECT count(*) FROM "${t.replace(/"/g, '""')}"`).pluck().get() as number }));
  } catch (e) {
    if (e instanceof BackupError) throw e;
    throw new BackupError(T.badCopy(file, (e as Error).message));
  } finally {
    db.close();
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/**
 * Copies the live database at `source` (a SQLite file or a PostgreSQL URL) into the file
 * `target` and verifies the copy.
 */
export async function backupDatabase(source: string, target: string, o: { force?: boolean; progress?: boolean } = {}): Promise<BackupReport> {
  if (isPostgresUrl(source)) return backupPostgres(source, target, o);
  const src = resolve(source), dst = resolve(target);
  if (!existsSync(src)) throw new BackupError(T.noSource(source));
  if (src === dst) throw new BackupError(T.sameFile);
  if (!existsSync(dirname(dst))) throw new BackupError(T.noDir(dirname(target)));
  if (existsSync(dst) && !o.force) throw new BackupError(T.exists(target));
  const partial = `${dst}.partial`;
  for (const f of [partial, `${partial}-wal`, `${partial}-shm`, `${partial}-journal`]) rmSync(f, { force: true });

  const db = new Database(src, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const bar = o.progress && process.stderr.isTTY ? new SingleBar({ format: T.progress, hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
  const t0 = performance.now();
  let restarts = 0;
  let pages = 0;
  try {
    let step = 0;
    let lastRemaining = Infinity;
    const done = await db.backup(partial, {
      progress({ totalPages, remainingPages }) {
        if (!step) { step = Math.max(64, Math.ceil(totalPages / 100)); bar?.start(totalPages, 0); }
        // More left than last time: the bot wrote and SQLite started over. A bigger step next.
        if (remainingPages > lastRemaining) { restarts++; step *= 2; }
        lastRemaining = remainingPages;
        bar?.setTotal(totalPages);
        bar?.update(totalPages - remainingPages);
        return step;
      },
    });
    pages = done.totalPages;
    bar?.update(pages);
  } finally {
    bar?.stop();
    db.close();
  }
  // A backup is one self-contained file: no -wal beside it.
  const copy = new Database(partial);
  copy.pragma('journal_mode = DELETE');
  copy.close();
  const tables = verifyDatabase(partial);
  fsyncFile(partial);
  renameSync(partial, dst);
  return { dialect: 'sqlite', source: src, target: dst, ms: performance.now() - t0, pages, bytes: statSync(dst).size, restarts, tables };
}

export function formatBackupReport(r: BackupReport, shown = { source: r.source, target: r.target }): string {
  const pgsql = r.dialect === 'postgres';
  return [T.backedUp(shown.source, shown.target), pgsql ? T.pgStats(r.ms, r.bytes) : T.stats(r.ms, r.pages, r.bytes, r.restarts),
    pgsql ? T.pgVerified : T.verified, T.counts(r.tables), T.restoreHow(shown.target)].join('\n');
}

export interface RestoreReport { dialect: Dialect; backup: string; target: string; kept?: string; tables: TableCount[] }

const REQUIRED_TABLES = ['units', 'cadres', 'accounts', 'visits', 'issues', 'issue_events', 'inbound_messages'];

/**
 * Replaces the database at `target` (a SQLite file or a PostgreSQL URL) with the verified backup
 * `file`; refuses while any other process has `target` open.
 */
export async function restoreDatabase(file: string, target: string, now = new Date()): Promise<RestoreReport> {
  if (isPostgresUrl(target)) return restorePostgres(file, target, now);
  const src = resolve(file), dst = resolve(target);
  if (!existsSync(src)) throw new BackupError(T.noBackup(file));
  if (src === dst) throw new BackupError(T.sameFile);
  const tables = verifyDatabase(src);
  if (!REQUIRED_TABLES.every((t) => tables.some((x) => x.table === t))) throw new BackupError(T.notMinqing(file));

  let live: Database.Database | undefined;
  let kept: string | undefined;
  try {
    if (existsSync(dst)) {
      live = new Database(dst, { fileMustExist: true });
      live.pragma('busy_timeout = 0');
      try {
        // Leaving WAL needs the only connection; the exclusive lock then keeps others out until
        // the new file is in place.
        live.pragma('journal_mode = DELETE');
        live.pragma('locking_mode = EXCLUSIVE');
        live.exec('BEGIN EXCLUSIVE');
      } catch (e) {
        if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new BackupError(T.inUse(target));
        throw e;
      }
      kept = `${dst}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
      copyFileSync(dst, kept);
    }
    const incoming = `${dst}.restoring`;
    copyFileSync(src, incoming);
    fsyncFile(incoming);
    renameSync(incoming, dst);
    for (const f of [`${dst}-wal`, `${dst}-shm`, `${dst}-journal`]) rmSync(f, { force: true });
  } finally {
    live?.close();
  }
  return { dialect: 'sqlite', backup: src, target: dst, kept, tables };
}

export function formatRestoreReport(r: RestoreReport, shown = { backup: r.backup, target: r.target }): string {
  const pgsql = r.dialect === 'postgres';
  return [T.restored(shown.backup, shown.target), pgsql ? T.pgRestoreVerified : T.verified, T.counts(r.tables),
    ...(r.kept ? [pgsql ? T.pgKept(r.kept) : T.kept(r.kept)] : [])].join('\n');
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** A database target as printed: a PostgreSQL URL without its password; a file path as it is. */
export function shownDb(target: string): string {
  if (!isPostgresUrl(target)) return target;
  const u = new URL(target);
  if (u.password) u.password = '***';
  return u.toString();
}

interface PgTarget {
  /** For the client tools: without our `schema` parameter (libpq refuses it) and the password. */
  url: string;
  /** The password travels in PGPASSWORD, not on a command line others can read. */
  env: NodeJS.ProcessEnv;
  client: pg.ClientConfig;
  /** `?schema=` of the URL (storage/db.ts openPostgres). */
  schema?: string;
}

function pgTarget(target: string): PgTarget {
  const u = new URL(target);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  const client: pg.ClientConfig = { connectionString: u.toString(), options: schema ? `-c search_path=${schema}` : undefined };
  const env = { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
  u.password = '';
  return { url: u.toString(), env, client, schema };
}

async function connect(t: PgTarget, target: string): Promise<pg.Client> {
  const c = new pg.Client(t.client);
  try {
    await c.connect();
  } catch (e) {
    throw new BackupError(T.pgConnect(shownDb(target), (e as Error).message));
  }
  return c;
}

const quoteId = (name: string) => `"${name.replace(/"/g, '""')}"`;

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try { accessSync(join(dir, tool), constants.X_OK); return true; } catch { return false; }
  });
}

/** Refuses up front, before anything was done, when a client tool is missing. */
function requireTools(tools: string[]): void {
  for (const t of tools) if (!onPath(t)) throw new BackupError(T.noPgTool(t));
}

/** Runs a client tool to its end; its stdout, or a BackupError with the end of its stderr. */
function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e: NodeJS.ErrnoException) => rej(e.code === 'ENOENT' ? new BackupError(T.noPgTool(tool)) : e));
    child.once('close', (code) => {
      if (code === 0) return res(Buffer.concat(out).toString('utf8'));
      const why = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join('；') || `退出码 ${code}`;
      rej(new BackupError(T.toolFailed(tool, why + (/version mismatch|unsupported version/i.test(why) ? T.versionHint : ''))));
    });
  });
}

/** The schema Minqing's tables live in: the URL's, or the connection's default (`public`). */
async function dataSchema(c: pg.Client, t: PgTarget): Promise<string> {
  return t.schema ?? (await c.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0].s ?? 'public';
}

async function tablesOf(c: pg.Client, schema: string): Promise<string[]> {
  const r = await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]);
  return r.rows.map((x) => x.t);
}

async function countRows(c: pg.Client, schema: string, tables: string[]): Promise<TableCount[]> {
  const out: TableCount[] = [];
  for (const t of tables) {
    const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteId(schema)}.${quoteId(t)}`);
    out.push({ table: t, rows: Number(r.rows[0].n) });
  }
  return out;
}

/** `-n` arguments: the data schema, and `drizzle` (where the migrations record themselves) when the URL names no schema. */
const schemaArgs = (t: PgTarget, schema: string) => [schema, ...(t.schema ? [] : ['drizzle'])].map((s) => `--schema=${quoteId(s)}`);

/** The entries of a dump's table of contents (`pg_restore --list`; its `;` comment lines left out). */
interface TocEntry { line: string; kind: string; schema: string; name: string }

function tocOf(list: string): TocEntry[] {
  const out: TocEntry[] = [];
  for (const line of list.split('\n')) {
    // `3348; 0 17466 TABLE DATA public cadres postgres`, `6; 2615 17461 SCHEMA - drizzle postgres`
    const m = /^\d+; \d+ \d+ (TABLE DATA|SCHEMA|COMMENT|[A-Z][A-Z ]*?) (\S+) (\S+)/.exec(line);
    if (m) out.push({ line, kind: m[1], schema: m[2], name: m[3] });
  }
  return out;
}

async function listDump(file: string, env: NodeJS.ProcessEnv): Promise<TocEntry[]> {
  return tocOf(await runTool('pg_restore', ['--list', file], env));
}

async function backupPostgres(source: string, target: string, o: { force?: boolean }): Promise<BackupReport> {
  const dst = resolve(target);
  if (!existsSync(dirname(dst))) throw new BackupError(T.noDir(dirname(target)));
  if (existsSync(dst) && !o.force) throw new BackupError(T.exists(target));
  requireTools(['pg_dump', 'pg_restore']);
  const t = pgTarget(source);
  const partial = `${dst}.partial`;
  rmSync(partial, { force: true });
  const t0 = performance.now();
  const c = await connect(t, source);
  let schema: string, tables: TableCount[];
  try {
    // The counts and the dump see the same snapshot: pg_dump joins this transaction's.
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    schema = await dataSchema(c, t);
    const names = await tablesOf(c, schema);
    if (!names.includes('cadres')) throw new BackupError(T.noPgTables(shownDb(source)));
    const snapshot = (await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
    const dump = runTool('pg_dump', ['-Fc', `--snapshot=${snapshot}`, `--file=${partial}`, ...schemaArgs(t, schema), `--dbname=${t.url}`], t.env);
    // Both to their end before anything is cleaned up: pg_dump may still be writing the file.
    const [dumped, counted] = await Promise.allSettled([dump, countRows(c, schema, names)]);
    if (dumped.status === 'rejected') throw dumped.reason;
    if (counted.status === 'rejected') throw counted.reason;
    tables = counted.value;
    await c.query('COMMIT');
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    await c.end();
  }
  try {
    const toc = await listDump(partial, t.env);
    const missing = tables.filter((x) => !toc.some((e) => e.kind === 'TABLE DATA' && e.schema === schema && e.name === x.table));
    if (missing.length) throw new BackupError(T.pgBadCopy(target, missing.map((x) => x.table)));
    fsyncFile(partial);
    renameSync(partial, dst);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  return { dialect: 'postgres', source: shownDb(source), target: dst, ms: performance.now() - t0, pages: 0, bytes: statSync(dst).size, restarts: 0, tables };
}

async function restorePostgres(file: string, target: string, now: Date): Promise<RestoreReport> {
  const src = resolve(file);
  if (!existsSync(src)) throw new BackupError(T.noBackup(file));
  requireTools(['pg_dump', 'pg_restore', 'psql']);
  const t = pgTarget(target);
  let toc: TocEntry[];
  try {
    toc = await listDump(src, t.env);
  } catch (e) {
    // The tools are there (above): pg_restore could not read it.
    throw e instanceof BackupError ? new BackupError(T.notPgDump(file)) : e;
  }
  const c = await connect(t, target);
  const work = mkdtempSync(join(tmpdir(), 'minqing-restore-'));
  try {
    const schema = await dataSchema(c, t);
    const data = toc.filter((e) => e.kind === 'TABLE DATA');
    if (!REQUIRED_TABLES.every((r) => data.some((e) => e.schema === schema && e.name === r))) {
      const theirs = data.find((e) => e.name === 'cadres')?.schema;
      if (theirs && REQUIRED_TABLES.every((r) => data.some((e) => e.schema === theirs && e.name === r))) throw new BackupError(T.otherSchema(file, theirs, schema));
      throw new BackupError(T.notMinqing(file));
    }
    const others = await c.query<{ application_name: string; client_addr: string | null }>(
      `SELECT application_name, client_addr::text AS client_addr FROM pg_stat_activity
       WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid() AND backend_type = 'client backend'`);
    if (others.rows.length) {
      const who = [...new Set(others.rows.map((r) => r.application_name || r.client_addr || '本机'))].slice(0, 3).join('、');
      throw new BackupError(T.pgInUse(shownDb(target), others.rows.length, who));
    }

    // What is there now, kept as a dump the same command can restore.
    const existing = await tablesOf(c, schema);
    let kept: string | undefined;
    if (existing.length) {
      kept = join(dirname(src), `minqing-before-restore-${now.toISOString().replace(/[:.]/g, '-')}.dump`);
      await runTool('pg_dump', ['-Fc', `--file=${kept}`, ...schemaArgs(t, schema), `--dbname=${t.url}`], t.env);
      fsyncFile(kept);
    }

    // One transaction: the schema's tables (and the other schemas the dump brings, i.e. drizzle)
    // go, the backup comes in. The schema itself stays, so its own entry is left out of the list.
    const prelude = [
      "SET lock_timeout = '10s';",
      `CREATE SCHEMA IF NOT EXISTS ${quoteId(schema)};`,
      ...existing.map((x) => `DROP TABLE IF EXISTS ${quoteId(schema)}.${quoteId(x)} CASCADE;`),
      ...[...new Set(toc.filter((e) => e.kind === 'SCHEMA' && e.name !== schema).map((e) => e.name))].map((s) => `DROP SCHEMA IF EXISTS ${quoteId(s)} CASCADE;`),
    ];
    writeFileSync(join(work, 'prelude.sql'), prelude.join('\n') + '\n');
    const keep = toc.filter((e) => !((e.kind === 'SCHEMA' && e.name === schema) || (e.kind === 'COMMENT' && e.schema === '-' && e.line.includes(` SCHEMA ${schema} `))));
    writeFileSync(join(work, 'list'), keep.map((e) => e.line).join('\n') + '\n');
    await runTool('pg_restore', ['--no-owner', '--no-privileges', `--use-list=${join(work, 'list')}`, `--file=${join(work, 'restore.sql')}`, src], t.env);
    try {
      await runTool('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', join(work, 'prelude.sql'), '-f', join(work, 'restore.sql'), `--dbname=${t.url}`], t.env);
    } catch (e) {
      if (!(e instanceof BackupError)) throw e;
      if (/lock timeout/i.test(e.message)) throw new BackupError(T.pgInUse(shownDb(target), 1, '持有数据表的锁'));
      throw new BackupError(T.pgRestoreFailed(e.message));
    }
    const tables = await countRows(c, schema, await tablesOf(c, schema));
    return { dialect: 'postgres', backup: src, target: shownDb(target), kept, tables };
  } finally {
    await c.end();
    rmSync(work, { recursive: true, force: true });
  }
}
