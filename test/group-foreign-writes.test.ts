/**
 * SQLite group commit: a write made by code outside the running command (the delivery loop
 * marking a reply sent, a scheduler's bookkeeping) while that command waits on real I/O inside its
 * savepoint must not become part of the command: were the command to fail, its rollback would
 * undo the mark and the reply would be sent again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../storage/db.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('writes from outside a command while its group is open', () => {
  it('survive the rollback of the command they ran beside, and keep their order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-foreign-'));
    dirs.push(dir);
    const db = await openDb(join(dir, 'bot.db'));
    await db.run('CREATE TABLE marks (id INTEGER PRIMARY KEY, what TEXT NOT NULL)');
    const failing = db.withWrite(async (tx) => {
      await tx.run("INSERT INTO marks (what) VALUES ('command')");
      await sleep(30); // real I/O: other code runs meanwhile
      throw new Error('handler failed');
    });
    await sleep(10);
    // The delivery loop, meanwhile: a plain write and a write returning rows.
    const outside = Promise.all([
      db.run("INSERT INTO marks (what) VALUES ('sent 1')"),
      db.all<{ id: number }>("INSERT INTO marks (what) VALUES ('sent 2') RETURNING id"),
    ]);
    await expect(failing).rejects.toThrow('handler failed');
    const [changed, returned] = await outside;
    expect(changed).toBe(1);
    expect(returned).toHaveLength(1);
    expect((await db.all<{ what: string }>('SELECT what FROM marks ORDER BY id')).map((r) => r.what)).toEqual(['sent 1', 'sent 2']);
    await db.close();
  });
});
