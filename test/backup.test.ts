/**
 * Online backup and restore (README "Backup and restore"): a backup taken while commands keep writing is a
 * sound database holding everything committed before it started; restore refuses while the
 * database is open elsewhere, and otherwise brings the backup back and keeps the old file.
 *
 * SQLite only: these are backups of a SQLite file (the online backup API, integrity_check, the
 * file swap), so under the postgres test project the whole file is skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Chat, testDialect } from './chat.js';
import { countOf, rowsWhere } from './db-probe.js';
import { backupDatabase, BackupError, formatBackupReport, restoreDatabase, verifyDatabase } from '../scripts/backup.js';
import { openDb, type Db } from '../storage/db.js';
import { insertVisit } from '../storage/records.js';
import { issueEvents, visits } from '../storage/schema.js';

/** The backups here are SQLite files; PostgreSQL is not backed up by these commands. */
const sqliteOnly = describe.skipIf(testDialect() === 'postgres');

let chat: Chat;
// Closed once; a test may have closed its database already (to let restore at it), which is harmless.
afterEach(async () => { const c = chat; chat = undefined as never; await c?.close(); });

/** Looks into a database file (a backup, a kept file) through the storage layer, then closes it. */
async function inFile<T>(file: string, f: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(file);
  try { return await f(db); } finally { await db.close(); }
}

/** Visits recorded one after another until `stop()`; resolves with how many were recorded. */
function writeBurst(c: Chat, from: number): { stop(): Promise<number> } {
  let running = true;
  let n = from;
  const loop = (async () => {
    while (running) {
      const r = await c.says(n % 2 ? 'u2' : 'u3', `/走访 昨天 石门村 入户 2小时 第${n}次`, { id: `w${n}` });
      if (!r[0].text.startsWith('已记录走访')) throw new Error(r[0].text);
      n++;
    }
  })();
  return { stop: async () => { running = false; await loop; return n; } };
}

sqliteOnly('minqing backup while the bot writes', () => {
  it('copies a sound database with every row committed before it started, and says what it did', async () => {
    chat = await Chat.demo();
    for (let i = 0; i < 300; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 预先${i}`, { id: `p${i}` });
    await chat.says('u2', '/民情 石门村 道路破损 时限:12月31日', { id: 'issue1' });
    // Some megabytes more, so the copy takes many steps and the burst writes between them.
    await chat.db.withWrite(async (tx) => {
      for (let i = 0; i < 20_000; i++) {
        await insertVisit(tx, { cadreId: 2, unitId: 2, date: '2026-11-01', hours: 2, place: '石门村', status: 'ok', backdated: false, kind: 'household', households: 1,
          content: '走访困难户，了解就医难'.repeat(8) }, { platform: 'console', chatId: null, messageId: `s${i}`, at: 0 });
      }
    });
    const before = await chat.count('visits');
    const burst = writeBurst(chat, 0);
    const target = join(chat.dir, 'backup.db');
    const report = await backupDatabase(chat.target, target);
    const written = await burst.stop();
    expect(written).toBeGreaterThan(0);

    // The copy: one self-contained file that passes integrity_check.
    expect(existsSync(`${target}-wal`)).toBe(false);
    expect(readdirSync(chat.dir).filter((f) => f.includes('.partial'))).toEqual([]);
    expect(verifyDatabase(target).length).toBeGreaterThan(5);
    const copied = await inFile(target, async (db) => (await rowsWhere(db, visits)).map((v) => v.messageId));
    for (let i = 0; i < 300; i++) expect(copied).toContain(`p${i}`);
    expect(copied.length).toBeGreaterThanOrEqual(before);
    expect(copied.length).toBeLessThanOrEqual(before + written);
    expect(await inFile(target, async (db) => (await rowsWhere(db, issueEvents, { issueId: 1 })).map((e) => e.action))).toEqual(['register']);
    // The counts it reports are the copy's own.
    expect(report.tables.find((t) => t.table === 'visits')!.rows).toBe(copied.length);
    expect(report.tables.find((t) => t.table === 'cadres')!.rows).toBe(3);
    const text = formatBackupReport(report, { source: 'data/minqing.db', target: 'backup.db' });
    expect(text).toContain('备份完成：data/minqing.db → backup.db');
    expect(text).toContain('integrity_check 通过');
    expect(text).toContain(`visits ${copied.length}`);
    expect(text).toContain('minqing restore backup.db');
  });

  it('refuses to overwrite an earlier backup or to back up onto the database itself', async () => {
    chat = await Chat.demo();
    const db = chat.target;
    await backupDatabase(db, join(chat.dir, 'a.db'));
    await expect(backupDatabase(db, join(chat.dir, 'a.db'))).rejects.toThrow('已存在');
    await expect(backupDatabase(db, db)).rejects.toThrow('不能是数据库本身');
    await expect(backupDatabase(join(chat.dir, 'none.db'), join(chat.dir, 'b.db'))).rejects.toBeInstanceOf(BackupError);
    expect((await backupDatabase(db, join(chat.dir, 'a.db'), { force: true })).tables.length).toBeGreaterThan(5);
  });
});

sqliteOnly('minqing restore', () => {
  it('refuses while the database is open, then restores the backup and keeps the old file', async () => {
    chat = await Chat.demo();
    const live = chat.target;
    for (let i = 0; i < 20; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 备份前${i}`, { id: `b${i}` });
    const backup = join(chat.dir, 'backup.db');
    await backupDatabase(live, backup);
    for (let i = 0; i < 5; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 备份后${i}`, { id: `a${i}` });

    // The bot (this chat) still has the database open.
    await expect(restoreDatabase(backup, live)).rejects.toThrow('正在被使用');
    expect(await chat.count('visits')).toBe(25);

    await chat.db.close();
    const r = await restoreDatabase(backup, live, new Date('2026-11-20T10:00:00Z'));
    expect(r.kept).toBe(`${live}.before-restore-2026-11-20T10-00-00-000Z`);
    expect(await inFile(r.kept!, (db) => countOf(db, visits))).toBe(25);
    const db = await openDb(live);
    try {
      expect(await countOf(db, visits)).toBe(20);
      // verifyDatabase runs `PRAGMA integrity_check` and throws unless it says ok.
      expect(verifyDatabase(live).length).toBeGreaterThan(5);
    } finally {
      await db.close();
    }
  });

  it('refuses a file that is not a sound Minqing database', async () => {
    chat = await Chat.demo();
    const other = join(chat.dir, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    await expect(restoreDatabase(other, chat.target)).rejects.toThrow('不是民情的数据库');
    await expect(restoreDatabase(join(chat.dir, 'missing.db'), chat.target)).rejects.toThrow('找不到备份文件');
  });
});

sqliteOnly('the backup and restore commands', () => {
  it('back up and restore through `minqing`, printing what they did', async () => {
    chat = await Chat.demo();
    await chat.says('u2', '/走访 昨天 石门村 入户 1天', { id: 'x1' });
    await chat.db.close();
    const env = { ...process.env, MINQING_DB: chat.target, LOG_LEVEL: 'silent' };
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/minqing.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const b = run('backup', join(chat.dir, 'cli-backup.db'));
    expect(b.status).toBe(0);
    expect(b.stdout).toContain('备份完成');
    expect(b.stdout).toMatch(/visits 1\b/);
    const again = run('backup', join(chat.dir, 'cli-backup.db'));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('--force');
    const r = run('restore', join(chat.dir, 'cli-backup.db'));
    expect(r.stdout).toContain('恢复完成');
    expect(r.stdout).toContain('原数据库已保留为');
    expect(r.status).toBe(0);
  }, 120_000);
});
