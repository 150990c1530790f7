/**
 * Reminders: what is due when, and that each goes out once — planned and recorded in a real
 * database (the test project's SQLite or PostgreSQL), delivered through the real outbound path
 * into a counting sink.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../bot/config.js';
import { chartEnricher } from '../scripts/enrich.js';
import { Chat } from './chat.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import { deliver, runPass } from '../jobs/pass.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';
import type { JobKind } from '../storage/reminder-settings.js';

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

async function pass(kind: JobKind, at: string) {
  const r = await runPass(chat.db, { kind, at: new Date(at), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
  for (const x of r.fresh) if (x.reply) await deliver(chat.db, x.key, { outbound, worker: 'w1', log });
  return r;
}
const to = (user: string) => sent.filter((s) => s.reply.target === user).map((s) => s.reply.text);

describe('quota nudges', () => {
  it('on the 20th, each cadre behind gets one message saying what is missing, and the lead a digest', async () => {
    await chat.says('u3', '/走访 11月18日 东关社区 到村 两天');
    const r = await pass('quota', '2026-11-20T09:00:00+08:00');
    expect(r.skipped).toBeUndefined();
    const zhang = to('u2');
    expect(zhang).toHaveLength(1);
    expect(zhang[0]).toContain('张三');
    expect(zhang[0]).toContain('本月还差');
    expect(zhang[0]).toContain('截至11月30日');
    expect(sent.find((s) => s.reply.target === 'u2')!.reply.actions?.[0]).toMatchObject({ label: '填报', command: '/走访' });
    // 王强 leads 示范县, so his digest covers the units below it.
    const digest = to('u1').find((t) => t.startsWith('【配额提醒】'));
    expect(digest).toContain('张三：');
    expect(await chat.count('reminders', { kind: 'quota' })).toBe(3);
  });

  it('sends nothing twice: a second pass the same day, or the next day, records nothing new', async () => {
    await pass('quota', '2026-11-20T09:00:00+08:00');
    const first = sent.length;
    expect(first).toBeGreaterThan(0);
    const again = await pass('quota', '2026-11-20T15:00:00+08:00');
    expect(again.fresh).toHaveLength(0);
    await pass('quota', '2026-11-23T09:00:00+08:00');
    expect(sent.length).toBe(first);
    // The 27th is a new slot of the same month.
    await pass('quota', '2026-11-27T09:00:00+08:00');
    expect(to('u2').length).toBe(2);
  });

  it('catches up a slot missed while down, but not once its period is over', async () => {
    await pass('quota', '2026-11-23T09:00:00+08:00'); // Monday after the 20th
    expect(to('u2')).toHaveLength(1);
    expect(to('u2')[0]).toContain('本月还差');
    sent = [];
    await pass('quota', '2026-12-01T09:00:00+08:00'); // November is closed: no November nudge
    expect(to('u2').join()).not.toContain('截至11月30日');
  });

  it('keeps quiet hours, weekends and holidays, but works on 调休 make-up days', async () => {
    expect((await pass('quota', '2026-11-20T22:30:00+08:00')).skipped).toBe('quiet-hours');
    expect((await pass('quota', '2026-11-21T10:00:00+08:00')).skipped).toBe('not-a-workday');
    expect((await pass('quota', '2026-10-01T10:00:00+08:00')).skipped).toBe('not-a-workday');
    expect(sent).toHaveLength(0);
    expect((await pass('quota', '2026-10-10T10:00:00+08:00')).skipped).toBeUndefined(); // Saturday, a make-up workday
    expect(to('u2')).toHaveLength(1);
  });

  it('respects /静音 for quota nudges', async () => {
    await chat.says('u2', '/静音 10天');
    await pass('quota', '2026-11-20T09:00:00+08:00');
    expect(to('u2')).toHaveLength(0);
    expect(to('u3')).toHaveLength(1);
  });
});

describe('deadline reminders', () => {
  beforeEach(async () => {
    await chat.says('u1', '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:张三 时限:11月23日');
    expect(chat.lastReply).toContain('已登记问题 #1');
    sent = [];
  });

  it('reminds 3 days and 1 day before, then daily when overdue with the lead told, and the committee after 7 days', async () => {
    await chat.says('u1', '/单位 示范县 委员会', { group: 'committee' });
    await pass('deadlines', '2026-11-20T09:00:00+08:00');
    expect(to('u2')).toEqual([expect.stringContaining('还有 3 天')]);
    await pass('deadlines', '2026-11-20T16:00:00+08:00');
    await pass('deadlines', '2026-11-23T09:00:00+08:00');
    expect(to('u2')).toHaveLength(2);
    expect(to('u2')[1]).toContain('还有 0 天');
    await pass('deadlines', '2026-11-24T09:00:00+08:00');
    await pass('deadlines', '2026-11-25T09:00:00+08:00');
    expect(to('u2').filter((t) => t.includes('已超期'))).toHaveLength(2);
    expect(to('u1').filter((t) => t.startsWith('【超期提醒】'))).toHaveLength(2);
    expect(to('committee')).toHaveLength(0);
    await pass('deadlines', '2026-11-30T09:00:00+08:00');
    await pass('deadlines', '2026-12-01T09:00:00+08:00');
    expect(to('committee')).toEqual([expect.stringContaining('已超期 7 天')]);
  });

  it('drops the reminders of an issue already resolved', async () => {
    await chat.says('u2', '/办结 #1 路面已修复，已电话告知群众');
    await pass('deadlines', '2026-11-20T09:00:00+08:00');
    await pass('deadlines', '2026-11-25T09:00:00+08:00');
    // What the deadlines pass still sends for it is the 回访 reminder (test/callbacks.test.ts).
    expect(sent.map((s) => s.key)).toEqual([expect.stringMatching(/^callback:1:/)]);
  });

  it('still reminds a muted cadre of deadlines', async () => {
    await chat.says('u2', '/静音 10天');
    await pass('deadlines', '2026-11-20T09:00:00+08:00');
    expect(to('u2')).toHaveLength(1);
  });
});

describe('weekly digest', () => {
  it('goes to the committee group on Monday about last week, once, with the visits chart attached', async () => {
    await chat.says('u1', '/单位 示范县 委员会', { group: 'committee' });
    await chat.says('u2', '/走访 11月18日 石门村 入户 1天');
    const enrich = chartEnricher(chat.db, testConfig({ MINQING_DB: chat.target, MINQING_EXPORT_DIR: join(chat.dir, 'exports') }));
    const r = await runPass(chat.db, { kind: 'digest', at: new Date('2026-11-23T09:00:00+08:00'), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
    expect(r.fresh.map((x) => x.key)).toEqual(['digest:2026-W47:console:committee']);
    await deliver(chat.db, r.fresh[0].key, { outbound, worker: 'w1', log, enrich });
    const got = sent[0].reply;
    expect(got.target).toBe('committee');
    expect(got.text).toContain('【每周简报】2026年第47周');
    expect(got.text).toContain('走访 1 次');
    expect(got.image).toMatch(/\.png$/);
    expect(existsSync(got.image!)).toBe(true);
    expect((await runPass(chat.db, { kind: 'digest', at: new Date('2026-11-24T09:00:00+08:00'), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) })).fresh).toHaveLength(0);
  });
});

describe('delivery', () => {
  it('a failed send is retried by the next attempt and still goes out once', async () => {
    let fail = true;
    const flaky = new Outbound({ log, limits: {} });
    flaky.register({ platform: 'console', send: async (reply, key) => { if (fail) throw new Error('platform 500'); sent.push({ reply, key }); } });
    const r = await runPass(chat.db, { kind: 'quota', at: new Date('2026-11-20T09:00:00+08:00'), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
    const key = r.fresh.find((x) => x.to === 'user' && x.kind === 'quota')!.key;
    await expect(deliver(chat.db, key, { outbound: flaky, worker: 'w1', log })).rejects.toThrow('platform 500');
    fail = false;
    expect(await deliver(chat.db, key, { outbound: flaky, worker: 'w2', log })).toBe('sent');
    expect(await deliver(chat.db, key, { outbound: flaky, worker: 'w1', log })).toBe('already');
    expect(sent.filter((s) => s.key === key)).toHaveLength(1);
  });

  it('a claim held by a live worker keeps a second worker off; an expired one does not', async () => {
    const r = await runPass(chat.db, { kind: 'quota', at: new Date('2026-11-20T09:00:00+08:00'), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
    const key = r.fresh[0].key;
    let release!: () => void;
    let started!: () => void;
    // The second worker must come only once the first holds the claim and is sending: on
    // PostgreSQL the first one's claim takes a few round trips before send is called.
    const sending = new Promise<void>((res) => { started = res; });
    const slow = new Outbound({ log, limits: {} });
    slow.register({ platform: 'console', send: (reply, k) => new Promise((res) => { release = () => { sent.push({ reply, key: k }); res(); }; started(); }) });
    const first = deliver(chat.db, key, { outbound: slow, worker: 'w1', log });
    await sending;
    expect(await deliver(chat.db, key, { outbound, worker: 'w2', log })).toBe('already');
    release();
    expect(await first).toBe('sent');
    expect(sent.filter((s) => s.key === key)).toHaveLength(1);
  });
});
