/**
 * A fake chat that reads like a conversation: `await chat.says('u1', '/走访 …')`, then look at
 * `chat.lastReply`. Each chat has its own SQLite file with the real migrations applied.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig, type Config } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
import type { Reply } from '../bot/reply.js';
import { stripBotMention } from '../bot/adapters/console/jsonl.js';
import { openDb, type Db } from '../storage/db.js';
import { createApp, type App } from '../scripts/app.js';
import { seedDemo } from '../scripts/demo.js';

export interface SayOptions { group?: boolean | string; id?: string; at?: string; card?: string; values?: Record<string, unknown>; replyTo?: string }

export class Chat {
  readonly dir = mkdtempSync(join(tmpdir(), 'minqing-test-'));
  readonly db: Db;
  readonly app: App;
  /** The bot's clock: every message is sent at this instant unless it says otherwise. */
  at = '2026-11-20T09:30:00+08:00';
  replies: Reply[] = [];

  /** `from`: a database file to start from (copied, so the original stays as it is). */
  constructor(config: Partial<Config> = {}, from?: string) {
    if (from) copyFileSync(from, join(this.dir, 'test.db'));
    this.db = openDb(join(this.dir, 'test.db'));
    this.app = createApp(testConfig({ MINQING_DB: join(this.dir, 'test.db'), ...config }), { db: this.db, log: createLogger('silent') });
  }

  /** A chat with the demo roster: u1 王强 (leader, admin, 示范县), u2 张三 (石门镇, 驻村), u3 李四 (东关社区). */
  static demo(config: Partial<Config> = {}): Chat {
    const c = new Chat(config);
    seedDemo(c.db, new Date(c.at).getTime());
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

  count(table: string, where = '1=1'): number {
    return (this.db.$client.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n;
  }

  close(): void {
    this.db.$client.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
