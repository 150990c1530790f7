/**
 * `Db.memo`: the reference data every message reads (who is speaking, the known places) kept on
 * SQLite while its tables do not change. What must hold: a change is seen by the next read —
 * made through this handle inside a group commit, by a command rolled back, by raw SQL, or by
 * another connection — and nothing read inside a transaction that rolled back is served.
 * On PostgreSQL every read goes to the database; the same assertions hold there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../storage/db.js';
import { cadreByAccount } from '../storage/identity.js';
import { knownPlaces as placesOf } from '../storage/places.js';
import { dropTestDb, testDbTarget, testDialect } from './chat.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function fresh(): Promise<{ db: Db; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'minqing-memo-'));
  dirs.push(dir);
  const file = testDbTarget(dir);
  const db = await openDb(file);
  await db.run("INSERT INTO units (id, name, path, created_at) VALUES (1, '石门镇', '/1/', 0)");
  await db.run("INSERT INTO cadres (id, name, phone, unit_id, rank, created_at) VALUES (1, '张三', '13800000001', 1, 'staff', 0)");
  await db.run("INSERT INTO accounts (platform, account_id, cadre_id, created_at) VALUES ('console', 'u1', 1, 0)");
  return { db, file };
}

const id = (x: string) => x;
const knownPlaces = async (db: Db, cadre: number | undefined, fold: (x: string) => string) => [...(await placesOf(db, cadre, fold)).shared];

describe('Db.memo', () => {
  it('keeps a value while its tables are unchanged (SQLite), and reads again after a write', async () => {
    const { db } = await fresh();
    let reads = 0;
    const read = () => db.memo('k', ['units'], async () => { reads++; return (await db.value<number>('SELECT count(*) FROM units'))!; });
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    expect(reads).toBe(testDialect() === 'sqlite' ? 1 : 2);
    // A write to another table leaves it kept; one to a watched table does not.
    await db.run("INSERT INTO cadres (id, name, phone, unit_id, rank, created_at) VALUES (2, '李四', '13800000002', 1, 'staff', 0)");
    expect(await read()).toBe(1);
    await db.run("INSERT INTO units (id, name, path, created_at) VALUES (2, '西河村', '/2/', 0)");
    expect(await read()).toBe(2);
    await dropTestDb(db);
  });

  it('sees a unit added inside a group commit, and forgets one whose command rolled back', async () => {
    const { db } = await fresh();
    expect(await knownPlaces(db, undefined, id)).toEqual(['石门镇']);
    const inside = await db.withWrite(async (tx) => {
      await tx.run("INSERT INTO units (id, name, path, created_at) VALUES (2, '西河村', '/2/', 0)");
      return knownPlaces(tx, undefined, id);
    });
    expect(inside.sort()).toEqual(['石门镇', '西河村'].sort());
    // A command that adds a place, reads it (the read is kept) and then fails: rolled back.
    await expect(db.withWrite(async (tx) => {
      await tx.run("INSERT INTO units (id, name, path, created_at) VALUES (3, '南山村', '/3/', 0)");
      expect(await knownPlaces(tx, undefined, id)).toContain('南山村');
      throw new Error('handler failed');
    })).rejects.toThrow('handler failed');
    expect(await knownPlaces(db, undefined, id)).not.toContain('南山村');
    await dropTestDb(db);
  });

  it('sees a change another connection committed (SQLite: PRAGMA data_version)', async () => {
    if (testDialect() !== 'sqlite') return expect(testDialect()).toBe('postgres');
    const { db, file } = await fresh();
    expect((await cadreByAccount(db, 'console', 'u1'))?.name).toBe('张三');
    const other = new Database(file);
    other.prepare("UPDATE cadres SET name = '张三丰' WHERE id = 1").run();
    other.close();
    expect((await cadreByAccount(db, 'console', 'u1'))?.name).toBe('张三丰');
    await dropTestDb(db);
  });

  it('serves a value up to staleMs old on PostgreSQL when another process wrote; its own writes and SQLite are seen at once', async () => {
    const { db, file } = await fresh();
    const read = (h: Db) => h.memo('names', ['units'], async (via) => (await via.all<{ name: string }>('SELECT name FROM units ORDER BY id')).map((r) => r.name), { staleMs: 400 });
    expect(await read(db)).toEqual(['石门镇']);
    // Its own write, committed: seen by the next read on both databases.
    await db.run("INSERT INTO units (id, name, path, created_at) VALUES (2, '西河村', '/2/', 0)");
    expect(await read(db)).toEqual(['石门镇', '西河村']);
    // Another process's write: PostgreSQL may serve the old names until staleMs has passed.
    const other = await openDb(file);
    await other.run("INSERT INTO units (id, name, path, created_at) VALUES (4, '北街社区', '/4/', 0)");
    await other.close();
    expect(await read(db)).toEqual(testDialect() === 'sqlite' ? ['石门镇', '西河村', '北街社区'] : ['石门镇', '西河村']);
    await new Promise((r) => setTimeout(r, 450));
    expect(await read(db)).toEqual(['石门镇', '西河村', '北街社区']);
    // Read afresh inside a command that wrote the table and then fails: not kept.
    await new Promise((r) => setTimeout(r, 450));
    await expect(db.withWrite(async (tx) => {
      await tx.run("INSERT INTO units (id, name, path, created_at) VALUES (3, '南山村', '/3/', 0)");
      await read(tx);
      throw new Error('handler failed');
    })).rejects.toThrow('handler failed');
    expect(await read(db)).toEqual(['石门镇', '西河村', '北街社区']);
    await dropTestDb(db);
  });

  it('keeps nothing read inside a transaction it does not run (a script rolling back its own)', async () => {
    if (testDialect() !== 'sqlite') return expect(testDialect()).toBe('postgres');
    const { db } = await fresh();
    const sqlite = db.sqlite!;
    let pending: Promise<unknown> | undefined;
    const tx = sqlite.transaction(() => {
      sqlite.prepare("UPDATE cadres SET name = '改名' WHERE id = 1").run();
      pending = cadreByAccount(db, 'console', 'u1');
      throw new Error('abort');
    });
    expect(() => tx()).toThrow('abort');
    await pending;
    expect((await cadreByAccount(db, 'console', 'u1'))?.name).toBe('张三');
    await dropTestDb(db);
  });

  it('hands out a frozen cadre, so no message can change what the next one is given', async () => {
    const { db } = await fresh();
    const c = (await cadreByAccount(db, 'console', 'u1'))!;
    expect(Object.isFrozen(c)).toBe(true);
    await db.run("UPDATE cadres SET muted_until = '2026-12-31' WHERE id = 1");
    expect((await cadreByAccount(db, 'console', 'u1'))?.mutedUntil).toBe('2026-12-31');
    await db.run("DELETE FROM accounts WHERE account_id = 'u1'");
    expect(await cadreByAccount(db, 'console', 'u1')).toBeUndefined();
    await dropTestDb(db);
  });
});
