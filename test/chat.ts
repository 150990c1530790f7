/**
 * A fake chat that reads like a conversation: `await chat.says('u1', '/走访 …')`, then look at
 * `chat.lastReply`. Each chat has a database of its own with the real migrations applied: a
 * SQLite file, or — when `MINQING_TEST_DB=postgres` (the `postgres` test project) — a schema of
 * its own in the PostgreSQL at `MINQING_TEST_PG` (default postgres://postgres@127.0.0.1:5432/test),
 * dropped on `close()`.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { is } from 'drizzle-orm';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { testConfig, type Config } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
import type { Reply } from '../bot/reply.js';
import { stripBotMention } from '../bot/adapters/console/jsonl.js';
import { openDb, type Db } from '../storage/db.js';
import { createApp, type App } from '../scripts/app.js';
import { seedDemo } from '../scripts/demo.js';
import { countOf, type Where } from './db-probe.js';
import * as schema from '../storage/schema.js';

export interface SayOptions { group?: boolean | string; id?: string; at?: string; card?: string; values?: Record<string, unknown>; replyTo?: string }

/** Which database the tests run on (vitest.config.ts sets it per project). */
export const testDialect = (): 'sqlite' | 'postgres' => (process.env.MINQING_TEST_DB === 'postgres' ? 'postgres' : 'sqlite');

/**
 * Schemas of this worker whose test is over, emptied and ready for the next test: creating and
 * migrating a schema costs about half a second on PostgreSQL, emptying one a few milliseconds.
 * Each test still starts on an empty database of its own.
 */
const freeSchemas: string[] = [];
let schemaSeq = 0;
const tableNames = Object.values(schema).filter((t) => is(t, SQLiteTable)).map((t) => getTableConfig(t as SQLiteTable).name);

/**
 * A database target of its own for one test: a file in `dir`, or an empty PostgreSQL schema.
 * `openDb(target)` creates and migrates it. Schema names carry the run's id (test/pg-setup.ts
 * drops them when the run ends).
 */
export function testDbTarget(dir: string, name = 'test.db'): string {
  if (testDialect() === 'sqlite') return join(dir, name);
  const base = process.env.MINQING_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const run = process.env.MINQING_TEST_RUN ?? randomBytes(3).toString('hex');
  const schemaName = freeSchemas.pop() ?? `t_${run}_${process.pid}_${++schemaSeq}`;
  return `${base}${base.includes('?') ? '&' : '?'}schema=${schemaName}`;
}

/** Closes a test's database; a PostgreSQL schema is emptied and kept for the next test of this worker. */
export async function dropTestDb(db: Db): Promise<void> {
  if (db.dialect === 'postgres' && db.schema && !db.inTransaction) {
    await db.run(`TRUNCATE ${tableNames.join(', ')} RESTART IDENTITY`);
    freeSchemas.push(db.schema);
  }
  await db.close();
}

export class Chat {
  readonly dir: string;
  readonly target: string;
  /** The bot's clock: every message is sent at this instant unless it says otherwise. */
  at = '2026-11-20T09:30:00+08:00';
  replies: Reply[] = [];

  private constructor(readonly db: Db, readonly app: App, dir: string, target: string) {
    this.dir = dir;
    this.target = target;
  }

  /**
   * A chat with an empty roster. `from`: a SQLite database file to start from (copied, so the
   * original stays as it is); only on SQLite.
   */
  static async create(config: Partial<Config> = {}, from?: string): Promise<Chat> {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-test-'));
    let target: string;
    if (from) {
      target = join(dir, 'test.db');
      copyFileSync(from, target);
    } else target = testDbTarget(dir);
    const db = await openDb(target);
    const app = createApp(testConfig({ MINQING_DB: target, MINQING_DATA_DIR: dir, ...config }), { db, log: createLogger('silent') });
    return new Chat(db, app, dir, target);
  }

  /** A chat with the demo roster: u1 王强 (leader, admin, 示范县), u2 张三 (石门镇, 驻村), u3 李四 (东关社区). */
  static async demo(config: Partial<Config> = {}): Promise<Chat> {
    const c = await Chat.create(config);
    await seedDemo(c.db, new Date(c.at).getTime());
    return c;
  }

  async says(user: string, text: string, o: SayOptions = {}): Promise<Reply[]> {
    const group = o.group !== undefined && o.group !== false;
    const { text: t, mentionsBot } = stripBotMention(text, '民情');
    const event = makeEvent({
      platform: 'console', chatId: typeof o.group === 'string' ? o.group : group ? 'g1' : user, direct: !group,
      senderId: user, messageId: o.id, at: new Date(o.at ?? this.at), text: t, mentionsBot, replyTo: o.replyTo,
      card: o.card ? { form: o.card, values: o.values ?? {} } : undefined,
    }, createLogger('silent'));
    this.replies = await this.app.handle(event);
    return this.replies;
  }

  /** The text of the last reply to the chat (or, failing that, the last reply at all). */
  get lastReply(): string {
    const r = [...this.replies].reverse().find((x) => x.to === 'chat') ?? this.replies.at(-1);
    return r?.text ?? '';
  }

  /** Messages sent directly to someone (`to: 'user'`). */
  get directMessages(): Reply[] {
    return this.replies.filter((r) => r.to === 'user');
  }

  /** Rows of a table (by its schema key: `visits`, `issueEvents` …) matching `where` (keys as in the schema). */
  count(table: keyof typeof schema, where: Where = {}): Promise<number> {
    return countOf(this.db, schema[table] as SQLiteTable, where);
  }

  async close(): Promise<void> {
    await this.app.close();
    await dropTestDb(this.db);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
