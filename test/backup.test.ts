/**
 * Online backup and restore (README "Backup and restore"): a backup taken while commands keep writing is a
 * sound database holding everything committed before it started; restore refuses while the
 * database is open elsewhere, and otherwise brings the backup back and keeps the old file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { backupDatabase, BackupError, formatBackupReport, restoreDatabase, verifyDatabase } from '../scripts/backup.js';
import { openDb } from '../storage/db.js';

let chat: Chat;
afterEach(() => { try { chat.close(); } catch { /* closed by the test */ } });

const rows = (file: string, sql: string) => {
  const db = new Database(file, { readonly: true });
  try { return db.prepare(sql).pluck().all(); } finally { db.close(); }
};

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

describe('minqing backup while the bot writes', () => {
  it('copies a sound database with every row committed before it started, and says what it did', async () => {
    chat = Chat.demo();
    for (let i = 0; i < 300; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 预先${i}`, { id: `p${i}` });
    await chat.says('u2', '/民情 石门村 道路破损 时限:12月31日', { id: 'issue1' });
    // Some megabytes more, so the copy takes many steps and the burst writes between them.
    const c = chat.db.$client;
    const ins = c.prepare(`INSERT INTO visits (cadre_id, unit_id, date, hours, place, status, backdated, platform, message_id, created_at, kind, households, content)
      VALUES (2, 2, '2026-11-01', 2, '石门村', 'ok', 0, 'console', ?, 0, 'household', 1, ?)`);
    c.transaction(() => { for (let i = 0; i < 20_000; i++) ins.run(`s${i}`, '走访困难户，了解就医难'.repeat(8)); })();
    const before = chat.count('visits');
    const burst = writeBurst(chat, 0);
    const target = join(chat.dir, 'backup.db');
    const report = await backupDatabase(join(chat.dir, 'test.db'), target);
    const written = await burst.stop();
    expect(written).toBeGreaterThan(0);

    // The copy: one self-contained file that passes integrity_check.
    expect(existsSync(`${target}-wal`)).toBe(false);
    expect(readdirSync(chat.dir).filter((f) => f.includes('.partial'))).toEqual([]);
    expect(verifyDatabase(target).length).toBeGreaterThan(5);
    const copied = rows(target, 'SELECT message_id FROM visits') as string[];
    for (let i = 0; i < 300; i++) expect(copied).toContain(`p${i}`);
    expect(copied.length).toBeGreaterThanOrEqual(before);
    expect(copied.length).toBeLessThanOrEqual(before + written);
    expect(rows(target, "SELECT action FROM issue_events WHERE issue_id = 1")).toEqual(['register']);
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
    chat = Chat.demo();
    const db = join(chat.dir, 'test.db');
    await backupDatabase(db, join(chat.dir, 'a.db'));
    await expect(backupDatabase(db, join(chat.dir, 'a.db'))).rejects.toThrow('已存在');
    await expect(backupDatabase(db, db)).rejects.toThrow('不能是数据库本身');
    await expect(backupDatabase(join(chat.dir, 'none.db'), join(chat.dir, 'b.db'))).rejects.toBeInstanceOf(BackupError);
    expect((await backupDatabase(db, join(chat.dir, 'a.db'), { force: true })).tables.length).toBeGreaterThan(5);
  });
});

describe('minqing restore', () => {
  it('refuses while the database is open, then restores the backup and keeps the old file', async () => {
    chat = Chat.demo();
    const live = join(chat.dir, 'test.db');
    for (let i = 0; i < 20; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 备份前${i}`, { id: `b${i}` });
    const backup = join(chat.dir, 'backup.db');
    await backupDatabase(live, backup);
    for (let i = 0; i < 5; i++) await chat.says('u2', `/走访 昨天 石门村 入户 1天 备份后${i}`, { id: `a${i}` });

    // The bot (this chat) still has the database open.
    expect(() => restoreDatabase(backup, live)).toThrow('正在被使用');
    expect(chat.count('visits')).toBe(25);

    chat.db.$client.close();
    const r = restoreDatabase(backup, live, new Date('2026-11-20T10:00:00Z'));
    expect(r.kept).toBe(`${live}.before-restore-2026-11-20T10-00-00-000Z`);
    expect(rows(r.kept!, 'SELECT count(*) FROM visits')).toEqual([25]);
    const db = openDb(live);
    try {
      expect(db.$client.prepare('SELECT count(*) FROM visits').pluck().get()).toBe(20);
      expect(db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.$client.close();
    }
  });

  it('refuses a file that is not a sound Minqing database', async () => {
    chat = Chat.demo();
    const other = join(chat.dir, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    expect(() => restoreDatabase(other, join(chat.dir, 'test.db'))).toThrow('不是民情的数据库');
    expect(() => restoreDatabase(join(chat.dir, 'missing.db'), join(chat.dir, 'test.db'))).toThrow('找不到备份文件');
  });
});

describe('the backup and restore commands', () => {
  it('back up and restore through `minqing`, printing what they did', async () => {
    chat = Chat.demo();
    await chat.says('u2', '/走访 昨天 石门村 入户 1天', { id: 'x1' });
    chat.db.$client.close();
    const env = { ...process.env, MINQING_DB: join(chat.dir, 'test.db'), LOG_LEVEL: 'silent' };
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
