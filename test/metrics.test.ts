/**
 * `GET /metrics` (bot/metrics.ts): messages in through the real Feishu adapter, replies out
 * through the outbox to a loopback Feishu that refuses some, the reminder queue in a real Redis
 * — then the Prometheus text is parsed and its counters, histogram and gauges checked.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import { ReplyDelivery } from '../bot/delivery.js';
import { Metrics } from '../bot/metrics.js';
import { formsFromCommands, type AdapterDeps } from '../bot/adapters/common.js';
import { createFeishuAdapter } from '../bot/adapters/feishu/index.js';
import { signedCallback, messageEvent } from '../bot/adapters/feishu/crypto.js';
import { allCommands } from '../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../storage/identity.js';
import { enqueueReplies, outboxCounts } from '../storage/outbox.js';
import { firstSeen } from '../storage/proofs.js';
import { fakeServer, post, type Answer } from './adapters/loopback.js';
import { deliverMany, runPass } from '../jobs/pass.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';
import { undeliveredKeys } from '../storage/reminders.js';

const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = createLogger('silent');
const ENCRYPT_KEY = 'kl9Qe5tQ8vZ2mXb7';
const TOKEN = 'v3rification-t0ken';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

/** The samples of a Prometheus text exposition, keyed `name{a="x",b="y"}` with labels sorted. */
function parseMetrics(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) { types.set(type[1], type[2]); continue; }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(labels.length ? `${m[1]}{${labels.join(',')}}` : m[1], Number(m[3]));
  }
  return { samples, types };
}

/** The key `parseMetrics` uses for a sample. */
const key = (name: string, labels: Record<string, string> = {}) => {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
  return l.length ? `${name}{${l.join(',')}}` : name;
};

async function eventually(f: () => Promise<unknown> | unknown, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('GET /metrics', () => {
  it('counts messages by outcome, failed sends by platform, times deliveries and shows the queue depths', async () => {
    const chat = await Chat.demo();
    cleanups.push(() => chat.close());
    await bindAccount(chat.db, 'feishu', 'ou_u2', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    const metrics = new Metrics({ db: chat.db });
    chat.app.deps.metrics = metrics;

    // Feishu takes the first reply on its second try (a 429 first), refuses the second for good
    // (the bot may not write to the user), and takes the rest.
    let n = 0;
    const ok = { json: { code: 0, msg: 'success', data: { message_id: 'om_sent' } } };
    const answers: Answer[] = [
      { status: 429, json: { code: 99991400, msg: 'request trigger frequency limit' } }, ok,
      { status: 400, json: { code: 230013, msg: 'Bot has NO availability to this user.' } },
    ];
    const f = await fakeServer({
      'POST /open-apis/auth/v3/tenant_access_token/internal': () => ({ json: { code: 0, tenant_access_token: 't-1', expire: 7200 } }),
      'POST /open-apis/im/v1/messages': () => answers[n++] ?? ok,
    });
    cleanups.push(() => f.close());

    const outbound = new Outbound({ log });
    const delivery = new ReplyDelivery({ db: chat.db, send: (m, k) => outbound.send(m, k), log, retry: { maxAttempts: 8, baseMs: 5, maxMs: 40 }, metrics });
    cleanups.push(() => delivery.stop());
    const deps: AdapterDeps = { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k), outbox: delivery, firstSeen: (s, p, e) => firstSeen(chat.db, s, p, e, NOW) };
    const feishu = () => createFeishuAdapter({
      appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 'app-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN,
      botOpenId: 'ou_bot', botName: '民情', domain: f.url, forms: formsFromCommands(allCommands()), ackWithinMs: 20_000, now: () => NOW, mode: 'http',
    }, deps);
    const adapter = feishu();
    outbound.register(adapter.sender);
    cleanups.push(() => adapter.idle());

    // The bot's one server, as scripts/platforms.ts builds it: the routes, /healthz and /metrics.
    const server = new HttpServer({ log, metrics: () => metrics.scrape() });
    for (const r of adapter.routes()) server.route(r);
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    cleanups.push(() => server.close());
    // A second replica's adapter behind the same load balancer: it has not seen the first's message ids.
    const other = feishu();
    cleanups.push(() => other.idle());
    const otherServer = new HttpServer({ log });
    for (const r of other.routes()) otherServer.route(r);
    const otherUrl = `http://127.0.0.1:${await otherServer.listen(0, '127.0.0.1')}`;
    cleanups.push(() => otherServer.close());
    expect(() => server.route({ method: 'GET', path: '/metrics', handler: async () => ({ status: 200 }) })).toThrow(/twice/);

    // The reminder queue: two waiting passes and one delayed delivery, no worker.
    const conn = new Redis(REDIS, { maxRetriesPerRequest: null });
    const queue = new Queue(`test-metrics-${randomUUID()}`, { connection: conn });
    cleanups.push(async () => { await queue.obliterate({ force: true }); await queue.close(); conn.disconnect(); });
    await queue.add('pass', { kind: 'quota' });
    await queue.add('pass', { kind: 'digest' });
    await queue.add('deliver', { keys: ['k'] }, { delay: 3_600_000 });
    metrics.watchQueue(queue);

    let ev = 0;
    const say = async (text: string, messageId: string, to = url) => {
      const cb = signedCallback(messageEvent({
        verificationToken: TOKEN, eventId: `ev-${++ev}`, messageId, chatId: 'oc_p2p_u2', chatType: 'p2p', senderOpenId: 'ou_u2', text, createTime: NOW,
      }), { encryptKey: ENCRYPT_KEY, timestamp: Math.floor(NOW / 1000) });
      expect((await post(`${to}/feishu/events`, cb.body, cb.headers)).status).toBe(200);
      await adapter.idle();
      await other.idle();
      await delivery.idle();
    };
    await delivery.start();
    await say('/走访 昨天 石门村 1天', 'om_1'); // handled; its reply: 429, then taken
    await eventually(async () => (await outboxCounts(chat.db)).delivered === 1, 'the retried reply');
    await say('/我的', 'om_2'); // handled; its reply refused for good
    await eventually(async () => (await outboxCounts(chat.db)).failed === 1, 'the refused reply');
    await say('你好', 'om_3'); // not a command: answered with how to use the bot
    // Feishu's resend of the first message, under a new event id, reaching the other replica:
    // answered from the database with the recorded replies, nothing recorded or sent again.
    await say('/走访 昨天 石门村 1天', 'om_1', otherUrl);
    // A reply that is not due yet stays pending: the outbox depth.
    await enqueueReplies(chat.db, 'feishu', 'om_later', [JSON.stringify({ platform: 'feishu', to: 'user', target: 'ou_u2', text: 'later' })], Date.now() + 3_600_000);

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseMetrics(await res.text());
    const v = (name: string, labels?: Record<string, string>) => samples.get(key(name, labels));

    expect(types.get('minqing_inbound_messages_total')).toBe('counter');
    expect(v('minqing_inbound_messages_total', { platform: 'feishu', outcome: 'handled' })).toBe(2);
    expect(v('minqing_inbound_messages_total', { platform: 'feishu', outcome: 'rejected' })).toBe(1);
    expect(v('minqing_inbound_messages_total', { platform: 'feishu', outcome: 'redelivered' })).toBe(1);
    expect(v('minqing_inbound_messages_total', { platform: 'feishu', outcome: 'error' })).toBeUndefined();

    expect(types.get('minqing_delivery_failures_total')).toBe('counter');
    expect(v('minqing_delivery_failures_total', { platform: 'feishu', kind: 'reply', result: 'retry' })).toBe(1);
    expect(v('minqing_delivery_failures_total', { platform: 'feishu', kind: 'reply', result: 'undeliverable' })).toBe(1);

    const counts = await outboxCounts(chat.db);
    expect(await chat.count('visits')).toBe(1);
    expect(counts.delivered).toBe(2); // the visit's reply and the answer to 你好
    expect(types.get('minqing_delivery_latency_seconds')).toBe('histogram');
    expect(v('minqing_delivery_latency_seconds_count', { platform: 'feishu', kind: 'reply' })).toBe(counts.delivered);
    expect(v('minqing_delivery_latency_seconds_bucket', { platform: 'feishu', kind: 'reply', le: '+Inf' })).toBe(counts.delivered);

    expect(types.get('minqing_outbox_pending')).toBe('gauge');
    expect(v('minqing_outbox_pending')).toBe(1);
    expect(v('minqing_reminder_queue_jobs', { state: 'waiting' })).toBe(2);
    expect(v('minqing_reminder_queue_jobs', { state: 'delayed' })).toBe(1);
    expect(v('minqing_metrics_source_up', { source: 'db' })).toBe(1);
    expect(v('minqing_metrics_source_up', { source: 'redis' })).toBe(1);

    // The process's own metrics.
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(samples.has(name), name).toBe(true);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('leaves a depth it cannot read within the scrape timeout out, and says which source is down', async () => {
    const metrics = new Metrics({ defaults: false, scrapeTimeoutMs: 100 });
    metrics.watchQueue({ getJobCounts: () => new Promise(() => {}) }); // Redis away: the command never answers
    const t0 = Date.now();
    const { samples } = parseMetrics((await metrics.scrape()).body);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(samples.get(key('minqing_metrics_source_up', { source: 'redis' }))).toBe(0);
    expect([...samples.keys()].some((k) => k.startsWith('minqing_reminder_queue_jobs'))).toBe(false);
    expect([...samples.keys()].some((k) => k.startsWith('process_'))).toBe(false);
  });

  it('counts reminder deliveries and their failures by platform', async () => {
    const chat = await Chat.demo();
    cleanups.push(() => chat.close());
    const metrics = new Metrics({ defaults: false });
    const outbound = new Outbound({ log });
    outbound.register({ platform: 'console', send: async (r) => { if (r.target === 'u3') throw new Error('console down for u3'); } });
    await runPass(chat.db, { kind: 'quota', at: new Date('2026-11-20T09:00:00+08:00'), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) });
    const keys = await undeliveredKeys(chat.db);
    const r = await deliverMany(chat.db, keys, { outbound, worker: 'w1', log, metrics });
    expect(r.failed).toHaveLength(1);
    const { samples } = parseMetrics((await metrics.scrape()).body);
    expect(samples.get(key('minqing_delivery_failures_total', { platform: 'console', kind: 'reminder', result: 'retry' }))).toBe(1);
    expect(samples.get(key('minqing_delivery_latency_seconds_count', { platform: 'console', kind: 'reminder' }))).toBe(r.sent);
    expect(r.sent).toBe(keys.length - 1);
  });
});
