/**
 * `minqing backup <file>` and `minqing restore <file>` (docs/rules.md#qualities).
 *
 * Backup uses SQLite's online backup API (better-sqlite3 `db.backup()`), so it runs while the bot
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
 */
import Database from 'better-sqlite3';
import { Presets, SingleBar } from 'cli-progress';
import { copyFileSync, existsSync, openSync, fsyncSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
};

export interface TableCount { table: string; rows: number }

export interface BackupReport {
  source: string;
  target: string;
  ms: number;
  pages: number;
  bytes: number;
  /** How often the copy started over because the bot wrote meanwhile. */
  restarts: number;
  tables: TableCount[];
}

export class BackupError extends Error {}

/** Row counts of every table of a database file, after `PRAGMA integrity_check` says ok. */
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

/** Copies the live database at `source` into `target` and verifies the copy. */
export async function backupDatabase(source: string, target: string, o: { force?: boolean; progress?: boolean } = {}): Promise<BackupReport> {
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
  return { source: src, target: dst, ms: performance.now() - t0, pages, bytes: statSync(dst).size, restarts, tables };
}

export function formatBackupReport(r: BackupReport, shown = { source: r.source, target: r.target }): string {
  return [T.backedUp(shown.source, shown.target), T.stats(r.ms, r.pages, r.bytes, r.restarts), T.verified, T.counts(r.tables), T.restoreHow(shown.target)].join('\n');
}

export interface RestoreReport { backup: string; target: string; kept?: string; tables: TableCount[] }

const REQUIRED_TABLES = ['units', 'cadres', 'accounts', 'visits', 'issues', 'issue_events', 'inbound_messages'];

/**
 * Replaces the database at `target` with the verified backup `file`; refuses while any other
 * process has `target` open.
 */
export function restoreDatabase(file: string, target: string, now = new Date()): RestoreReport {
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
  return { backup: src, target: dst, kept, tables };
}

export function formatRestoreReport(r: RestoreReport, shown = { backup: r.backup, target: r.target }): string {
  return [T.restored(shown.backup, shown.target), T.verified, T.counts(r.tables), ...(r.kept ? [T.kept(r.kept)] : [])].join('\n');
}
