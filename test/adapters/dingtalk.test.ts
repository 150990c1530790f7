import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DWClientDownStream } from 'dingtalk-stream';
import { Chat } from '../chat.js';
import { oneWhere, rowsWhere } from '../db-probe.js';
import { visits, volunteers } from '../../storage/schema.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { HttpServer } from '../../bot/http-server.js';
import { formsFromCommands } from '../../bot/adapters/common.js';
import { createDingtalkAdapter, dingtalkSign, type DingtalkAdapter } from '../../bot/adapters/dingtalk/index.js';
import { decodeRobotMessage, type RobotMessage } from '../../bot/adapters/dingtalk/decode.js';
import { verifyDingtalkRequest } from '../../bot/adapters/dingtalk/sign.js';
import { allCommands } from '../../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../../storage/identity.js';
import { fakeServer, fixture, post, type Fake } from './loopback.js';

const SECRET = 'dt-app-secret-0123456789';
const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const log = createLogger('silent');

async function fakeDingtalk(): Promise<Fake> {
  return fakeServer({
    'POST /robot/sendBySession': () => ({ json: { errcode: 0, errmsg: 'ok' } }),
    'POST /v1.0/oauth2/accessToken': (c) => (c.json?.appSecret === SECRET
      ? { json: { accessToken: 'dt-token', expireIn: 7200 } }
      : { status: 400, json: { code: 'invalidClientSecret', message: 'bad secret' } }),
    'POST /v1.0/robot/groupMessages/send': () => ({ json: { processQueryKey: 'pqk-group' } }),
    'POST /v1.0/robot/oToMessages/batchSend': () => ({ json: { processQueryKey: 'pqk-o2o', invalidStaffIdList: [], flowControlledStaffIdList: [] } }),
    'POST /v1.0/im/v1.0/robot/interactiveCards/send': () => ({ json: { success: true, result: { processQueryKey: 'pqk-card' } } }),
    'POST /media/upload': () => ({ json: { errcode: 0, errmsg: 'ok', type: 'file', media_id: '@lAjPDfake', created_at: NOW } }),
  });
}

interface Rig { chat: Chat; fake: Fake; dt: DingtalkAdapter; server: HttpServer; url: string; acks: string[] }
let r: Rig;

async function rig(): Promise<Rig> {
  const chat = await Chat.demo();
  await bindAccount(chat.db, 'dingtalk', 'u1staff', (await cadreByPhone(chat.db, '13800000001'))!.id, NOW);
  await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW);
  const fake = await fakeDingtalk();
  const outbound = new Outbound({ log });
  const dt = createDingtalkAdapter({
    clientId: 'dingrobotappkey01', clientSecret: SECRET, botName: '民情', apiBase: fake.url, oapiBase: fake.url,
    forms: formsFromCommands(allCommands()), ackWithinMs: 20_000, now: () => NOW, mode: 'http',
  }, { handle: chat.app.handle, log, send: (reply, key) => outbound.send(reply, key) });
  outbound.register(dt.sender);
  const server = new HttpServer({ log });
  for (const route of dt.routes()) server.route(route);
  const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  return { chat, fake, dt, server, url, acks: [] };
}

/** A fixture with its session webhook moved onto the fake DingTalk host. */
function robot(name: string, over: Partial<RobotMessage> = {}): RobotMessage {
  const m = fixture<RobotMessage>('dingtalk', name);
  return { ...m, sessionWebhook: m.sessionWebhook!.replace('https://oapi.dingtalk.com', r.fake.url), ...over };
}

function signedHeaders(timestamp = String(NOW)): Record<string, string> {
  return { timestamp, sign: createHmac('sha256', SECRET).update(`${timestamp}\n${SECRET}`).digest('base64') };
}

/** A Stream-mode downstream frame carrying `data`, as DWClient emits it. */
function frame(data: unknown, messageId: string, topic = '/v1.0/im/bot/messages/get'): DWClientDownStream {
  return {
    specVersion: '1.0', type: 'CALLBACK', data: JSON.stringify(data),
    headers: { appId: 'app', connectionId: 'conn', contentType: 'application/json', messageId, time: String(NOW), topic },
  };
}

const ack = (id: string) => { r.acks.push(id); };

beforeEach(async () => { r = await rig(); });
afterEach(async () => {
  await r.dt.idle();
  await r.server.close();
  await r.fake.close();
  await r.chat.close();
});

describe('DingTalk request check', () => {
  it('computes sign as Base64(HmacSHA256(secret, timestamp\\nsecret)) and refuses wrong or old requests', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}\n${SECRET}`).digest('base64');
    expect(dingtalkSign(String(NOW), SECRET)).toBe(expected);
    expect(verifyDingtalkRequest(signedHeaders(), SECRET, NOW)).toEqual({ ok: true });
    expect(verifyDingtalkRequest({ timestamp: String(NOW), sign: expected.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }, SECRET, NOW)).toMatchObject({ ok: false, status: 401 });
    expect(verifyDingtalkRequest({}, SECRET, NOW)).toMatchObject({ ok: false, status: 401 });
    const old = String(NOW - 3_600_001);
    expect(verifyDingtalkRequest(signedHeaders(old), SECRET, NOW)).toMatchObject({ ok: false, status: 403 });
  });
});

describe('DingTalk decoding', () => {
  it('decodes a group message: sender by staff id, other mentions, bot addressed', () => {
    const e = decodeRobotMessage(fixture('dingtalk', 'robot-group'), { botName: '民情', log, now: () => NOW })!;
    expect(e).toMatchObject({
      platform: 'dingtalk', chatId: 'cidGroupShimen0001==', direct: false, senderId: 'u2staff', senderName: '张三',
      messageId: 'msgdt-group-0001', mentionsBot: true, mentions: [{ accountId: 'u3staff' }],
      text: '/走访 今天 东关社区 宣讲 半天 与@李四 一起宣讲医保政策',
    });
    expect(e.at.getTime()).toBe(NOW);
  });

  it('keeps pictures and files as attachments', () => {
    const base = fixture<RobotMessage>('dingtalk', 'robot-p2p');
    const pic = decodeRobotMessage({ ...base, msgtype: 'picture', text: undefined, content: { downloadCode: 'dc-1', pictureDownloadCode: 'pdc-1' } }, { botName: '民情', log, now: () => NOW })!;
    expect(pic).toMatchObject({ text: '', direct: true, attachments: [{ kind: 'image', key: 'dc-1' }] });
    const rich = decodeRobotMessage({ ...base, msgtype: 'richText', text: undefined, content: { richText: [{ text: '/走访 今天 石门村 1天' }, { downloadCode: 'dc-2', type: 'picture' }] } }, { botName: '民情', log, now: () => NOW })!;
    expect(rich).toMatchObject({ text: '/走访 今天 石门村 1天', attachments: [{ kind: 'image', key: 'dc-2' }] });
  });
});

describe('DingTalk through the real core', () => {
  it('records a one-to-one command from the HTTP callback and replies through the session webhook', async () => {
    const res = await post(`${r.url}/dingtalk/robot`, JSON.stringify(robot('robot-p2p')), signedHeaders());
    expect(res.status).toBe(200);
    expect((await rowsWhere(r.chat.db, visits)).map(({ date, place, kind, hours }) => ({ date, place, kind, hours }))).toEqual([{ date: '2026-11-19', place: '石门村', kind: 'household', hours: 8 }]);
    const [hook] = r.fake.to('/robot/sendBySession');
    expect(hook.query.get('session')).toBe('p2psession0001');
    expect(hook.json.msgtype).toBe('text');
    expect(hook.json.text.content).toContain('已记录走访 #V1：日期 11月19日（昨天） · 地点 石门村 · 入户走访 · 1天');
    expect(r.fake.to('/v1.0/oauth2/accessToken')).toHaveLength(0);
  });

  it('records a group command from Stream mode and acknowledges the frame', async () => {
    await r.dt.onRobotMessage(frame(robot('robot-group'), 'stream-1'), ack);
    expect(r.acks).toEqual(['stream-1']);
    const v = (await oneWhere(r.chat.db, visits))!;
    expect({ place: v.place, kind: v.kind, hours: v.hours, content: v.content })
      .toEqual({ place: '东关社区', kind: 'briefing', hours: 4, content: '与@李四 一起宣讲医保政策' });
    const [hook] = r.fake.to('/robot/sendBySession');
    expect(hook.query.get('session')).toBe('groupsession0001');
    expect(hook.json.text.content).toContain('已记录走访 #V1');
  });

  it('answers a redelivered message once: one record, one reply, every frame acknowledged', async () => {
    const m = robot('robot-group');
    await r.dt.onRobotMessage(frame(m, 'stream-1'), ack);
    await r.dt.onRobotMessage(frame(m, 'stream-2'), ack);
    expect(await post(`${r.url}/dingtalk/robot`, JSON.stringify(m), signedHeaders())).toMatchObject({ status: 200 });
    expect(r.acks).toEqual(['stream-1', 'stream-2']);
    expect(await r.chat.count('visits')).toBe(1);
    expect(r.fake.to('/robot/sendBySession')).toHaveLength(1);
  });

  it('refuses a forged sign and a replayed old request; nothing is recorded or sent', async () => {
    const body = JSON.stringify(robot('robot-p2p'));
    const forged = await post(`${r.url}/dingtalk/robot`, body, { timestamp: String(NOW), sign: dingtalkSign(String(NOW), 'not-the-secret') });
    expect(forged.status).toBe(401);
    expect((await post(`${r.url}/dingtalk/robot`, body)).status).toBe(401);
    const replayed = await post(`${r.url}/dingtalk/robot`, body, signedHeaders(String(NOW - 2 * 3_600_000)));
    expect(replayed.status).toBe(403);
    expect(await r.chat.count('visits')).toBe(0);
    expect(r.fake.calls).toHaveLength(0);
  });

  it('falls back to the robot API once the session webhook has expired', async () => {
    await r.dt.onRobotMessage(frame(robot('robot-group', { sessionWebhookExpiredTime: NOW - 1 }), 'stream-1'), ack);
    await r.dt.onRobotMessage(frame(robot('robot-p2p', { sessionWebhookExpiredTime: NOW - 1 }), 'stream-2'), ack);
    expect(r.fake.to('/robot/sendBySession')).toHaveLength(0);
    expect(r.fake.to('/v1.0/oauth2/accessToken')).toHaveLength(1);
    const [group] = r.fake.to('/v1.0/robot/groupMessages/send');
    expect(group.headers['x-acs-dingtalk-access-token']).toBe('dt-token');
    expect(group.json).toMatchObject({ robotCode: 'dingrobotappkey01', openConversationId: 'cidGroupShimen0001==', msgKey: 'sampleText' });
    expect(JSON.parse(group.json.msgParam).content).toContain('已记录走访 #V1');
    const [direct] = r.fake.to('/v1.0/robot/oToMessages/batchSend');
    expect(direct.json).toMatchObject({ robotCode: 'dingrobotappkey01', userIds: ['u2staff'], msgKey: 'sampleText' });
    expect(JSON.parse(direct.json.msgParam).content).toContain('已记录走访 #V2');
  });

  it('never posts to a session webhook outside the DingTalk host', async () => {
    await r.dt.onRobotMessage(frame(robot('robot-group', { sessionWebhook: 'http://169.254.169.254/latest' }), 'stream-1'), ack);
    expect(r.fake.to('/robot/sendBySession')).toHaveLength(0);
    expect(r.fake.to('/v1.0/robot/groupMessages/send')).toHaveLength(1);
  });

  it('masks a citizen phone number in a group reply but not in a one-to-one chat', async () => {
    await r.dt.onRobotMessage(frame(robot('robot-group', { text: { content: '/志愿 今天 2小时 石门村 看望王大爷13812345678' } }), 's1'), ack);
    await r.dt.onRobotMessage(frame(robot('robot-p2p', { msgId: 'msgdt-p2p-phone', text: { content: '/志愿 今天 2小时 石门村 看望王大爷13812345678' } }), 's2'), ack);
    const [inGroup, inP2p] = r.fake.to('/robot/sendBySession').map((c) => c.json.text.content as string);
    expect(inGroup).toContain('王大爷138****5678');
    expect(inGroup).not.toContain('13812345678');
    expect(inP2p).toContain('王大爷13812345678');
  });
});

describe('DingTalk cards', () => {
  it('sends a reminder as an interactive card whose 填报 button answers with the form guide', async () => {
    await r.dt.sender.send({ to: 'user', target: 'u2staff', platform: 'dingtalk', direct: true, text: '本月还差 1 次到村走访。', actions: [{ label: '填报', command: '/走访', form: 'visit' }] }, 'quota:1:2:2026-11:20');
    const [card] = r.fake.to('/v1.0/im/v1.0/robot/interactiveCards/send');
    expect(card.json).toMatchObject({ cardTemplateId: 'StandardCard', robotCode: 'dingrobotappkey01', singleChatReceiver: JSON.stringify({ userId: 'u2staff' }) });
    const data = JSON.parse(card.json.cardData);
    expect(data.contents[0]).toEqual({ type: 'markdown', text: '本月还差 1 次到村走访。', id: 'mq_text' });
    expect(data.contents.at(-1).actions[0]).toMatchObject({ actionType: 'request', id: 'mq_form_visit', label: { text: '填报' } });

    await r.dt.onCardCallback(fixture('dingtalk', 'stream-card-callback') as DWClientDownStream, ack);
    expect(r.acks).toEqual(['stream-msg-card-0001']);
    const [guide] = r.fake.to('/v1.0/robot/oToMessages/batchSend');
    expect(guide.json.userIds).toEqual(['u2staff']);
    const text = JSON.parse(guide.json.msgParam).content as string;
    expect(text).toContain('格式：/走访 [日期] 地点 [类型] 时长');
    expect(text).toContain('例如：/走访 昨天 石门村 入户 1天');
  });

  it('records a form submitted from a card template like the command', async () => {
    await r.dt.onCardCallback(fixture('dingtalk', 'stream-card-submit') as DWClientDownStream, ack);
    await r.dt.onCardCallback(fixture('dingtalk', 'stream-card-submit') as DWClientDownStream, ack);
    expect((await rowsWhere(r.chat.db, volunteers)).map(({ date, hours, place, activity }) => ({ date, hours, place, activity })))
      .toEqual([{ date: '2026-11-20', hours: 3, place: '县福利院', activity: '义工日' }]);
    const sent = r.fake.to('/v1.0/robot/oToMessages/batchSend');
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0].json.msgParam).content).toContain('已记录志愿服务 #Z1');
  });

  it('uploads a file and sends it through the robot API', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'minqing-dt-'));
    const file = join(dir, '台账.xlsx');
    writeFileSync(file, 'workbook bytes');
    try {
      await r.dt.sender.send({ to: 'chat', target: 'cidGroupShimen0001==', platform: 'dingtalk', direct: false, text: '', file }, 'export:1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const [upload] = r.fake.to('/media/upload');
    expect(upload.query.get('type')).toBe('file');
    expect(upload.query.get('access_token')).toBe('dt-token');
    expect(upload.body.toString()).toContain('workbook bytes');
    const [msg] = r.fake.to('/v1.0/robot/groupMessages/send');
    expect(msg.json.msgKey).toBe('sampleFile');
    expect(JSON.parse(msg.json.msgParam)).toEqual({ mediaId: '@lAjPDfake', fileName: '台账.xlsx', fileType: 'xlsx' });
  });
});
