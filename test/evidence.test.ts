/**
 * Evidence (docs/rules.md#evidence): photos, files, voice and locations sent with a record or within
 * 10 minutes after it are attached to it; the decoders read what each platform sends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { dataDir } from '../bot/config.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent, type Attachment } from '../bot/event.js';
import { decodeRobotMessage, type RobotMessage } from '../bot/adapters/dingtalk/decode.js';
import { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import { createWecomAppAdapter } from '../bot/adapters/wecom/app.js';
import { encryptedCallback } from '../bot/adapters/wecom/crypto.js';
import { bindAccount, cadreByPhone } from '../storage/identity.js';
import { evidenceOf } from '../storage/evidence.js';
import { fakeServer, fixture } from './adapters/loopback.js';
import { DingtalkSender } from '../bot/adapters/dingtalk/sender.js';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { FileBox } from 'file-box';
import { createWechatyAdapter } from '../bot/adapters/wecom/wechaty.js';
import { FeishuSender, feishuClient } from '../bot/adapters/feishu/sender.js';

const log = createLogger('silent');
const T0 = Date.parse('2026-11-20T09:30:00+08:00');
const min = 60_000;
let chat: Chat;
// Closed once: a test that makes no chat of its own leaves the last one's already closed.
afterEach(async () => { const c = chat; chat = undefined as never; await c?.close(); });

function send(o: { user?: string; id: string; at: number; text?: string; attachments?: Attachment[]; group?: boolean; mentionsBot?: boolean }) {
  const user = o.user ?? 'u2';
  return chat.app.handle(makeEvent({
    platform: 'console', chatId: o.group ? 'g1' : user, direct: !o.group, senderId: user, messageId: o.id, at: new Date(o.at),
    text: o.text ?? '', attachments: o.attachments ?? [], mentionsBot: o.mentionsBot ?? false,
  }, log));
}

const photo: Attachment = { kind: 'image', key: 'img_key_1' };

describe('evidence after a record', () => {
  it('attaches a photo sent within 10 minutes, once, and says so in one line', async () => {
    chat = await Chat.demo();
    await send({ id: 'm1', at: T0, text: '/走访 昨天 石门村 1天' });
    const [r] = await send({ id: 'm2', at: T0 + 5 * min, attachments: [photo, { kind: 'location', key: '29.2,113.1', name: '石门村村委会' }] });
    expect(r.text).toBe('已附到走访 #V1：照片 1 张、位置 1 个。');
    expect((await evidenceOf(chat.db, 'visit', 1)).map((e) => [e.kind, e.fileKey])).toEqual([['image', 'img_key_1'], ['location', '29.2,113.1']]);
    // The platform delivers the same message again: nothing attached twice.
    const [again] = await send({ id: 'm2', at: T0 + 5 * min, attachments: [photo] });
    expect(again.text).toBe(r.text);
    expect(await evidenceOf(chat.db, 'visit', 1)).toHaveLength(2);
  });

  it('takes a photo with a caption that is no command as evidence, not as a message to ask about', async () => {
    chat = await Chat.demo();
    await send({ id: 'm1', at: T0, text: '/走访 昨天 石门村 1天' });
    const [r] = await send({ id: 'm2', at: T0 + 2 * min, text: '昨天走访石门村的照片', attachments: [photo] });
    expect(r.text).toBe('已附到走访 #V1：照片 1 张。');
    expect(await evidenceOf(chat.db, 'visit', 1)).toHaveLength(1);
    expect(await chat.count('drafts')).toBe(0);
  });

  it('after 10 minutes, says how to attach; in a group not addressed to the bot, says nothing', async () => {
    chat = await Chat.demo();
    await send({ id: 'm1', at: T0, text: '/走访 昨天 石门村 1天' });
    const [r] = await send({ id: 'm2', at: T0 + 11 * min, attachments: [photo] });
    expect(r.text).toContain('10 分钟内再发送材料');
    expect(await evidenceOf(chat.db, 'visit', 1)).toHaveLength(0);
    expect(await send({ id: 'm3', at: T0 + 12 * min, attachments: [photo], group: true })).toEqual([]);
    expect(await send({ user: 'stranger', id: 'm4', at: T0, attachments: [photo], group: true })).toEqual([]);
  });

  it('attaches what comes with the command itself (a post with a picture)', async () => {
    chat = await Chat.demo();
    const [r] = await send({ id: 'm1', at: T0, text: '/走访 昨天 石门村 1天', attachments: [photo] });
    expect(r.text).toContain('已记录走访 #V1');
    expect(r.text).toContain('已附到走访 #V1：照片 1 张。');
    expect((await evidenceOf(chat.db, 'visit', 1)).map((e) => e.fileKey)).toEqual(['img_key_1']);
  });

  it('with MINQING_EVIDENCE=store fetches the bytes into evidence/ beside the database, within the cap', async () => {
    chat = await Chat.demo({ MINQING_EVIDENCE: 'store', MINQING_EVIDENCE_MAX_BYTES: 2048 });
    const asked: string[] = [];
    chat.app.deps.fetchAttachment = async (platform, messageId, a) => { asked.push(`${platform}:${messageId}:${a.key}`); return Buffer.from(a.key === 'big' ? 'x'.repeat(4096) : 'JPEG…'); };
    await send({ id: 'm1', at: T0, text: '/走访 昨天 石门村 1天' });
    await send({ id: 'm2', at: T0 + min, attachments: [photo, { kind: 'file', key: 'big', name: '台账.xlsx' }] });
    const rows = await (async () => { for (let i = 0; i < 100; i++) { const e = await evidenceOf(chat.db, 'visit', 1); if (e[0]?.path) return e; await new Promise((r) => setTimeout(r, 10)); } return evidenceOf(chat.db, 'visit', 1); })();
    await new Promise((r) => setTimeout(r, 50));
    expect(asked).toEqual(['console:m2:img_key_1', 'console:m2:big']);
    expect(rows[0].path).toContain('/evidence/');
    expect(readFileSync(rows[0].path!, 'utf8')).toBe('JPEG…');
    expect(rows[0].bytes).toBe(Buffer.byteLength('JPEG…'));
    // Over the cap: kept as its key only.
    expect((await evidenceOf(chat.db, 'visit', 1))[1]).toMatchObject({ fileKey: 'big', path: null });
    expect(existsSync(rows[0].path!)).toBe(true);
  });
});

describe('what the decoders read', () => {
  it('DingTalk: a voice message is read as its recognition text, the recording kept as evidence', () => {
    const base = fixture<RobotMessage>('dingtalk', 'robot-p2p');
    const e = decodeRobotMessage({ ...base, msgtype: 'audio', text: undefined, content: { downloadCode: 'dc-voice', duration: 4000, recognition: '/走访 今天 石门村 1天' } }, { botName: '民情', log, now: () => T0 })!;
    expect(e.text).toBe('/走访 今天 石门村 1天');
    expect(e.attachments).toMatchObject([{ kind: 'audio', key: 'dc-voice' }]);
  });

  it('WeCom app: an image after a record is attached and answered through message/send', async () => {
    chat = await Chat.demo();
    const v = fixture('wecom', 'callback-vector');
    await bindAccount(chat.db, 'wecom', 'zhangsan', (await cadreByPhone(chat.db, '13800000002'))!.id, T0);
    const fake = await fakeServer({
      'GET /cgi-bin/gettoken': () => ({ json: { errcode: 0, access_token: 'wc', expires_in: 7200 } }),
      'POST /cgi-bin/message/send': () => ({ json: { errcode: 0, errmsg: 'ok' } }),
    });
    const outbound = new Outbound({ log });
    const app = createWecomAppAdapter({ corpId: v.corpId, agentId: '1000002', secret: 's', token: v.token, encodingAESKey: v.encodingAESKey, apiBase: fake.url, ackWithinMs: 20_000, now: () => T0 },
      { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k) });
    outbound.register(app.sender);
    const server = new HttpServer({ log });
    for (const r of app.routes()) server.route(r);
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}/wecom/callback`;
    try {
      const say = (body: string, id: string) => {
        const xml = `<xml><ToUserName><![CDATA[${v.corpId}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${T0 / 1000}</CreateTime>${body}<MsgId>${id}</MsgId><AgentID>1000002</AgentID></xml>`;
        const cb = encryptedCallback({ token: v.token, encodingAESKey: v.encodingAESKey, corpId: v.corpId, agentId: '1000002', xml, timestamp: String(T0 / 1000), nonce: id });
        return fetch(`${url}?${cb.query}`, { method: 'POST', body: cb.body });
      };
      await say('<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[/走访 昨天 石门村 1天]]></Content>', '2001');
      await say('<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://example.invalid/p.jpg]]></PicUrl><MediaId><![CDATA[media-img-1]]></MediaId>', '2002');
      await say('<MsgType><![CDATA[location]]></MsgType><Location_X>29.2</Location_X><Location_Y>113.1</Location_Y><Scale>15</Scale><Label><![CDATA[石门村]]></Label>', '2003');
      await app.idle();
      const texts = fake.to('/cgi-bin/message/send').map((c) => c.json.text.content as string);
      expect(texts[1]).toBe('已附到走访 #V1：照片 1 张。');
      expect(texts[2]).toBe('已附到走访 #V1：位置 1 个。');
      expect((await evidenceOf(chat.db, 'visit', 1)).map((e) => [e.kind, e.fileKey, e.name])).toEqual([['image', 'media-img-1', null], ['location', '29.2,113.1', '石门村']]);
    } finally {
      await server.close();
      await fake.close();
    }
  });
});

describe('fetching the bytes from each platform (loopback fakes)', () => {
  it('WeCom app: MINQING_EVIDENCE=store fetches media/get through the adapter into the data folder', async () => {
    chat = await Chat.demo({ MINQING_EVIDENCE: 'store' });
    const v = fixture('wecom', 'callback-vector');
    await bindAccount(chat.db, 'wecom', 'zhangsan', (await cadreByPhone(chat.db, '13800000002'))!.id, T0);
    const fake = await fakeServer({
      'GET /cgi-bin/gettoken': () => ({ json: { errcode: 0, access_token: 'wc', expires_in: 7200 } }),
      'POST /cgi-bin/message/send': () => ({ json: { errcode: 0, errmsg: 'ok' } }),
      'GET /cgi-bin/media/get': (c) => (c.query.get('media_id') === 'media-img-1' ? { body: Buffer.from([0xff, 0xd8, 0xff, 0xe0]), contentType: 'image/jpeg' } : { json: { errcode: 40007, errmsg: 'invalid media_id' } }),
    });
    const outbound = new Outbound({ log });
    chat.app.deps.fetchAttachment = (p, m, a) => outbound.download(p, m, a);
    const app = createWecomAppAdapter({ corpId: v.corpId, agentId: '1000002', secret: 's', token: v.token, encodingAESKey: v.encodingAESKey, apiBase: fake.url, ackWithinMs: 20_000, now: () => T0 },
      { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k) });
    outbound.register(app.sender);
    const server = new HttpServer({ log });
    for (const r of app.routes()) server.route(r);
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}/wecom/callback`;
    try {
      const say = (body: string, id: string) => {
        const xml = `<xml><ToUserName><![CDATA[${v.corpId}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${T0 / 1000}</CreateTime>${body}<MsgId>${id}</MsgId><AgentID>1000002</AgentID></xml>`;
        const cb = encryptedCallback({ token: v.token, encodingAESKey: v.encodingAESKey, corpId: v.corpId, agentId: '1000002', xml, timestamp: String(T0 / 1000), nonce: id });
        return fetch(`${url}?${cb.query}`, { method: 'POST', body: cb.body });
      };
      await say('<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[/走访 昨天 石门村 1天]]></Content>', '3001');
      await say('<MsgType><![CDATA[image]]></MsgType><MediaId><![CDATA[media-img-1]]></MediaId>', '3002');
      await say('<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media-gone]]></MediaId><Format><![CDATA[amr]]></Format>', '3003');
      const stored = async () => { for (let i = 0; i < 200; i++) { const e = await evidenceOf(chat.db, 'visit', 1); if (e[0]?.path && fake.to('/cgi-bin/media/get').length === 2) return e; await new Promise((r) => setTimeout(r, 10)); } throw new Error('not stored'); };
      const rows = await stored();
      expect([...readFileSync(rows[0].path!)]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
      // The data folder: beside the database file (the chat's folder) on SQLite.
      expect(resolve(rows[0].path!).startsWith(resolve(dataDir(chat.app.deps.config)) + sep)).toBe(true);
      // A medium the platform will not give stays a key.
      expect(rows[1]).toMatchObject({ kind: 'audio', fileKey: 'media-gone', path: null });
    } finally {
      await server.close();
      await fake.close();
    }
  });

  it('DingTalk: a downloadCode is exchanged for a URL, then fetched', async () => {
    const fake = await fakeServer({
      'POST /v1.0/oauth2/accessToken': () => ({ json: { accessToken: 'dt', expireIn: 7200 } }),
      'POST /v1.0/robot/messageFiles/download': (c) => ({ json: { downloadUrl: `${url}/oss/${c.json.downloadCode}?robot=${c.json.robotCode}` } }),
      'GET /oss/dc-1': () => ({ body: 'PNGDATA', contentType: 'image/png' }),
    });
    const url = fake.url;
    try {
      const s = new DingtalkSender({ clientId: 'k', clientSecret: 's', robotCode: 'robot-1', apiBase: fake.url, oapiBase: fake.url, forms: {}, log });
      expect((await s.download('m', { kind: 'image', key: 'dc-1' })).toString()).toBe('PNGDATA');
      expect(fake.to('/oss/dc-1')[0].query.get('robot')).toBe('robot-1');
    } finally {
      await fake.close();
    }
  });

  it('Feishu: im.messageResource.get with the message id and the key', async () => {
    const fake = await fakeServer({
      'POST /open-apis/auth/v3/tenant_access_token/internal': () => ({ json: { code: 0, tenant_access_token: 't', expire: 7200 } }),
      'GET /open-apis/im/v1/messages/om_1/resources/img_v3_1': (c) => ({ body: `IMG:${c.query.get('type')}`, contentType: 'image/jpeg' }),
    });
    try {
      const s = new FeishuSender(feishuClient({ appId: 'a', appSecret: 's', domain: fake.url, log }), { forms: {}, isDirectChat: () => false, log });
      expect((await s.download('om_1', { kind: 'image', key: 'img_v3_1' })).toString()).toBe('IMG:image');
    } finally {
      await fake.close();
    }
  });
});

describe('wechaty (puppet-mock): a photo after a record, its bytes kept', () => {
  it('attaches the image, answers in one line, and stores what the message carries', async () => {
    chat = await Chat.demo({ MINQING_EVIDENCE: 'store' });
    const mocker = new mock.Mocker();
    const outbound = new Outbound({ log });
    const adapter = createWechatyAdapter({ puppet: new PuppetMock({ mocker }), now: () => T0 }, { handle: chat.app.handle, log, send: (r, k) => outbound.send(r, k) });
    outbound.register(adapter.sender);
    chat.app.deps.fetchAttachment = (p, m, a) => outbound.download(p, m, a);
    await adapter.start();
    try {
      const me = mocker.createContact({ name: '民情' });
      mocker.login(me);
      const alice = mocker.createContact({ name: '张三' });
      await bindAccount(chat.db, 'wecom', alice.id, (await cadreByPhone(chat.db, '13800000002'))!.id, T0);
      const said: string[] = [];
      (alice as unknown as { on(e: 'message', f: (m: mock.MessageMock) => void): void }).on('message', (m) => { if (m.talker().id === me.id) said.push(m.text() ?? ''); });
      const until = async (f: () => boolean | Promise<boolean>, what: string) => { for (let i = 0; i < 300 && !(await f()); i++) await new Promise((r) => setTimeout(r, 10)); if (!(await f())) throw new Error(`timed out: ${what}`); };
      alice.say('/走访 昨天 石门村 1天').to(me);
      await until(() => said.length === 1, 'the record');
      alice.say(FileBox.fromBase64(Buffer.from('PHOTO-BYTES').toString('base64'), '现场.jpg')).to(me);
      await until(() => said.length === 2, 'the evidence line');
      expect(said[1]).toBe('已附到走访 #V1：照片 1 张。');
      await until(async () => !!(await evidenceOf(chat.db, 'visit', 1))[0]?.path, 'the stored bytes');
      expect(readFileSync((await evidenceOf(chat.db, 'visit', 1))[0].path!, 'utf8')).toBe('PHOTO-BYTES');
    } finally {
      await adapter.idle();
      await adapter.stop();
    }
  });
});
