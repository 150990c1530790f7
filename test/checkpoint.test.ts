/**
 * SQLite checkpoints in a worker thread (storage/checkpoint.ts): once a handle has committed a
 * few hundred times, the log is copied into the database file without the writer doing it (the
 * writer's own automatic checkpoint waits for 8,000 pages, far more than written here), and
 * closing the handle stops the worker first, so the log is removed with the last connection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../storage/db.js';
import { Checkpointer } from '../storage/checkpoint.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('checkpoints off the event loop', () => {
  it('copies the log into the database file while the bot only appends, and closes cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-ckpt-'));
    dirs.push(dir);
    const file = join(dir, 'bot.db');
    const db = await openDb(file);
    await db.run('CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const before = statSync(file).size;
    // 400 group commits of 8 KB each: 3.2 MB of pages, under the writer's 8,000-page threshold.
    for (let i = 0; i < 400; i++) await db.withWrite((tx) => tx.run('INSERT INTO scratch (body) VALUES (?)', ['x'.repeat(8000) + i]));
    let grown = statSync(file).size - before;
    for (let i = 0; i < 50 && grown < 2_000_000; i++) {
      await sleep(50);
      grown = statSync(file).size - before;
    }
    expect(grown).toBeGreaterThan(2_000_000);
    expect(await db.value('SELECT count(*) FROM scratch')).toBe(400);
    await db.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('stops at once when the worker had already died (a file it could not open)', async () => {
    const c = new Checkpointer('/nonexistent-dir-minqing/x.db');
    for (let i = 0; i < 200; i++) c.committed();
    await sleep(1000);
    const stopped = await Promise.race([c.stop().then(() => 'stopped'), sleep(5000).then(() => 'hung')]);
    expect(stopped).toBe('stopped');
  }, 10_000);
});
