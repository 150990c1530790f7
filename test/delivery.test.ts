/**
 * Reply delivery you can trust (docs/platforms.md#delivery): the real adapters and SDKs against loopback fakes of
 * the platforms, with the reply outbox in a real database (the test project's SQLite or PostgreSQL) — a 429 then
 * success, a token invalidated early, a restart mid-delivery, a redelivered message, a replayed DingTalk sign.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { oneWhere } from './db-probe.js';
import { outbox } from '../storage/schema.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import { ReplyDelivery, backoffMs, DEFAULT_RETRY, PlatformError, type RetryPolicy } from '../bot/delivery.js';
import { outgoingOf, readOutgoing, splitText } from '../bot/outgoing.js';
import { formsFromCommands, type AdapterDeps } from '../bot/adapters/common.js';
import { createFeishuAdapter } from '../bot/adapters/feishu/index.js';
import { signedCallback, messageEvent } from '../bot/adapters/feishu/crypto.js';
import { createDingtalkAdapter } from '../bot/adapters/dingtalk/index.js';
import type { RobotMessage } from '../bot/adapters/dingtalk/decode.js';
import { createWecomAppAdapter } from '../bot/adapters/wecom/app.js';
import { encryptedCallback } from '../bot/adapters/wecom/crypto.js';
import { allCommands } from '../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../storage/identity.js';
import { claimDue, outboxCounts, outboxOf } from '../storage/outbox.js';
import { firstSeen } from '../storage/proofs.js';
import { fakeServer, fixture, post, type Answer, type Call, type Fake } from './adapters/loopback.js';
import { benchFaults } from '../scripts/bench-faults.js';

const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const log = createLogger('silent');
const FAST = { maxAttempts: 8, baseMs: 5, maxMs: 40 };
const forms = formsFromCommands(allCommands());

async function eventually<T>(f: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

/** The outbox and the outbound path as the composition root builds them (retries FAST unless told). */
function deliveryFor(chat: Chat, o: { retry?: RetryPolicy; leaseMs?: number } = {}) {
  const outbound = new Outbound({ log });
  const delivery = new ReplyDelivery({ db: chat.db, send: (m, k) => outbound.send(m, k), log, retry: o.retry ?? FAST, leaseMs: o.leaseMs });
  cleanups.push(() => delivery.stop());
  const deps: AdapterDeps = {
    handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k), outbox: delivery,
    firstSeen: (s, p, e) => firstSeen(chat.db, s, p, e, NOW),
  };
  return { outbound, delivery, deps };
}

async function listen(routes: { method: 'GET' | 'POST'; path: string; handler: any }[]): Promise<string> {
  const server = new HttpServer({ log });
  for (const r of routes) server.route(r);
  const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  cleanups.push(() => server.close());
  return url;
}

async function demo(): Promise<Chat> {
  const chat = await Chat.demo();
  cleanups.push(() => chat.close());
  return chat;
}

async function fake(routes: Record<string, (c: Call) => Answer | Promise<Answer>>): Promise<Fake> {
  const f = await fakeServer(routes);
  cleanups.push(() => f.close());
  return f;
}

describe('Feishu through the outbox', () => {
  const ENCRYPT_KEY = 'kl9Qe5tQ8vZ2mXb7';
  const TOKEN = 'v3rification-t0ken';
  const APP = 'cli_a1b2c3d4e5f6a7b8';

  async function feishuRig(messages: (c: Call, n: number) => Answer) {
    const chat = await demo();
    await bindAccount(chat.db, 'feishu', 'ou_u2', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    let tokens = 0;
    let n = 0;
    const f = await fake({
      'POST /open-apis/auth/v3/tenant_access_token/internal': () => ({ json: { code: 0, tenant_access_token: `t-${++tokens}`, expire: 7200 } }),
      'POST /open-apis/im/v1/messages': (c) => messages(c, ++n),
    });
    const { delivery, outbound, deps } = deliveryFor(chat);
    const adapter = createFeishuAdapter({
      appId: APP, appSecret: 'app-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN,
      botOpenId: 'ou_bot', botName: '民情', domain: f.url, forms, ackWithinMs: 20_000, now: () => NOW, mode: 'http',
    }, deps);
    outbound.register(adapter.sender);
    cleanups.push(() => adapter.idle());
    const url = await listen(adapter.routes());
    const say = (text: string, o: { messageId?: string; eventId?: string; appId?: string } = {}) => {
      const cb = signedCallback(messageEvent({
        verificationToken: TOKEN, eventId: o.eventId ?? 'ev-1', messageId: o.messageId ?? 'om_1', chatId: 'oc_p2p_u2', chatType: 'p2p',
        senderOpenId: 'ou_u2', text, createTime: NOW, appId: o.appId,
      }), { encryptKey: ENCRYPT_KEY, timestamp: Math.floor(NOW / 1000) });
      return post(`${url}/feishu/events`, cb.body, cb.headers);
    };
    return { chat, f, delivery, say, tokens: () => tokens };
  }

  const ok = { json: { code: 0, msg: 'success', data: { message_id: 'om_sent' } } };

  it('a 429 is retried with backoff until Feishu takes the reply: one visit, one message', async () => {
    const r = await feishuRig((_c, n) => (n === 1 ? { status: 429, json: { code: 99991400, msg: 'request trigger frequency limit' } } : ok));
    await r.delivery.start();
    expect((await r.say('/走访 昨天 石门村 1天')).status).toBe(200);
    await eventually(async () => (await outboxOf(r.chat.db, 'feishu', 'om_1'))[0]?.deliveredAt, 'the retried reply');
    const [row] = await outboxOf(r.chat.db, 'feishu', 'om_1');
    expect(row).toMatchObject({ attempts: 2, failedAt: null });
    expect(row.lastError).toContain('99991400');
    const sent = r.f.to('/open-apis/im/v1/messages');
    expect(sent).toHaveLength(2);
    // The retry carries the same uuid, so Feishu would drop it had the first one got through.
    expect(sent[1].json.uuid).toBe(sent[0].json.uuid);
    expect(JSON.parse(sent[1].json.content).text).toContain('已记录走访');
    expect(await r.chat.count('visits')).toBe(1);
  });

  it('a token invalidated early is dropped, a new one fetched, and the send retried once', async () => {
    const r = await feishuRig((c) => (c.headers.authorization === 'Bearer t-1'
      ? { status: 400, json: { code: 99991663, msg: 'Invalid access token for authorization' } } : ok));
    await r.say('/我的');
    expect(r.tokens()).toBe(2);
    const sent = r.f.to('/open-apis/im/v1/messages');
    expect(sent.map((c) => c.headers.authorization)).toEqual(['Bearer t-1', 'Bearer t-2']);
    expect((await outboxOf(r.chat.db, 'feishu', 'om_1'))[0]).toMatchObject({ attempts: 1 });
    expect((await outboxOf(r.chat.db, 'feishu', 'om_1'))[0].deliveredAt).not.toBeNull();
  });

  it('a refusal a retry cannot cure is marked undeliverable after one attempt', async () => {
    const r = await feishuRig(() => ({ status: 400, json: { code: 230013, msg: 'Bot has NO availability to this user.' } }));
    await r.delivery.start();
    await r.say('/我的');
    await r.delivery.idle();
    const [row] = await outboxOf(r.chat.db, 'feishu', 'om_1');
    expect(row).toMatchObject({ attempts: 1, deliveredAt: null });
    expect(row.failedAt).not.toBeNull();
    expect(r.f.to('/open-apis/im/v1/messages')).toHaveLength(1);
  });

  it('refuses an event for another app', async () => {
    const r = await feishuRig(() => ok);
    const res = await r.say('/我的', { appId: 'cli_other_app_0000' });
    expect(res.status).toBe(401);
    expect(r.f.calls).toHaveLength(0);
    expect(await r.chat.count('inboundMessages')).toBe(0);
  });
});

describe('DingTalk through the outbox', () => {
  const SECRET = 'dt-app-secret-0123456789';
  const sign = (ts: string) => createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64');

  async function dingtalkRig(chat: Chat, f: Fake, o: Parameters<typeof deliveryFor>[1] = {}) {
    const { delivery, outbound, deps } = deliveryFor(chat, o);
    const adapter = createDingtalkAdapter({
      clientId: 'dingrobotappkey01', clientSecret: SECRET, botName: '民情', apiBase: f.url, oapiBase: f.url,
      forms, ackWithinMs: 20_000, now: () => NOW, mode: 'http',
    }, deps);
    outbound.register(adapter.sender);
    cleanups.push(() => adapter.idle());
    const url = await listen(adapter.routes());
    const robot = (over: Partial<RobotMessage> = {}): RobotMessage => {
      const m = fixture<RobotMessage>('dingtalk', 'robot-p2p');
      return { ...m, sessionWebhook: m.sessionWebhook!.replace('https://oapi.dingtalk.com', f.url), ...over };
    };
    const send = (m: RobotMessage, ts = String(NOW)) => post(`${url}/dingtalk/robot`, JSON.stringify(m), { timestamp: ts, sign: sign(ts) });
    return { delivery, robot, send };
  }

  it('a restart mid-delivery resumes the reply; the redelivered message then sends nothing', async () => {
    const chat = await demo();
    await bindAccount(chat.db, 'dingtalk', 'u1staff', (await cadreByPhone(chat.db, '13800000001'))!.id, NOW);
    await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    let up = false;
    const f = await fake({
      'POST /robot/sendBySession': () => (up ? { json: { errcode: 0, errmsg: 'ok' } } : { status: 503, json: {} }),
      'POST /v1.0/oauth2/accessToken': () => ({ json: { accessToken: 'dt-token', expireIn: 7200 } }),
      'POST /v1.0/robot/oToMessages/batchSend': () => (up ? { json: { processQueryKey: 'q' } } : { status: 503, json: { code: 'ServiceUnavailable' } }),
    });
    // First life: the platform is down, so the reply stays in the outbox; the process then dies
    // while holding a claim on it (the claim a send in flight would hold). Its retry waits half a
    // second or more: with FAST's few milliseconds the retry could fall due, and be sent again,
    // before the answer to the message is complete (the database's speed would decide).
    const first = await dingtalkRig(chat, f, { retry: { maxAttempts: 8, baseMs: 1_000, maxMs: 1_000 } });
    expect((await first.send(first.robot())).status).toBe(200);
    const msgId = first.robot().msgId;
    expect((await outboxOf(chat.db, 'dingtalk', msgId))[0]).toMatchObject({ attempts: 1, deliveredAt: null, failedAt: null });
    await first.delivery.stop();
    const { dueAt } = (await oneWhere(chat.db, outbox, { platform: 'dingtalk', messageId: msgId }))!;
    expect(await claimDue(chat.db, Math.max(Date.now(), dueAt), 15 * 60_000, 10)).toHaveLength(1);
    const callsBefore = f.calls.length;

    // Second life: the platform is back; delivery takes over the dead claim and sends once. On
    // SQLite the new process releases it at start (it owns the file); on PostgreSQL, where other
    // processes may hold live claims, it passes on when its lease runs out: a second here.
    up = true;
    const second = await dingtalkRig(chat, f, { leaseMs: 1_000 });
    await second.delivery.start();
    await eventually(async () => (await outboxOf(chat.db, 'dingtalk', msgId))[0]?.deliveredAt, 'the resumed reply', 10_000);
    await second.delivery.idle();
    // The new process has no session webhook in memory: the robot API, to the person the
    // one-to-one chat was with (the outgoing message carries it).
    const sent = f.calls.slice(callsBefore).filter((c) => c.path === '/v1.0/robot/oToMessages/batchSend');
    expect(sent).toHaveLength(1);
    expect(sent[0].json.userIds).toEqual(['u2staff']);
    expect(JSON.parse(sent[0].json.msgParam).content).toContain('已记录走访');

    // DingTalk resends the message (a fresh timestamp): the router answers from the record and
    // the outbox has nothing left to send.
    const n = f.calls.length;
    expect((await second.send(second.robot(), String(NOW + 1))).status).toBe(200);
    await second.delivery.idle();
    expect(f.calls.length).toBe(n);
    expect(await chat.count('visits')).toBe(1);
    expect(await outboxCounts(chat.db)).toMatchObject({ pending: 0, delivered: 1, failed: 0 });
  });

  it('accepts a (timestamp, sign) pair once — also after a restart', async () => {
    const chat = await demo();
    await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    const f = await fake({ 'POST /robot/sendBySession': () => ({ json: { errcode: 0, errmsg: 'ok' } }) });
    const a = await dingtalkRig(chat, f);
    expect((await a.send(a.robot({ msgId: 'm-1', text: { content: '/我的' } }))).status).toBe(200);
    // A captured pair with another body (an administrator's command) is refused.
    const replay = await a.send(a.robot({ msgId: 'm-2', text: { content: '/绑定 13800000001' } }));
    expect(replay.status).toBe(403);
    const b = await dingtalkRig(chat, f);
    expect((await b.send(b.robot({ msgId: 'm-3', text: { content: '/我的' } }))).status).toBe(403);
    expect(await chat.count('inboundMessages')).toBe(1);
  });

  it('an unknown user is undeliverable at once, not retried', async () => {
    const chat = await demo();
    await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    const f = await fake({
      'POST /robot/sendBySession': () => ({ json: { errcode: 300001, errmsg: 'session expired' } }),
      'POST /v1.0/oauth2/accessToken': () => ({ json: { accessToken: 'dt-token', expireIn: 7200 } }),
      'POST /v1.0/robot/oToMessages/batchSend': () => ({ json: { processQueryKey: 'q', invalidStaffIdList: ['u2staff'], flowControlledStaffIdList: [] } }),
    });
    const r = await dingtalkRig(chat, f);
    await r.delivery.start();
    await r.send(r.robot({ msgId: 'm-x', text: { content: '/我的' } }));
    await r.delivery.idle();
    const [row] = await outboxOf(chat.db, 'dingtalk', 'm-x');
    expect(row).toMatchObject({ attempts: 1, deliveredAt: null });
    expect(row.lastError).toContain('does not know user');
    expect(f.to('/v1.0/robot/oToMessages/batchSend')).toHaveLength(1);
  });
});

describe('WeCom app through the outbox', () => {
  const v = fixture('wecom', 'callback-vector');

  it('refreshes a token invalidated early (42001), delivers identical replies twice, splits long texts at 2048 bytes', async () => {
    const chat = await demo();
    await bindAccount(chat.db, 'wecom', 'zhangsan', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    let tokens = 0;
    const f = await fake({
      'GET /cgi-bin/gettoken': () => ({ json: { errcode: 0, errmsg: 'ok', access_token: `wc-${++tokens}`, expires_in: 7200 } }),
      'POST /cgi-bin/message/send': (c) => (c.query.get('access_token') === 'wc-1'
        ? { json: { errcode: 42001, errmsg: 'access_token expired' } } : { json: { errcode: 0, errmsg: 'ok', msgid: 'm' } }),
    });
    const { outbound, deps } = deliveryFor(chat);
    const app = createWecomAppAdapter({
      corpId: v.corpId, agentId: '1000002', secret: 'app-secret', token: v.token, encodingAESKey: v.encodingAESKey,
      apiBase: f.url, ackWithinMs: 20_000, now: () => NOW,
    }, deps);
    outbound.register(app.sender);
    cleanups.push(() => app.idle());
    const url = `${await listen(app.routes())}/wecom/callback`;
    const say = async (text: string, msgId: string) => {
      const xml = `<xml><ToUserName><![CDATA[${v.corpId}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${NOW / 1000}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId}</MsgId><AgentID>1000002</AgentID></xml>`;
      const cb = encryptedCallback({ token: v.token, encodingAESKey: v.encodingAESKey, corpId: v.corpId, agentId: '1000002', xml, timestamp: String(NOW / 1000), nonce: msgId });
      return fetch(`${url}?${cb.query}`, { method: 'POST', body: cb.body });
    };
    await say('/我的', '1001');
    await say('/我的', '1002');
    const ok = () => f.to('/cgi-bin/message/send').filter((c) => c.query.get('access_token') !== 'wc-1');
    expect(tokens).toBe(2);
    expect(ok()).toHaveLength(2);
    expect(ok()[0].json.text.content).toBe(ok()[1].json.text.content);

    await say('/帮助', '1003');
    const help = ok().slice(2);
    expect(help.length).toBeGreaterThan(1);
    for (const c of help) expect(Buffer.byteLength(c.json.text.content, 'utf8')).toBeLessThanOrEqual(2048);
    expect((await outboxOf(chat.db, 'wecom', '1003'))[0].deliveredAt).not.toBeNull();
  });
});

describe('the fault bench', () => {
  it('loses and duplicates nothing with 10% of sends refused, a restart and redeliveries', async () => {
    const r = await benchFaults({ replies: 400, log, quiet: true });
    expect(r).toMatchObject({ visits: 400, replies: 400, accepted: 400, lost: 0, duplicated: 0 });
    expect(r.retried).toBeGreaterThan(0);
  }, 60_000);
});

describe('outgoing messages and backoff', () => {
  it('splits at line ends within the byte limit and never inside a character', () => {
    const text = ['第一行'.repeat(100), '第二行'.repeat(100), '长'.repeat(1000)].join('\n');
    const parts = splitText(text, 2048);
    for (const p of parts) expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(2048);
    expect(parts.join('').replace(/\n/g, '')).toBe(text.replace(/\n/g, ''));
    expect(parts[0]).toBe(`${'第一行'.repeat(100)}\n${'第二行'.repeat(100)}`.slice(0, parts[0].length));
    expect(splitText('短', 2048)).toEqual(['短']);
  });

  it('reads old stored replies: to a user direct, to a chat a group; the origin chat keeps its kind', () => {
    expect(readOutgoing(JSON.stringify({ to: 'user', target: 'ou_1', platform: 'feishu', text: 'x', cadreId: 3 }))).toEqual({ to: 'user', target: 'ou_1', platform: 'feishu', text: 'x', direct: true });
    expect(readOutgoing(JSON.stringify({ to: 'chat', target: 'oc_1', platform: 'feishu', text: 'x' })).direct).toBe(false);
    expect(outgoingOf({ to: 'chat', target: 'u1', text: 'x' }, { platform: 'console', chatId: 'u1', direct: true })).toMatchObject({ platform: 'console', direct: true });
    expect(() => outgoingOf({ to: 'user', cadreId: 1, text: 'x' })).toThrow(/not addressed/);
  });

  it('backs off exponentially with jitter, never sooner than the platform asks', () => {
    expect(backoffMs(1, DEFAULT_RETRY, 0, () => 0)).toBe(1_000);
    expect(backoffMs(3, DEFAULT_RETRY, 0, () => 1)).toBe(8_000);
    expect(backoffMs(20, DEFAULT_RETRY, 0, () => 1)).toBe(DEFAULT_RETRY.maxMs);
    expect(backoffMs(1, DEFAULT_RETRY, 30_000, () => 0)).toBe(30_000);
    expect(new PlatformError({ platform: 'x', message: 'm', permanent: true }).permanent).toBe(true);
  });
});
