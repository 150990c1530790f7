/**
 * Feishu's long connection against a loopback endpoint with the real `WSClient`: refusals and
 * dropped sockets are retried with back-off and show in the adapter's health; and a 填报 click
 * in a group sends the form to the clicker alone, leaving the shared card as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from '../chat.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { HttpServer } from '../../bot/http-server.js';
import { formsFromCommands } from '../../bot/adapters/common.js';
import { createFeishuAdapter, type FeishuAdapter } from '../../bot/adapters/feishu/index.js';
import { signedCallback } from '../../bot/adapters/feishu/crypto.js';
import { allCommands } from '../../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../../storage/identity.js';
import { feishuGateway, until, type WsGateway } from './gateways.js';
import { fakeServer, fixture, post, type Fake } from './loopback.js';

const ENCRYPT_KEY = 'kl9Qe5tQ8vZ2mXb7';
const TOKEN = 'v3rification-t0ken';
const APP_ID = 'cli_a1b2c3d4e5f6a7b8';

function lines(): { log: ReturnType<typeof createLogger>; msgs: Array<Record<string, any>> } {
  const msgs: Array<Record<string, any>> = [];
  return { msgs, log: createLogger('info', { write: (s: string) => { msgs.push(JSON.parse(s)); } }) };
}

describe('Feishu long connection against a loopback endpoint (real WSClient)', () => {
  let gw: WsGateway;
  let feishu: FeishuAdapter;
  let chat: Chat;
  afterEach(async () => {
    await feishu?.stop();
    await gw?.close();
    const c = chat;
    chat = undefined as never; // closed once, even if the next test fails before making its own
    await c?.close();
  });

  it('retries refused endpoints with back-off, reports ready, reconnects after a drop and closes on stop', async () => {
    gw = await feishuGateway();
    // 514 auth failed is a refusal the SDK does not retry: it calls onError and gives up.
    gw.endpointAnswers.push({ json: { code: 514, msg: 'auth failed', data: {} } }, { json: { code: 1000040350, msg: 'exceed conn limit', data: {} } });
    chat = await Chat.demo();
    const { log, msgs } = lines();
    feishu = createFeishuAdapter({
      appId: APP_ID, appSecret: 'app-secret', botName: '民情', domain: gw.url, forms: {}, mode: 'ws',
      ws: { minDelayMs: 40, maxDelayMs: 400, handshakeTimeoutMs: 2000, watchEveryMs: 20 },
    }, { handle: chat.app.handle, log, send: async () => {} });
    expect(feishu.routes()).toEqual([]);
    await feishu.start();
    await until(() => feishu.health().attempts === 1, 3000, 'first refusal');
    expect(feishu.health()).toMatchObject({ state: 'reconnecting', detail: expect.stringContaining('code=514') });
    await until(() => feishu.health().state === 'ready' && gw.open() === 1, 5000, 'ready after two refusals');
    expect(gw.endpointCalls).toHaveLength(3);
    expect(gw.endpointCalls[0]).toMatchObject({ AppID: APP_ID, AppSecret: 'app-secret' });
    const retries = msgs.filter((m) => m.msg === 'Feishu long connection failed: retrying with a new client');
    expect(retries.map((m) => m.failures)).toEqual([1, 2]);
    expect(retries[1].retryInMs).toBeGreaterThan(retries[0].retryInMs);
    expect(msgs.some((m) => m.msg === 'Feishu long connection ready')).toBe(true);

    // The gateway drops the socket: the SDK reconnects by itself and says so.
    gw.dropAll();
    await until(() => gw.connections === 2 && gw.open() === 1 && feishu.health().state === 'ready', 5000, 'reconnected');
    expect(msgs.some((m) => m.msg === 'Feishu long connection dropped: reconnecting')).toBe(true);
    expect(msgs.some((m) => m.msg === 'Feishu long connection reconnected')).toBe(true);
    expect(gw.maxOpen).toBe(1);

    await feishu.stop();
    await until(() => gw.open() === 0, 2000, 'closed on stop');
    expect(feishu.health().state).toBe('stopped');
  });

  it('refuses to start with an app id the SDK would silently ignore', async () => {
    chat = await Chat.demo();
    gw = await feishuGateway();
    feishu = createFeishuAdapter({ appId: 'not-an-app-id', appSecret: 's', botName: '民情', domain: gw.url, mode: 'ws' }, { handle: chat.app.handle, log: createLogger('silent'), send: async () => {} });
    await expect(feishu.start()).rejects.toThrow('FEISHU_APP_ID');
    expect(gw.endpointCalls).toHaveLength(0);
  });
});

describe('Feishu 填报 click in a group', () => {
  let fake: Fake;
  let server: HttpServer;
  let chat: Chat;
  afterEach(async () => { await server.close(); await fake.close(); await chat.close(); });

  it('sends the form to the clicker in a direct message and leaves the group card untouched', async () => {
    const sent: any[] = [];
    fake = await fakeServer({
      'POST /open-apis/auth/v3/tenant_access_token/internal': () => ({ json: { code: 0, tenant_access_token: 't-fake', expire: 7200 } }),
      'POST /open-apis/im/v1/messages': (c) => { sent.push({ ...c.json, receive_id_type: c.query.get('receive_id_type'), content: JSON.parse(c.json.content) }); return { json: { code: 0, data: { message_id: `om_${sent.length}` } } }; },
    });
    chat = await Chat.demo();
    const now = Date.parse('2026-11-20T09:30:00+08:00');
    await bindAccount(chat.db, 'feishu', 'ou_u2', (await cadreByPhone(chat.db, '13800000002'))!.id, now);
    const log = createLogger('silent');
    const outbound = new Outbound({ log });
    const feishu = createFeishuAdapter({
      appId: APP_ID, appSecret: 'app-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, botName: '民情', domain: fake.url,
      forms: formsFromCommands(allCommands()), mode: 'http', now: () => now,
    }, { handle: chat.app.handle, log, send: (reply, key) => outbound.send(reply, key) });
    outbound.register(feishu.sender);
    server = new HttpServer({ log });
    for (const route of feishu.routes()) server.route(route);
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;

    const click = fixture('feishu', 'card-open');
    click.event.action.value.direct = false;
    click.event.context = { open_message_id: 'om_group_card', open_chat_id: 'oc_group_shimen' };
    const signed = signedCallback(click, { encryptKey: ENCRYPT_KEY, timestamp: Math.floor(now / 1000) });
    const res = await post(`${url}/feishu/cards`, signed.body, signed.headers);
    expect(res.status).toBe(200);
    // No `card` in the answer: the shared card stays as it is for everyone; a toast for the clicker.
    expect(res.json.card).toBeUndefined();
    expect(res.json.toast.content).toContain('私信');
    await feishu.idle();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ receive_id_type: 'open_id', receive_id: 'ou_u2', msg_type: 'interactive' });
    const button = sent[0].content.body.elements.flatMap((e: any) => e.columns ?? []).flatMap((c: any) => c.elements)[0];
    // In the direct chat the button opens the form in place.
    expect(button.behaviors[0].value).toEqual({ minqing: 'open', form: 'visit', direct: true });
    expect(JSON.stringify(sent[0].content)).toContain('只有你和机器人看得到');
  });
});
