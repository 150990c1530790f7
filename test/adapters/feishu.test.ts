import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from '../chat.js';
import { oneWhere, rowsWhere } from '../db-probe.js';
import { issues, visits } from '../../storage/schema.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { HttpServer } from '../../bot/http-server.js';
import type { BotEvent } from '../../bot/event.js';
import type { Reply } from '../../bot/reply.js';
import { formsFromCommands } from '../../bot/adapters/common.js';
import { createFeishuAdapter, type FeishuAdapter } from '../../bot/adapters/feishu/index.js';
import { decryptFeishu, encryptFeishu, feishuSignature, signedCallback, signedMessageCallback } from '../../bot/adapters/feishu/crypto.js';
import { decodeMessage, resolveMentions } from '../../bot/adapters/feishu/decode.js';
import { allCommands } from '../../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../../storage/identity.js';
import { fakeServer, fixture, post, type Fake } from './loopback.js';

const ENCRYPT_KEY = 'kl9Qe5tQ8vZ2mXb7';
const TOKEN = 'v3rification-t0ken';
const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const log = createLogger('silent');

/** Stands in for open.feishu.cn: token endpoint, messages (deduplicated by uuid like Feishu), uploads. */
async function fakeFeishu(): Promise<Fake & { delivered: () => any[] }> {
  const byUuid = new Map<string, string>();
  const delivered: any[] = [];
  const fake = await fakeServer({
    'POST /open-apis/auth/v3/tenant_access_token/internal': (c) =>
      ({ json: c.json?.app_secret === 'app-secret' ? { code: 0, tenant_access_token: 't-fake', expire: 7200 } : { code: 10014, msg: 'app secret invalid' } }),
    'POST /open-apis/im/v1/messages': (c) => {
      if (c.headers.authorization !== 'Bearer t-fake') return { status: 400, json: { code: 99991663, msg: 'invalid token' } };
      const uuid = c.json.uuid as string | undefined;
      if (uuid && byUuid.has(uuid)) return { json: { code: 0, msg: 'success', data: { message_id: byUuid.get(uuid) } } };
      const id = `om_sent_${delivered.length + 1}`;
      if (uuid) byUuid.set(uuid, id);
      delivered.push({ ...c.json, receive_id_type: c.query.get('receive_id_type'), content: JSON.parse(c.json.content) });
      return { json: { code: 0, msg: 'success', data: { message_id: id } } };
    },
    'POST /open-apis/im/v1/images': () => ({ json: { code: 0, msg: 'success', data: { image_key: 'img_v3_fake' } } }),
    'POST /open-apis/im/v1/files': () => ({ json: { code: 0, msg: 'success', data: { file_key: 'file_v3_fake' } } }),
  });
  return Object.assign(fake, { delivered: () => delivered });
}

interface Rig { chat: Chat; fake: Awaited<ReturnType<typeof fakeFeishu>>; feishu: FeishuAdapter; server: HttpServer; url: string; now: number }

async function rig(handle?: (e: BotEvent) => Promise<Reply[]>, extra: { ackWithinMs?: number } = {}): Promise<Rig> {
  const chat = await Chat.demo();
  await bindAccount(chat.db, 'feishu', 'ou_u1', (await cadreByPhone(chat.db, '13800000001'))!.id, NOW);
  await bindAccount(chat.db, 'feishu', 'ou_u2', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
  await bindAccount(chat.db, 'feishu', 'ou_u3', (await cadreByPhone(chat.db, '13800000003'))!.id, NOW);
  const fake = await fakeFeishu();
  const outbound = new Outbound({ log });
  const r = { chat, fake, now: NOW } as Rig;
  r.feishu = createFeishuAdapter({
    appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 'app-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN,
    botOpenId: 'ou_bot', botName: '民情', domain: fake.url, forms: formsFromCommands(allCommands()),
    ackWithinMs: extra.ackWithinMs ?? 20_000, now: () => r.now, mode: 'http',
  }, { handle: handle ?? chat.app.handle, log, send: (reply, key) => outbound.send(reply, key) });
  outbound.register(r.feishu.sender);
  r.server = new HttpServer({ log });
  for (const route of r.feishu.routes()) r.server.route(route);
  r.url = `http://127.0.0.1:${await r.server.listen(0, '127.0.0.1')}`;
  return r;
}

async function callback(r: Rig, payload: unknown, path = '/feishu/events', o: { timestamp?: number } = {}) {
  const signed = signedCallback(payload, { encryptKey: ENCRYPT_KEY, timestamp: o.timestamp ?? Math.floor(r.now / 1000) });
  return post(r.url + path, signed.body, signed.headers);
}

let r: Rig;
afterEach(async () => {
  if (!r) return;
  const x = r;
  r = undefined as never; // closed once: a test that makes no rig of its own leaves nothing to close
  await x.feishu.idle();
  await x.server.close();
  await x.fake.close();
  await x.chat.close();
});

describe('Feishu crypto', () => {
  it('decrypts the known-answer vector of the Feishu docs', () => {
    expect(decryptFeishu('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=')).toBe('hello world');
  });

  it('encrypts what it decrypts and signs timestamp+nonce+key+raw body with SHA-256', () => {
    const enc = encryptFeishu(ENCRYPT_KEY, '{"a":"民情"}', Buffer.alloc(16, 7));
    expect(Buffer.from(enc, 'base64').subarray(0, 16)).toEqual(Buffer.alloc(16, 7));
    expect(decryptFeishu(ENCRYPT_KEY, enc)).toBe('{"a":"民情"}');
    const body = '{"encrypt":"abc"}';
    const expected = createHash('sha256').update('1795138200' + 'n0nce' + ENCRYPT_KEY + body).digest('hex');
    expect(feishuSignature('1795138200', 'n0nce', ENCRYPT_KEY, Buffer.from(body))).toBe(expected);
  });

  it('builds a signed message callback for the bench', () => {
    const cb = signedMessageCallback({
      encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, eventId: 'e1', messageId: 'om_1', chatId: 'oc_1', chatType: 'p2p',
      senderOpenId: 'ou_u2', text: '/我的', timestamp: 1795138200, nonce: 'n1',
    });
    expect(cb.headers['x-lark-signature']).toBe(feishuSignature('1795138200', 'n1', ENCRYPT_KEY, cb.body));
    const payload = JSON.parse(decryptFeishu(ENCRYPT_KEY, JSON.parse(cb.body).encrypt));
    expect(payload.header).toMatchObject({ event_id: 'e1', event_type: 'im.message.receive_v1', token: TOKEN });
    expect(JSON.parse(payload.event.message.content)).toEqual({ text: '/我的' });
  });
});

describe('Feishu decoding', () => {
  it('removes the bot mention, names the others and marks one-to-one chats', () => {
    const group = fixture('feishu', 'message-group');
    const e = decodeMessage({ ...group.header, ...group.event }, { botOpenId: 'ou_bot', botName: '民情', log, now: () => NOW })!;
    expect(e).toMatchObject({
      platform: 'feishu', chatId: 'oc_group_shimen', direct: false, senderId: 'ou_u2', messageId: 'om_group_0001',
      text: '走访 今天 东关社区 宣讲 半天 与 @李四 一起宣讲医保政策', mentionsBot: true, mentions: [{ accountId: 'ou_u3', name: '李四' }],
    });
    expect(e.at.getTime()).toBe(NOW);
    const p2p = fixture('feishu', 'message-p2p');
    expect(decodeMessage({ ...p2p.header, ...p2p.event }, { botName: '民情', log, now: () => NOW })).toMatchObject({ direct: true, mentionsBot: false, chatId: 'oc_p2p_u2' });
  });

  it('recognises the bot by name when no open_id is configured, and @所有人', () => {
    const out = resolveMentions('@_user_1 /我的 @_all', [{ key: '@_user_1', id: { open_id: 'ou_x' }, name: '民情' }, { key: '@_all', name: '所有人' }], { botName: '民情' });
    expect(out).toEqual({ text: '/我的 @所有人', mentionsBot: true, mentions: [] });
  });

  it('turns images, files and locations into attachments', () => {
    const base = fixture('feishu', 'message-p2p');
    const msg = (message_type: string, content: unknown) =>
      decodeMessage({ ...base.event, message: { ...base.event.message, message_type, content: JSON.stringify(content) } }, { botName: '民情', log, now: () => NOW })!;
    expect(msg('image', { image_key: 'img_1' }).attachments).toEqual([{ kind: 'image', key: 'img_1' }]);
    expect(msg('file', { file_key: 'f_1', file_name: '走访.xlsx' }).attachments).toEqual([{ kind: 'file', key: 'f_1', name: '走访.xlsx' }]);
    expect(msg('location', { name: '石门村村委会', longitude: '113.1', latitude: '29.2' }).attachments[0])
      .toMatchObject({ kind: 'location', name: '石门村村委会', meta: { latitude: 29.2, longitude: 113.1 } });
    expect(msg('post', { title: '走访', content: [[{ tag: 'text', text: '/走访 今天 石门村 1天' }], [{ tag: 'img', image_key: 'img_2' }]] }))
      .toMatchObject({ text: '/走访 今天 石门村 1天', attachments: [{ kind: 'image', key: 'img_2' }] });
  });
});

describe('Feishu HTTP callback through the real core', () => {
  beforeEach(async () => { r = await rig(); });

  it('answers the URL check with the challenge, and refuses a wrong token', async () => {
    const check = fixture('feishu', 'url-verification');
    const body = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify(check)) });
    expect(await post(r.url + '/feishu/events', body)).toMatchObject({ status: 200, json: { challenge: 'ajls384kdjx98XX' } });
    const forged = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify({ ...check, token: 'guess' })) });
    expect((await post(r.url + '/feishu/events', forged)).status).toBe(401);
  });

  it('records a command sent in a one-to-one chat and replies to that chat', async () => {
    const res = await callback(r, fixture('feishu', 'message-p2p'));
    expect(res.status).toBe(200);
    expect((await rowsWhere(r.chat.db, visits)).map(({ date, place, kind, hours, households }) => ({ date, place, kind, hours, households })))
      .toEqual([{ date: '2026-11-19', place: '石门村', kind: 'household', hours: 8, households: 3 }]);
    const [sent] = r.fake.delivered();
    expect(sent).toMatchObject({ receive_id_type: 'chat_id', receive_id: 'oc_p2p_u2', msg_type: 'text' });
    expect(sent.content.text).toContain('已记录走访 #V1：日期 11月19日（昨天） · 地点 石门村 · 入户走访 · 1天');
    expect(sent.uuid).toMatch(/^[0-9a-f]{40}$/);
  });

  it('records a command addressed to the bot by @-mention in a group', async () => {
    expect((await callback(r, fixture('feishu', 'message-group'))).status).toBe(200);
    const v = (await oneWhere(r.chat.db, visits))!;
    expect({ date: v.date, place: v.place, kind: v.kind, hours: v.hours, content: v.content })
      .toEqual({ date: '2026-11-20', place: '东关社区', kind: 'briefing', hours: 4, content: '与 @李四 一起宣讲医保政策' });
    expect(r.fake.delivered()).toHaveLength(1);
    expect(r.fake.delivered()[0]).toMatchObject({ receive_id_type: 'chat_id', receive_id: 'oc_group_shimen' });
    expect(r.fake.delivered()[0].content.text).toContain('已记录走访 #V1');
  });

  it('handles a redelivered event and a resent message once: one record, one reply', async () => {
    const event = fixture('feishu', 'message-p2p');
    await callback(r, event);
    expect((await callback(r, event)).status).toBe(200);
    const sameMessageNewEvent = { ...event, header: { ...event.header, event_id: 'another-event-id' } };
    expect((await callback(r, sameMessageNewEvent)).status).toBe(200);
    expect(await r.chat.count('visits')).toBe(1);
    expect(r.fake.delivered()).toHaveLength(1);
  });

  it('after a restart, a redelivery gets the recorded reply with the same uuid, which Feishu deduplicates', async () => {
    const event = fixture('feishu', 'message-p2p');
    await callback(r, event);
    // A second adapter (a restarted process) has no memory of the event; the core has.
    const outbound = new Outbound({ log });
    const again = createFeishuAdapter({
      appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 'app-secret', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN,
      botOpenId: 'ou_bot', botName: '民情', domain: r.fake.url, now: () => NOW, ackWithinMs: 20_000,
    }, { handle: r.chat.app.handle, log, send: (reply, key) => outbound.send(reply, key) });
    outbound.register(again.sender);
    await again.dispatcher.invoke(event, { needCheck: false });
    await again.idle();
    expect(await r.chat.count('visits')).toBe(1);
    const posts = r.fake.to('/open-apis/im/v1/messages');
    expect(posts).toHaveLength(2);
    expect(posts[1].json.uuid).toBe(posts[0].json.uuid);
    expect(r.fake.delivered()).toHaveLength(1);
  });

  it('refuses a forged signature, a stale timestamp, a wrong token and an unencrypted body; nothing is recorded', async () => {
    const event = fixture('feishu', 'message-p2p');
    const signed = signedCallback(event, { encryptKey: ENCRYPT_KEY, timestamp: NOW / 1000 });
    const forged = await post(r.url + '/feishu/events', signed.body, { ...signed.headers, 'x-lark-signature': 'f'.repeat(64) });
    expect(forged.status).toBe(401);
    const otherKey = signedCallback(event, { encryptKey: 'someone-elses-key', timestamp: NOW / 1000 });
    expect((await post(r.url + '/feishu/events', otherKey.body, otherKey.headers)).status).toBe(401);
    const stale = await callback(r, event, '/feishu/events', { timestamp: NOW / 1000 - 6 * 60 });
    expect(stale.status).toBe(403);
    const wrongToken = await callback(r, { ...event, header: { ...event.header, token: 'not-our-token' } });
    expect(wrongToken.status).toBe(401);
    expect((await post(r.url + '/feishu/events', JSON.stringify(event))).status).toBe(401);
    const unsigned = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify(event)) });
    expect((await post(r.url + '/feishu/events', unsigned)).status).toBe(401);
    expect(await r.chat.count('visits')).toBe(0);
    expect(r.fake.calls).toHaveLength(0);
    // The refusals changed nothing: the genuine event still goes through afterwards.
    expect((await callback(r, event)).status).toBe(200);
    expect(await r.chat.count('visits')).toBe(1);
  });

  it('masks a citizen phone number in a group reply but not in a one-to-one chat', async () => {
    const group = fixture('feishu', 'message-group');
    group.event.message.content = JSON.stringify({ text: '@_user_1 /志愿 今天 2小时 石门村 看望王大爷13812345678' });
    await callback(r, group);
    const p2p = fixture('feishu', 'message-p2p');
    p2p.header.event_id = 'p2p-phone';
    p2p.event.message.message_id = 'om_p2p_phone';
    p2p.event.message.content = JSON.stringify({ text: '/志愿 今天 2小时 石门村 看望王大爷13812345678' });
    await callback(r, p2p);
    const [inGroup, inP2p] = r.fake.delivered();
    expect(inGroup.receive_id).toBe('oc_group_shimen');
    expect(inGroup.content.text).toContain('王大爷138****5678');
    expect(inGroup.content.text).not.toContain('13812345678');
    expect(inP2p.content.text).toContain('王大爷13812345678');
  });
});

describe('Feishu cards', () => {
  beforeEach(async () => { r = await rig(); });

  it('sends a reminder as a card with a 填报 button that opens the visit form', async () => {
    await r.feishu.sender.send({ to: 'user', target: 'ou_u2', platform: 'feishu', direct: true, text: '本月还差 1 次到村走访。', actions: [{ label: '填报', command: '/走访', form: 'visit' }] }, 'quota:1:2:2026-11:20');
    const [card] = r.fake.delivered();
    expect(card).toMatchObject({ receive_id_type: 'open_id', receive_id: 'ou_u2', msg_type: 'interactive' });
    expect(card.content.body.elements[0]).toEqual({ tag: 'markdown', content: '本月还差 1 次到村走访。' });
    const button = card.content.body.elements[1].columns[0].elements[0];
    expect(button).toMatchObject({ tag: 'button', text: { content: '填报' }, behaviors: [{ type: 'callback', value: { minqing: 'open', form: 'visit', direct: true } }] });

    const opened = await callback(r, fixture('feishu', 'card-open'), '/feishu/cards');
    expect(opened.status).toBe(200);
    expect(opened.json.card.type).toBe('raw');
    const form = opened.json.card.data.body.elements[0];
    expect(form.tag).toBe('form');
    expect(form.elements.filter((e: any) => e.tag === 'input').map((e: any) => [e.name, e.required]))
      .toEqual([['date', false], ['place', true], ['kind', false], ['duration', true], ['households', false], ['content', false]]);
    expect(form.elements.at(-1)).toMatchObject({ form_action_type: 'submit', behaviors: [{ value: { minqing: 'submit', form: 'visit' } }] });
    expect(await r.chat.count('visits')).toBe(0);
  });

  it('asks for a missing field with a card whose form is filled with what was understood', async () => {
    const msg = fixture('feishu', 'message-p2p');
    msg.event.message.content = JSON.stringify({ text: '/走访 昨天下午 入户 两个半小时' });
    await callback(r, msg);
    const [question] = r.fake.delivered();
    expect(question.msg_type).toBe('interactive');
    expect(question.content.body.elements[0].content).toContain('还差「地点」');
    const button = question.content.body.elements[1].columns[0].elements[0];
    const value = button.behaviors[0].value;
    expect(value).toMatchObject({ minqing: 'open', form: 'visit', values: { date: '2026-11-19 下午', kind: '入户', duration: '2.5' } });
    expect(await r.chat.count('visits')).toBe(0);

    const open = fixture('feishu', 'card-open');
    open.event.action.value = value;
    const opened = await callback(r, open, '/feishu/cards');
    const inputs = opened.json.card.data.body.elements[0].elements.filter((e: any) => e.tag === 'input');
    expect(Object.fromEntries(inputs.map((e: any) => [e.name, e.default_value]))).toMatchObject({ date: '2026-11-19 下午', kind: '入户', duration: '2.5', place: undefined });
  });

  it('records a submitted form like the command, once even when submitted twice', async () => {
    const submit = fixture('feishu', 'card-submit');
    const res = await callback(r, submit, '/feishu/cards');
    expect(res.status).toBe(200);
    expect(res.json.toast.content).toContain('已记录走访 #V1：日期 11月19日（昨天） · 地点 石门村 · 入户走访 · 1天');
    expect((await rowsWhere(r.chat.db, visits)).map(({ date, place, kind, hours, households, content }) => ({ date, place, kind, hours, households, content })))
      .toEqual([{ date: '2026-11-19', place: '石门村', kind: 'household', hours: 8, households: 2, content: '走访困难户2户' }]);
    expect(r.fake.delivered()[0]).toMatchObject({ receive_id: 'oc_p2p_u2', receive_id_type: 'chat_id' });
    // A double click: a new callback (new event id) with the same values from the same person.
    await callback(r, { ...submit, header: { ...submit.header, event_id: 'double-click' } }, '/feishu/cards');
    expect(await r.chat.count('visits')).toBe(1);
    expect(r.fake.delivered()).toHaveLength(1);
  });

  it('records an issue from the issue form submitted in a group, masking the phone in the reply', async () => {
    const submit = fixture('feishu', 'card-submit');
    submit.header.event_id = 'issue-form';
    submit.event.context = { open_message_id: 'om_card_0002', open_chat_id: 'oc_group_shimen' };
    submit.event.action.value = { minqing: 'submit', form: 'issue', direct: false };
    submit.event.action.form_value = { place: '石门村', description: '王大爷13812345678反映道路破损影响出行', category: '基础设施', deadline: '12月31日' };
    const res = await callback(r, submit, '/feishu/cards');
    expect(res.json.toast.content).toContain('已登记问题 #1');
    const i = (await oneWhere(r.chat.db, issues))!;
    expect({ category: i.category, deadline: i.deadline }).toEqual({ category: '基础设施', deadline: '2026-12-31' });
    const [sent] = r.fake.delivered();
    expect(sent.receive_id).toBe('oc_group_shimen');
    expect(sent.content.text).toContain('王大爷138****5678反映道路破损');
  });

  it('uploads a file and sends it after the text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-feishu-'));
    const file = join(dir, '台账.xlsx');
    writeFileSync(file, 'not really a workbook');
    try {
      await r.feishu.sender.send({ to: 'chat', target: 'oc_group_shimen', platform: 'feishu', direct: false, text: '台账已导出。', file }, 'export:1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const upload = r.fake.to('/open-apis/im/v1/files')[0];
    expect(upload.headers['content-type']).toContain('multipart/form-data');
    expect(upload.body.toString()).toContain('name="file_type"');
    expect(upload.body.toString()).toContain('not really a workbook');
    expect(r.fake.delivered().map((m) => [m.msg_type, m.content])).toEqual([
      ['text', { text: '台账已导出。' }],
      ['file', { file_key: 'file_v3_fake' }],
    ]);
  });
});

describe('Feishu acknowledgement and long connection', () => {
  it('answers the callback before slow work is done, and still sends the reply', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => { release = res; });
    const seen: BotEvent[] = [];
    r = await rig(async (e) => { seen.push(e); await gate; return [{ to: 'chat', target: e.chatId, platform: 'feishu', text: '好的' }]; }, { ackWithinMs: 0 });
    const res = await callback(r, fixture('feishu', 'message-p2p'));
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(r.fake.delivered()).toHaveLength(0);
    release();
    await r.feishu.idle();
    expect(r.fake.delivered().map((m) => m.content.text)).toEqual(['好的']);
  });

  it('lets a resend retry a message whose handling failed', async () => {
    let calls = 0;
    r = await rig(async (e) => {
      if (++calls === 1) throw new Error('database is locked');
      return [{ to: 'chat', target: e.chatId, platform: 'feishu', text: '已处理' }];
    });
    const event = fixture('feishu', 'message-p2p');
    await callback(r, event);
    await callback(r, event);
    expect(calls).toBe(2);
    expect(r.fake.delivered().map((m) => m.content.text)).toEqual(['已处理']);
  });

  it('decodes events arriving over the long connection through the same dispatcher', async () => {
    r = await rig();
    // WSClient hands the merged event to the dispatcher with needCheck: false (SDK source).
    await r.feishu.dispatcher.invoke(fixture('feishu', 'message-group'), { needCheck: false });
    await r.feishu.idle();
    expect(await r.chat.count('visits')).toBe(1);
    expect(r.fake.delivered()[0].receive_id).toBe('oc_group_shimen');
  });
});
