/**
 * `minqing migrate --to postgres://…`: a county's SQLite database, filled through the bot, copied
 * into PostgreSQL and verified table by table; the bot then goes on there. Runs in the `postgres`
 * project (it needs both databases).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chat, dropTestDb, testDbTarget, testDialect } from './chat.js';
import { openDb, type Db } from '../storage/db.js';
import { seedDemo } from '../scripts/demo.js';
import { copyDatabase, verifyCopy } from '../scripts/move-db.js';
import { countOf, oneWhere, setWhere } from './db-probe.js';
import { issues, visits, cadres } from '../storage/schema.js';
import { createApp } from '../scripts/app.js';
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';

describe.skipIf(testDialect() !== 'postgres')('moving a county from SQLite to PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minqing-move-'));
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => { for (const x of open.splice(0).reverse()) await x.close(); });

  /** A SQLite county: the demo roster, visits, a volunteer record, an issue through its states. */
  async function county(): Promise<Chat> {
    const file = join(dir, `src-${Date.now()}-${Math.random()}.db`);
    await (await openDb(file)).close();
    const chat = await Chat.create({}, file);
    open.push(chat);
    await seedDemo(chat.db, new Date(chat.at).getTime());
    await chat.says('u2', '/走访 昨天 石门村 入户 2小时 3户 了解王大爷家\'s 用水情况', { id: 'm1' });
    await chat.says('u2', '/走访 今天 石门村三组 座谈 半天 村民代表座谈', { id: 'm2' });
    await chat.says('u3', '/志愿 今天 东关社区 3小时 义诊', { id: 'm3' });
    await chat.says('u2', '/民情 石门村 路灯坏了三盏 时限：月底前 责任人：张三', { id: 'm4' });
    await chat.says('u2', '/进展 #1 已联系供电所', { id: 'm5' });
    await chat.says('u2', '/办结 #1 已修好，已告知群众', { id: 'm6' });
    expect(await chat.count('visits')).toBe(2);
    expect(await chat.count('issues')).toBe(1);
    return chat;
  }

  async function target(): Promise<Db> {
    const db = await openDb(testDbTarget(dir));
    open.push({ close: () => dropTestDb(db) });
    return db;
  }

  it('copies every table, verifies counts and checksums, and the bot goes on with fresh ids', async () => {
    const src = await county();
    const pg = await target();
    const reports = await copyDatabase(src.db, pg);
    expect(reports.every((r) => r.ok)).toBe(true);
    const byTable = new Map(reports.map((r) => [r.table, r]));
    expect(byTable.get('visits')!.rows).toBe(2);
    expect(byTable.get('issue_events')!.rows).toBeGreaterThanOrEqual(3);
    expect(byTable.get('inbound_messages')!.rows).toBe(6);
    // Values survive as they were: booleans as booleans, Chinese text, millisecond instants.
    const a = (await oneWhere(src.db, visits, { id: 2 }))!;
    const b = (await oneWhere(pg, visits, { id: 2 }))!;
    expect(b).toEqual(a);
    expect(typeof b.backdated).toBe('boolean');
    expect((await oneWhere(pg, cadres, { name: '张三' }))!.residentWorker).toBe(true);
    expect((await oneWhere(pg, issues, { id: 1 }))!.state).toBe('resolved');
    // A new record gets the next id, not one the copy already used.
    const app = createApp(testConfig({ MINQING_DB: 'postgres://moved', MINQING_DATA_DIR: dir }), { db: pg, log: createLogger('silent') });

    const replies = await app.handle(makeEvent({ platform: 'console', chatId: 'u2', direct: true, senderId: 'u2', messageId: 'm7',
      at: new Date(src.at), text: '/走访 今天 石门村 入户 1小时 1户 回访' }, createLogger('silent')));
    expect(replies[0].text).toContain('#V3');
    // A redelivered message of the old database is still known: no second record.
    await app.handle(makeEvent({ platform: 'console', chatId: 'u2', direct: true, senderId: 'u2', messageId: 'm1',
      at: new Date(src.at), text: '/走访 昨天 石门村 入户 2小时 3户 了解王大爷家\'s 用水情况' }, createLogger('silent')));
    expect(await countOf(pg, visits)).toBe(3);
  });

  it('finds a row changed after the copy, and refuses a target that already has records', async () => {
    const src = await county();
    const pg = await target();
    expect((await copyDatabase(src.db, pg)).every((r) => r.ok)).toBe(true);
    await setWhere(pg, visits, { hours: 7 }, { id: 1 });
    const after = await verifyCopy(src.db, pg);
    expect(after.filter((r) => !r.ok).map((r) => r.table)).toEqual(['visits']);
    await expect(copyDatabase(src.db, pg)).rejects.toThrow(/已有数据/);
  });

  it('leaves the target empty when the copy fails half-way', async () => {
    const src = await county();
    const pg = await target();
    // Break the target so the copy fails after some tables went in: a column the visits need.
    await pg.run('ALTER TABLE visits DROP COLUMN content');
    await expect(copyDatabase(src.db, pg)).rejects.toThrow();
    expect(await countOf(pg, cadres)).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
