/**
 * The reminder settings /提醒 shows are the ones the scheduler runs with — the
 * environment's defaults (MINQING_CRON_*, MINQING_QUIET_HOURS) on `deps`, under admin changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Chat } from './chat.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { Scheduler, JOBS } from '../jobs/scheduler.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let chat: Chat;
let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.queue.obliterate({ force: true }).catch(() => {});
  await scheduler?.close();
  scheduler = undefined;
  await chat.close();
});

describe('reminder settings', () => {
  it('/提醒 shows the environment defaults the scheduler uses, and an admin change wins in both', async () => {
    chat = await Chat.demo({ MINQING_CRON_QUOTA: '0 8 * * 1-5', MINQING_QUIET_HOURS: '22:00-07:30' });
    scheduler = new Scheduler({ db: chat.db, redisUrl: REDIS, outbound: new Outbound({ log: createLogger('silent') }), log: createLogger('silent'), tz: 'Asia/Shanghai', queueName: `test-${randomUUID()}`, envSettings: chat.app.deps.reminderDefaults });
    await chat.says('u1', '/提醒');
    expect(chat.lastReply).toContain('配额提醒：cron「0 8 * * 1-5」');
    expect(chat.lastReply).toContain('免打扰：22:00–07:30');
    expect(await scheduler.settings()).toMatchObject({ quietStart: '22:00', quietEnd: '07:30', crons: { quota: '0 8 * * 1-5' } });

    await chat.says('u1', '/提醒 免打扰 21:30-08:00');
    await chat.says('u1', '/提醒');
    expect(chat.lastReply).toContain('免打扰：21:30–08:00');
    expect(chat.lastReply).toContain('配额提醒：cron「0 8 * * 1-5」');
    expect(await scheduler.settings()).toMatchObject({ quietStart: '21:30', quietEnd: '08:00', crons: { quota: '0 8 * * 1-5' } });
  });

  it('declares each job as a file: name, data schema and process', async () => {
    chat = await Chat.demo();
    expect(Object.keys(JOBS).sort()).toEqual(['deliver', 'pass', 'prune-exports']);
    expect(typeof JOBS['prune-exports'].process).toBe('function');
    expect(JOBS.pass.data.safeParse({ kind: 'quota' }).success).toBe(true);
    expect(JOBS.pass.data.safeParse({ kind: 'nope' }).success).toBe(false);
    expect(JOBS.deliver.data.safeParse({ keys: [] }).success).toBe(false);
    expect(typeof JOBS.deliver.process).toBe('function');
  });
});
