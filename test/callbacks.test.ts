/**
 * 回访 reminders (jobs/callbacks.ts): one working day after /办结 without a rating, the
 * responsible cadre is asked to call the citizen back — once, not after a rating or a reopening,
 * caught up after downtime. Passes and delivery as in test/reminders.test.ts (a real database, the
 * real outbound path into a counting sink), and once through the BullMQ scheduler on a real Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { NOT_NULL, oneWhere, setWhere } from './db-probe.js';
import { issueEvents, issues } from '../storage/schema.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import { deliver, runPass } from '../jobs/pass.js';
import { Scheduler } from '../jobs/scheduler.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';

const log = createLogger('silent');
let chat: Chat;
let sent: Array<{ reply: Reply; key: string }>;
let outbound: Outbound;

beforeEach(async () => {
  chat = await Chat.demo();
  sent = [];
  outbound = new Outbound({ log, limits: {} });
  outbound.register({ platform: 'console', send: async (reply, key) => { sent.push({ reply, key }); } });
});
afterEach(() => chat.close());

const on = (d: string, time = '10:00') => ({ at: `${d}T${time}:00+08:00` });
async function pass(at: string) {
  const r = await runPass(chat.db, { kind: 'deadlines', at: new Date(at), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
  for (const x of r.fresh) if (x.reply) await deliver(chat.db, x.key, { outbound, worker: 'w1', log });
  return r;
}
const callbacks = () => sent.filter((s) => s.key.startsWith('callback:'));

/** 张三 registers a problem for 李四 (u3), who resolves it on `resolved`. */
async function resolvedOn(resolved: string) {
  await chat.says('u2', '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:@李四 时限:12月31日', on('2026-09-01'));
  await chat.says('u3', '/办结 #1 路面已修复，已电话告知群众', on(resolved));
  expect(chat.lastReply).toContain('已办结 #1');
}

describe('回访 reminders', () => {
  it('go to the responsible cadre on the next working day — the 调休 Saturday — once', async () => {
    await resolvedOn('2026-10-09'); // Friday; Saturday 10月10日 is a make-up working day
    await pass('2026-10-09T16:00:00+08:00');
    expect(callbacks()).toHaveLength(0);
    await pass('2026-10-10T09:00:00+08:00');
    expect(callbacks()).toHaveLength(1);
    const [{ reply }] = callbacks();
    expect(reply.to).toBe('user');
    expect(reply.target).toBe('u3');
    expect(reply.text).toBe('【回访提醒】问题 #1「石门村 道路破损影响出行」已于 2026年10月9日 办结，还没有群众评价。请电话回访群众，并记录回访结果：/评价 #1 满意 回访（或 基本满意、不满意）。');
    expect(reply.actions?.[0]).toMatchObject({ label: '填报', command: '/评价 #1 满意 回访' });
    // A second pass the same day, the next working day, or a week later sends nothing again.
    for (const at of ['2026-10-10T15:00:00+08:00', '2026-10-12T09:00:00+08:00', '2026-10-19T09:00:00+08:00']) {
      expect((await pass(at)).fresh.filter((r) => r.kind === 'callback')).toHaveLength(0);
    }
    expect(callbacks()).toHaveLength(1);
    expect(await chat.count('reminders', { kind: 'callback' })).toBe(1);
  });

  it('are not sent once the issue is rated, and the rating records the call-back', async () => {
    await resolvedOn('2026-11-20');
    await chat.says('u3', '/评价 #1 满意 回访', on('2026-11-20', '17:00'));
    expect(chat.lastReply).toBe('已记录 #1 群众评价：满意（电话回访）。');
    const rated = await oneWhere(chat.db, issueEvents, { issueId: 1, action: 'rate' });
    expect(rated?.note).toBe('满意（电话回访）');
    await pass('2026-11-23T09:00:00+08:00');
    expect(callbacks()).toHaveLength(0);
  });

  it('are not sent after a citizen\'s own rating either', async () => {
    await resolvedOn('2026-11-20');
    await setWhere(chat.db, issues, { citizenSatisfaction: 'basic', citizenRatedAt: new Date('2026-11-21T12:00:00+08:00').getTime() }, { id: 1 });
    await pass('2026-11-23T09:00:00+08:00');
    expect(callbacks()).toHaveLength(0);
  });

  it('are caught up after downtime', async () => {
    await resolvedOn('2026-11-20');
    // Down on Monday 23rd and Tuesday 24th: Wednesday's pass still sends it, once.
    await pass('2026-11-25T09:00:00+08:00');
    await pass('2026-11-25T11:00:00+08:00');
    expect(callbacks().map((s) => s.key)).toEqual([expect.stringMatching(/^callback:1:\d+$/)]);
  });

  it('are dropped when the issue was reopened meanwhile, and asked again after the next /办结', async () => {
    await resolvedOn('2026-11-20');
    await chat.says('u3', '/评价 #1 不满意 路面又有坑', on('2026-11-24'));
    expect(chat.lastReply).toContain('问题重新转为「办理中」');
    await pass('2026-11-25T09:00:00+08:00');
    expect(callbacks()).toHaveLength(0);
    await chat.says('u3', '/办结 #1 已重新修补，已告知群众', on('2026-11-25', '14:00'));
    await pass('2026-11-26T09:00:00+08:00');
    expect(callbacks()).toHaveLength(1);
  });

  it('are dropped once their moment has passed: a /办结 more than 30 days old', async () => {
    await resolvedOn('2026-10-20');
    await pass('2026-11-23T09:00:00+08:00');
    expect(callbacks()).toHaveLength(0);
  });
});

describe('回访 through the scheduler on a real Redis', () => {
  it('two workers catching up after downtime deliver the 回访 reminder exactly once', async () => {
    await resolvedOn('2026-11-20');
    const keys: string[] = [];
    const sink = new Outbound({ log, limits: {} });
    sink.register({ platform: 'console', send: async (_r, key) => { keys.push(key); } });
    const name = `test-${randomUUID()}`;
    const made = ['a', 'b'].map((w) => new Scheduler({ db: chat.db, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      outbound: sink, log, tz: 'Asia/Shanghai', queueName: name, worker: w, concurrency: 2 }));
    try {
      for (const s of made) s.startWorker();
      const at = new Date('2026-11-24T09:00:00+08:00');
      await Promise.all(made.flatMap((s) => [s.catchUp(at), s.catchUp(at)]));
      const t0 = Date.now();
      while (!((await chat.count('reminders', { kind: 'callback', deliveredAt: NOT_NULL })) === 1)) {
        if (Date.now() - t0 > 20_000) throw new Error('timed out waiting for the 回访 reminder');
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(keys.filter((k) => k.startsWith('callback:'))).toHaveLength(1);
    } finally {
      for (const s of made) {
        await s.queue.obliterate({ force: true }).catch(() => {});
        await s.close().catch(() => {});
      }
    }
  });
});
