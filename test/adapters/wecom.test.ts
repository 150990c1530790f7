import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import type { Message } from 'wechaty';
import { Chat } from '../chat.js';
import { rowsWhere } from '../db-probe.js';
import { visits } from '../../storage/schema.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { HttpServer } from '../../bot/http-server.js';
import { formsFromCommands } from '../../bot/adapters/common.js';
import { createWechatyAdapter, createWecomAppAdapter, decryptWecom, encryptWecom, wecomSignature, type WechatyAdapter, type WecomAppAdapter } from '../../bot/adapters/wecom/index.js';
import { encryptedCallback, xmlField } from '../../bot/adapters/wecom/crypto.js';
import { allCommands } from '../../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../../storage/identity.js';
import { fakeServer, fixture, type Fake } from './loopback.js';

const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const log = createLogger('silent');

/** Waits for something the bot does asynchronously (a reply coming back through the mock). */
async function eventually<T>(fn: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What the mock's rooms and contacts see (their typed emitter's types do not resolve under NodeNext). */
function listen(x: mock.RoomMock | mock.ContactMock, fn: (m: mock.MessageMock) => void): void {
  (x as unknown as { on(e: 'message', f: (m: mock.MessageMock) => void): void }).on('message', fn);
}

describe('WeCom callback crypto', () => {
  it('checks the official vector: signature and plaintext', () => {
    const v = fixture('wecom', 'callback-vector');
    expect(wecomSignature(v.token, v.timestamp, v.nonce, v.echostr)).toBe(v.msg_signature);
    expect(decryptWecom(v.encodingAESKey, v.echostr)).toEqual({ message: v.plaintext, receiveId: v.corpId });
  });

  it('pads to a multiple of 32 bytes and refuses damaged input', () => {
    const key = fixture('wecom', 'callback-vector').encodingAESKey;
    for (const msg of ['', 'a', '民情'.repeat(7), 'x'.repeat(12)]) {
      const enc = encryptWecom(key, msg, 'wx5823bf96d3bd56c7');
      expect(Buffer.from(enc, 'base64').length % 32).toBe(0);
      expect(decryptWecom(key, enc)).toEqual({ message: msg, receiveId: 'wx5823bf96d3bd56c7' });
    }
    const enc = Buffer.from(encryptWecom(key, 'hello', 'corp'), 'base64');
    enc[enc.length - 1] ^= 0xff;
    expect(() => decryptWecom(key, enc.toString('base64'))).toThrow();
    expect(() => decryptWecom('A'.repeat(43), encryptWecom(key, 'hello', 'corp'))).toThrow();
  });
});

describe('WeCom through wechaty (puppet-mock) and the real core', () => {
  let chat: Chat;
  let adapter: WechatyAdapter;
  let mocker: mock.Mocker;
  let me: mock.ContactMock;
  let alice: mock.ContactMock;
  let bob: mock.ContactMock;
  let room: mock.RoomMock;
  const inRoom: string[] = [];
  const toAlice: string[] = [];
  const received: Message[] = [];

  beforeEach(async () => {
    chat = await Chat.demo();
    mocker = new mock.Mocker();
    const outbound = new Outbound({ log });
    adapter = createWechatyAdapter({ puppet: new PuppetMock({ mocker }), forms: formsFromCommands(allCommands()), now: () => NOW },
      { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k) });
    outbound.register(adapter.sender);
    adapter.bot.on('message', (m: Message) => { if (!m.self()) received.push(m); });
    await adapter.start();
    me = mocker.createContact({ name: '民情' });
    mocker.login(me);
    alice = mocker.createContact({ name: '张三' });
    bob = mocker.createContact({ name: '李四' });
    room = mocker.createRoom({ topic: '石门镇工作群', memberIdList: [me.id, alice.id, bob.id] });
    await bindAccount(chat.db, 'wecom', alice.id, (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    await bindAccount(chat.db, 'wecom', bob.id, (await cadreByPhone(chat.db, '13800000003'))!.id, NOW);
    inRoom.length = 0;
    toAlice.length = 0;
    received.length = 0;
    listen(room, (m) => { if (m.talker().id === me.id) inRoom.push(m.text() ?? ''); });
    listen(alice, (m) => { if (m.talker().id === me.id && !m.room()) toAlice.push(m.text() ?? ''); });
  });

  afterEach(async () => {
    await adapter.idle();
    await adapter.stop();
    await chat.close();
  });

  it('records a command in a one-to-one chat and answers with contact.say', async () => {
    alice.say('/走访 昨天 石门村 入户 1天 走访困难户3户').to(me);
    const reply = await eventually(() => toAlice[0], 'the direct reply');
    expect(reply).toContain('已记录走访 #V1：日期 11月19日（昨天） · 地点 石门村 · 入户走访 · 1天');
    expect((await rowsWhere(chat.db, visits)).map(({ date, place, kind, households }) => ({ date, place, kind, households }))).toEqual([{ date: '2026-11-19', place: '石门村', kind: 'household', households: 3 }]);
  });

  it('records a command @-addressed to the bot in a room (room id contains @) and answers with room.say', async () => {
    expect(room.id).toContain('@');
    alice.say('@民情 走访 今天 东关社区 宣讲 半天', [me]).to(room);
    const reply = await eventually(() => inRoom[0], 'the room reply');
    expect(reply).toContain('已记录走访 #V1：日期 11月20日（今天） · 地点 东关社区 · 政策宣讲 · 4小时');
    expect(await chat.count('visits')).toBe(1);
  });

  it('ignores room chatter that does not address the bot', async () => {
    alice.say('今天下午开会').to(room);
    await eventually(() => received.length >= 1, 'the message');
    await adapter.idle();
    expect(inRoom).toEqual([]);
    expect(await chat.count('visits')).toBe(0);
  });

  it('handles a redelivered message once: one record, one reply', async () => {
    alice.say('/走访 昨天 石门村 1天').to(me);
    await eventually(() => toAlice[0], 'the first reply');
    const id = received[0].id;
    // The puppet delivers the same message again.
    (adapter.bot.puppet as PuppetMock).emit('message', { messageId: id });
    await eventually(() => received.length >= 2, 'the redelivery');
    await adapter.idle();
    expect(received[1].id).toBe(id);
    expect(await chat.count('visits')).toBe(1);
    expect(toAlice).toHaveLength(1);
  });

  it('masks a citizen phone number in a room reply but not in a one-to-one chat', async () => {
    alice.say('@民情 /志愿 今天 2小时 石门村 看望王大爷13812345678', [me]).to(room);
    alice.say('/志愿 昨天 2小时 石门村 看望王大爷13812345678').to(me);
    await eventually(() => inRoom[0] && toAlice[0], 'both replies');
    expect(inRoom[0]).toContain('王大爷138****5678');
    expect(inRoom[0]).not.toContain('13812345678');
    expect(toAlice[0]).toContain('王大爷13812345678');
  });

  it('renders a reminder with a 填报 button as the command to send', async () => {
    await adapter.sender.send({ to: 'user', target: alice.id, platform: 'wecom', direct: true, text: '本月还差 1 次到村走访。', actions: [{ label: '填报', command: '/走访', form: 'visit' }] }, 'quota:1');
    const text = await eventually(() => toAlice[0], 'the reminder');
    expect(text).toBe('本月还差 1 次到村走访。\n填报：发送 /走访 [日期] 地点 [类型] 时长 [户数] [内容]');
  });
});

describe('WeCom app callback', () => {
  const v = fixture('wecom', 'callback-vector');
  let chat: Chat;
  let fake: Fake;
  let app: WecomAppAdapter;
  let server: HttpServer;
  let url: string;
  let now = NOW;

  beforeEach(async () => {
    now = NOW;
    chat = await Chat.demo();
    await bindAccount(chat.db, 'wecom', 'zhangsan', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
    fake = await fakeServer({
      'GET /cgi-bin/gettoken': (c) => (c.query.get('corpsecret') === 'app-secret'
        ? { json: { errcode: 0, errmsg: 'ok', access_token: 'wc-token', expires_in: 7200 } }
        : { json: { errcode: 40001, errmsg: 'invalid credential' } }),
      'POST /cgi-bin/message/send': () => ({ json: { errcode: 0, errmsg: 'ok', msgid: 'm1' } }),
    });
    const outbound = new Outbound({ log });
    app = createWecomAppAdapter({
      corpId: v.corpId, agentId: '1000002', secret: 'app-secret', token: v.token, encodingAESKey: v.encodingAESKey,
      apiBase: fake.url, ackWithinMs: 20_000, now: () => now,
    }, { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k) });
    outbound.register(app.sender);
    server = new HttpServer({ log });
    for (const route of app.routes()) server.route(route);
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}/wecom/callback`;
  });

  afterEach(async () => {
    await app.idle();
    await server.close();
    await fake.close();
    await chat.close();
  });

  const message = (xml = fixture('wecom', 'app-text').xml as string, o: { timestamp?: string; corpId?: string } = {}) =>
    encryptedCallback({ token: v.token, encodingAESKey: v.encodingAESKey, corpId: o.corpId ?? v.corpId, agentId: '1000002', xml, timestamp: o.timestamp ?? String(NOW / 1000), nonce: '1372623149' });

  it('answers the URL verification of the official vector with the plaintext', async () => {
    now = Number(v.timestamp) * 1000;
    const res = await fetch(`${url}?msg_signature=${v.msg_signature}&timestamp=${v.timestamp}&nonce=${v.nonce}&echostr=${encodeURIComponent(v.echostr)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(v.plaintext);
    const forged = await fetch(`${url}?msg_signature=${'0'.repeat(40)}&timestamp=${v.timestamp}&nonce=${v.nonce}&echostr=${encodeURIComponent(v.echostr)}`);
    expect(forged.status).toBe(401);
  });

  it('records a text message and replies with message/send, deduplicated on redelivery', async () => {
    const cb = message();
    const first = await fetch(`${url}?${cb.query}`, { method: 'POST', body: cb.body });
    expect(first.status).toBe(200);
    const again = await fetch(`${url}?${cb.query}`, { method: 'POST', body: cb.body });
    expect(again.status).toBe(200);
    expect((await rowsWhere(chat.db, visits)).map(({ date, place, kind }) => ({ date, place, kind }))).toEqual([{ date: '2026-11-19', place: '石门村', kind: 'household' }]);
    const sent = fake.to('/cgi-bin/message/send');
    expect(sent).toHaveLength(1);
    expect(sent[0].query.get('access_token')).toBe('wc-token');
    expect(sent[0].json).toMatchObject({ touser: 'zhangsan', agentid: 1000002, msgtype: 'text' });
    // WeCom's duplicate check compares content: it would swallow a second identical reply.
    expect(sent[0].json).not.toHaveProperty('enable_duplicate_check');
    expect(sent[0].json.text.content).toContain('已记录走访 #V1');
    expect(xmlField(fixture('wecom', 'app-text').xml, 'MsgId')).toBe('7430123456789012345');
  });

  it('refuses a forged signature, a stale request and another corp; nothing is recorded', async () => {
    const cb = message();
    const forgedQuery = cb.query.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'a'.repeat(40)}`);
    expect((await fetch(`${url}?${forgedQuery}`, { method: 'POST', body: cb.body })).status).toBe(401);
    const stale = message(undefined, { timestamp: String(NOW / 1000 - 600) });
    expect((await fetch(`${url}?${stale.query}`, { method: 'POST', body: stale.body })).status).toBe(403);
    const other = message(undefined, { corpId: 'wwOtherCorp000001' });
    expect((await fetch(`${url}?${other.query}`, { method: 'POST', body: other.body })).status).toBe(401);
    expect(await chat.count('visits')).toBe(0);
    expect(fake.calls).toHaveLength(0);
  });
});
