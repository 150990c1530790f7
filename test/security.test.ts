/**
 * Security review of every inbound path (docs/rules.md#qualities):
 * - the signature and timestamp checks of the Feishu, DingTalk and WeCom HTTP routes cannot be
 *   bypassed — empty or missing headers, header-name case and spelling variants, duplicated
 *   headers, foreign keys, stale and future timestamps, oversized bodies;
 * - administrator commands refuse non-administrators on the console and on each platform;
 * - one unit's leads cannot close, supervise, extend or read a sibling unit's issues, unless they
 *   are above it in the tree;
 * - no log line carries a citizen's full phone number, faults and failed deliveries included.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { oneWhere, rowsWhere } from './db-probe.js';
import { accounts, chatGroups, issues, quotaRules, settings, units } from '../storage/schema.js';
import { capturedLogger } from './fuzz-arbitraries.js';
import { fakeServer, type Fake } from './adapters/loopback.js';
import { testConfig } from '../bot/config.js';
import { defineCommand, Registry } from '../bot/command.js';
import { restArg } from '../bot/args.js';
import { makeEvent } from '../bot/event.js';
import { normalize } from '../bot/normalize.js';
import { handleEvent } from '../bot/router.js';
import { HttpServer } from '../bot/http-server.js';
import { Outbound } from '../bot/outbound.js';
import type { Reply } from '../bot/reply.js';
import { createFeishuAdapter, type FeishuAdapter } from '../bot/adapters/feishu/index.js';
import { feishuSignature, messageEvent, signedCallback } from '../bot/adapters/feishu/crypto.js';
import { createDingtalkAdapter, dingtalkSign, type DingtalkAdapter } from '../bot/adapters/dingtalk/index.js';
import { createWecomAppAdapter, type WecomAppAdapter } from '../bot/adapters/wecom/app.js';
import { encryptedCallback, encryptWecom, wecomSignature } from '../bot/adapters/wecom/crypto.js';
import { allCommands } from '../scripts/commands.js';
import { importRoster } from '../storage/roster.js';
import { mapChat } from '../storage/identity.js';
import { unitByName } from '../storage/units.js';

const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const EK = 'sec-encrypt-key';
const TOKEN = 'sec-verification-token';
const SECRET = 'sec-dingtalk-secret';
const WC = { token: 'QDG6eK', key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corp: 'wx5823bf96d3bd56c7' };
const LIMIT = 64 * 1024;

/**
 * The demo county plus leads: 赵六 leads 石门镇, 钱七 leads its sibling 东关社区, 孙八 leads the
 * county above both (not an administrator). 张三 (石门镇 staff) and 赵六 also have accounts on
 * every platform.
 */
async function world(config: Parameters<typeof Chat.demo>[0] = {}): Promise<Chat> {
  const chat = await Chat.demo(config);
  await importRoster(chat.db, [
    { 姓名: '张三', 手机: '13800000002', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '是', 账号: 'console:u2;feishu:ou_u2;dingtalk:u2staff;wecom:zhangsan' },
    { 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u4;feishu:ou_u4;dingtalk:u4staff;wecom:zhaoliu' },
    { 姓名: '钱七', 手机: '13800000005', 单位: '东关社区', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u5' },
    { 姓名: '孙八', 手机: '13800000006', 单位: '示范县', 上级单位: '', 职级: '领导', 驻村: '', 账号: 'console:u6' },
  ], NOW);
  return chat;
}

/** The three HTTP callback adapters on one server, as `minqing start` runs them. */
interface Rig { chat: Chat; url: string; server: HttpServer; feishu: FeishuAdapter; dingtalk: DingtalkAdapter; wecom: WecomAppAdapter; sent: Reply[]; log: ReturnType<typeof capturedLogger> }

async function rig(): Promise<Rig> {
  const chat = await world();
  const log = capturedLogger('info');
  const sent: Reply[] = [];
  const deps = { handle: chat.app.handle, log: log.log, send: async (r: Reply) => { sent.push(r); } };
  const feishu = createFeishuAdapter({ appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 's', encryptKey: EK, verificationToken: TOKEN, botOpenId: 'ou_bot', botName: '民情', ackWithinMs: 20_000, now: () => NOW, mode: 'http' }, deps);
  const dingtalk = createDingtalkAdapter({ clientId: 'dingsec', clientSecret: SECRET, botName: '民情', ackWithinMs: 20_000, now: () => NOW, mode: 'http' }, deps);
  const wecom = createWecomAppAdapter({ corpId: WC.corp, agentId: '1000002', secret: 's', token: WC.token, encodingAESKey: WC.key, ackWithinMs: 20_000, now: () => NOW }, deps);
  const server = new HttpServer({ log: log.log, bodyLimit: LIMIT });
  for (const a of [feishu, dingtalk, wecom]) for (const route of a.routes()) server.route(route);
  const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  return { chat, url, server, feishu, dingtalk, wecom, sent, log };
}

/** A raw HTTP request: header names exactly as given (case, duplicates), body streamed or declared. */
function send(url: string, o: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; chunked?: boolean }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const body = o.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
    const headers: Record<string, string | string[]> = { 'content-type': 'application/json', ...o.headers };
    if (!o.chunked) headers['content-length'] = String(body.length);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (o.chunked) { for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384)); req.end(); } else req.end(body);
  });
}

describe('signature and timestamp checks of the HTTP routes', () => {
  let r: Rig;
  let n = 0;
  beforeAll(async () => { r = await rig(); });
  afterAll(async () => { await Promise.all([r.feishu.idle(), r.dingtalk.idle(), r.wecom.idle()]); await r.server.close(); await r.chat.close(); });

  const recorded = () => r.chat.count('inboundMessages');
  /** Sends, and checks a refused request recorded nothing and was logged with its reason. */
  async function refused(path: string, o: Parameters<typeof send>[1], status: number): Promise<void> {
    const before = await recorded();
    r.log.clear();
    const res = await send(r.url + path, o);
    expect(res.status).toBe(status);
    expect(res.text).not.toMatch(/signature|token|timestamp|stale|sign/i); // the reason is logged, never told
    expect(await recorded()).toBe(before);
    const lines = r.log.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.msg === (status === 413 ? 'HTTP request refused: body over the limit' : 'HTTP request refused'))).toBe(true);
  }

  describe('Feishu /feishu/events', () => {
    const event = (text = '/我的', token = TOKEN) => {
      n++;
      return messageEvent({ verificationToken: token, eventId: `sec-e${n}`, messageId: `sec-m${n}`, chatId: 'oc_p2p_u2', chatType: 'p2p', senderOpenId: 'ou_u2', text, createTime: NOW });
    };
    const signed = (payload: unknown, timestamp = NOW / 1000) => signedCallback(payload, { encryptKey: EK, timestamp, nonce: 'n0nce' });

    it('takes a correctly signed event, also with header names in upper case, and a replay only once', async () => {
      const ok = signed(event());
      expect((await send(r.url + '/feishu/events', { headers: ok.headers, body: ok.body })).status).toBe(200);
      expect(r.sent.at(-1)).toMatchObject({ platform: 'feishu', target: 'oc_p2p_u2' });
      expect(r.sent.at(-1)!.text).toContain('张三');
      const upper = signed(event());
      const shouting = Object.fromEntries(Object.entries(upper.headers).map(([k, v]) => [k.toUpperCase(), k === 'x-lark-signature' ? v.toUpperCase() : v]));
      expect((await send(r.url + '/feishu/events', { headers: shouting, body: upper.body })).status).toBe(200);
      const before = await recorded();
      expect((await send(r.url + '/feishu/events', { headers: ok.headers, body: ok.body })).status).toBe(200);
      expect(await recorded()).toBe(before);
    });

    it('refuses missing, empty, misspelt and duplicated signature headers', async () => {
      const s = signed(event());
      await refused('/feishu/events', { body: s.body }, 401);
      await refused('/feishu/events', { headers: { ...s.headers, 'x-lark-signature': '' }, body: s.body }, 401);
      await refused('/feishu/events', { headers: { ...s.headers, 'x-lark-request-timestamp': '', 'x-lark-request-nonce': '' }, body: s.body }, 401);
      const { 'x-lark-signature': sig, ...rest } = s.headers;
      await refused('/feishu/events', { headers: { ...rest, 'x_lark_signature': sig }, body: s.body }, 401);
      await refused('/feishu/events', { headers: { ...rest, 'x-lark-signature': ['0'.repeat(64), sig] }, body: s.body }, 401);
      await refused('/feishu/events', { headers: { ...rest, 'x-lark-signature': sig.slice(0, -1) }, body: s.body }, 401);
    });

    it('refuses a signature over another body, key or nonce', async () => {
      const a = signed(event()), b = signed(event('/撤销'));
      await refused('/feishu/events', { headers: a.headers, body: b.body }, 401);
      const foreign = signedCallback(event(), { encryptKey: 'another-key', timestamp: NOW / 1000, nonce: 'n0nce' });
      await refused('/feishu/events', { headers: foreign.headers, body: foreign.body }, 401);
      await refused('/feishu/events', { headers: { ...a.headers, 'x-lark-request-nonce': 'other' }, body: a.body }, 401);
    });

    it('refuses stale, future, millisecond and non-numeric timestamps even when correctly signed', async () => {
      for (const ts of [NOW / 1000 - 6 * 60, NOW / 1000 + 6 * 60, NOW]) {
        const s = signed(event(), ts);
        await refused('/feishu/events', { headers: s.headers, body: s.body }, 403);
      }
      const s = signedCallback(event(), { encryptKey: EK, nonce: 'n' });
      const forged = { ...s.headers, 'x-lark-request-timestamp': 'abc', 'x-lark-signature': feishuSignature('abc', 'n', EK, s.body) };
      await refused('/feishu/events', { headers: forged, body: s.body }, 403);
    });

    it('refuses a wrong verification token, an unencrypted body and an unsigned URL check with a wrong token', async () => {
      const s = signed(event('/我的', 'wrong-token'));
      await refused('/feishu/events', { headers: s.headers, body: s.body }, 401);
      await refused('/feishu/events', { body: JSON.stringify(event()) }, 401);
      await refused('/feishu/events', { body: JSON.stringify({ challenge: 'c', token: TOKEN, type: 'url_verification' }) }, 401);
      const check = signedCallback({ challenge: 'c1', token: 'wrong', type: 'url_verification' }, { encryptKey: EK });
      await refused('/feishu/events', { body: check.body }, 401);
      const good = signedCallback({ challenge: 'c2', token: TOKEN, type: 'url_verification' }, { encryptKey: EK });
      expect(await send(r.url + '/feishu/events', { body: good.body })).toEqual({ status: 200, text: '{"challenge":"c2"}' });
    });

    it('refuses an oversized body, declared or streamed, with 413', async () => {
      const s = signed({ ...event(), pad: 'x'.repeat(LIMIT) });
      await refused('/feishu/events', { headers: s.headers, body: s.body }, 413);
      await refused('/feishu/cards', { headers: s.headers, body: s.body, chunked: true }, 413);
    });
  });

  describe('DingTalk /dingtalk/robot', () => {
    const message = () => { n++; return JSON.stringify({ msgId: `sec-d${n}`, msgtype: 'text', text: { content: '/我的' }, conversationType: '1', conversationId: 'cid-u2', senderStaffId: 'u2staff', createAt: NOW }); };
    const headers = (ts = String(NOW), secret = SECRET) => ({ timestamp: ts, sign: dingtalkSign(ts, secret) });

    it('takes a correctly signed request, header names in any case', async () => {
      expect((await send(r.url + '/dingtalk/robot', { headers: headers(), body: message() })).status).toBe(200);
      expect(r.sent.at(-1)).toMatchObject({ platform: 'dingtalk', target: 'cid-u2' });
      // A (timestamp, sign) pair is taken once (the sign covers no body): the second request has its own.
      const h = headers(String(NOW + 1));
      expect((await send(r.url + '/dingtalk/robot', { headers: { TIMESTAMP: h.timestamp, Sign: h.sign }, body: message() })).status).toBe(200);
    });

    it('refuses missing, empty, duplicated and foreign signs', async () => {
      await refused('/dingtalk/robot', { body: message() }, 401);
      await refused('/dingtalk/robot', { headers: { timestamp: String(NOW), sign: '' }, body: message() }, 401);
      await refused('/dingtalk/robot', { headers: { timestamp: '', sign: headers().sign }, body: message() }, 401);
      await refused('/dingtalk/robot', { headers: headers(String(NOW), 'another-secret'), body: message() }, 401);
      await refused('/dingtalk/robot', { headers: { timestamp: String(NOW), sign: headers(String(NOW - 1)).sign }, body: message() }, 401);
      await refused('/dingtalk/robot', { headers: { timestamp: String(NOW), sign: ['AAAA', headers().sign] }, body: message() }, 401);
    });

    it('refuses stale, future and second-based timestamps even when correctly signed', async () => {
      for (const ts of [NOW - 61 * 60_000, NOW + 61 * 60_000, NOW / 1000]) await refused('/dingtalk/robot', { headers: headers(String(ts)), body: message() }, 403);
    });

    it('refuses an oversized body with 413', async () => {
      await refused('/dingtalk/robot', { headers: headers(), body: message().replace('}', `,"pad":"${'x'.repeat(LIMIT)}"}`) }, 413);
    });
  });

  describe('WeCom app /wecom/callback', () => {
    const xml = () => { n++; return `<xml><ToUserName><![CDATA[${WC.corp}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${NOW / 1000}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[/我的]]></Content><MsgId>${9000 + n}</MsgId></xml>`; };
    const cb = (o: { ts?: number; corp?: string } = {}) => encryptedCallback({ token: WC.token, encodingAESKey: WC.key, corpId: o.corp ?? WC.corp, agentId: '1000002', xml: xml(), timestamp: String(o.ts ?? NOW / 1000), nonce: '42' });
    const path = (q: string) => `/wecom/callback?${q}`;

    it('takes a correctly signed message, the signature in upper case too', async () => {
      const c = cb();
      expect((await send(r.url + path(c.query), { body: c.body })).status).toBe(200);
      expect(r.sent.at(-1)).toMatchObject({ platform: 'wecom', target: 'zhangsan' });
      const d = cb();
      expect((await send(r.url + path(d.query.replace(/msg_signature=([0-9a-f]+)/, (_, s: string) => `msg_signature=${s.toUpperCase()}`)), { body: d.body })).status).toBe(200);
    });

    it('refuses missing, empty, misspelt, duplicated and forged signatures', async () => {
      const c = cb();
      const sig = new URLSearchParams(c.query).get('msg_signature')!;
      const q = (s: string) => c.query.replace(`msg_signature=${sig}`, s);
      await refused(path(''), { body: c.body }, 401);
      await refused(path(q('msg_signature=')), { body: c.body }, 401);
      await refused(path(q(`MSG_SIGNATURE=${sig}`)), { body: c.body }, 401);
      await refused(path(q(`msg_signature=${'0'.repeat(40)}&msg_signature=${sig}`)), { body: c.body }, 401);
      await refused(path(q(`msg_signature=${sig.slice(1)}0`)), { body: c.body }, 401);
      await refused(path(c.query), { body: cb().body }, 401);
    });

    it('refuses stale and future timestamps and another corp, even when correctly signed', async () => {
      for (const ts of [NOW / 1000 - 6 * 60, NOW / 1000 + 6 * 60]) { const c = cb({ ts }); await refused(path(c.query), { body: c.body }, 403); }
      const other = cb({ corp: 'wwanothercorp' });
      await refused(path(other.query), { body: other.body }, 401);
    });

    it('refuses a forged URL verification and an oversized body', async () => {
      const echostr = encryptWecom(WC.key, 'echo', WC.corp);
      const ts = String(NOW / 1000);
      const good = new URLSearchParams({ msg_signature: wecomSignature(WC.token, ts, '1', echostr), timestamp: ts, nonce: '1', echostr });
      expect(await send(r.url + path(good.toString()), { method: 'GET' })).toEqual({ status: 200, text: 'echo' });
      const forged = new URLSearchParams({ msg_signature: wecomSignature('guess', ts, '1', echostr), timestamp: ts, nonce: '1', echostr });
      await refused(path(forged.toString()), { method: 'GET' }, 401);
      const c = cb();
      await refused(path(c.query), { body: c.body.replace('</xml>', `<Pad>${'x'.repeat(LIMIT)}</Pad></xml>`) }, 413);
    });
  });
});

describe('administrator commands refuse non-administrators on every platform', () => {
  /** Each admin command as a non-admin would try it, with the table it would have changed. */
  const ADMIN = [
    '/单位 东关社区', '/单位 新建 西街社区 上级:示范县', '/单位 示范县 委员会', '/导入', '/配额 停用 1', '/配额 预设',
    '/配额 新增 指标:走访天数 周期:月 阈值:2 名称:偷加', '/提醒 免打扰 00:00-23:59', '/提醒 配额 * * * * *',
    '/绑定 李四 账号:console:u9', '/绑定 解除 console:u3', '/绑定 @李四 账号:feishu:ou_evil',
  ];
  /** Every row of the tables an admin command would change, in a fixed order (the key columns first). */
  const snapshot = async (c: Chat) => [
    await rowsWhere(c.db, chatGroups, {}, 'platform').then(byKey('platform', 'chatId')),
    await rowsWhere(c.db, units, {}, 'id'),
    await rowsWhere(c.db, accounts, {}, 'platform').then(byKey('platform', 'accountId')),
    await rowsWhere(c.db, settings, {}, 'key'),
    (await rowsWhere(c.db, quotaRules, {}, 'id')).map(({ id, active }) => ({ id, active })),
  ];
  const byKey = (a: string, b: string) => <T extends Record<string, unknown>>(rows: T[]) =>
    rows.sort((x, y) => String(x[a]).localeCompare(String(y[a])) || String(x[b]).localeCompare(String(y[b])));
  const isRefusal = (text: string) => /只有管理员|还没有绑定到干部名册|联系管理员/.test(text);

  it('on the console: staff, a lead who is not an administrator, an unbound user, in groups and direct chats', async () => {
    const chat = await world();
    try {
      await mapChat(chat.db, 'console', 'g-sm', (await unitByName(chat.db, '石门镇'))!.id, false, NOW);
      const before = await snapshot(chat);
      for (const user of ['u2', 'u4', 'u6', 'nobody']) {
        for (const text of ADMIN) {
          for (const group of [false, 'g-sm', 'g-new']) {
            await chat.says(user, text, { group });
            expect([user, text, group, isRefusal(chat.lastReply)]).toEqual([user, text, group, true]);
          }
        }
      }
      expect(await snapshot(chat)).toEqual(before);
      // The administrator is not refused: the same command works for u1.
      await chat.says('u1', '/单位 东关社区', { group: 'g-new' });
      expect(chat.lastReply).not.toMatch(/只有管理员/);
    } finally {
      await chat.close();
    }
  });

  it('MINQING_ADMINS names platform accounts: the same id on another platform is no administrator', async () => {
    const chat = await world({ MINQING_ADMINS: ['feishu:boss'] });
    try {
      await chat.says('boss', '/单位 新建 西街社区 上级:示范县');
      expect(chat.lastReply).toMatch(/还没有绑定|只有管理员/);
      expect(await unitByName(chat.db, '西街社区')).toBeUndefined();
    } finally {
      await chat.close();
    }
  });

  it('through the Feishu, DingTalk and WeCom callbacks, for a bound staff member', async () => {
    const r = await rig();
    try {
      const before = await snapshot(r.chat);
      let k = 0;
      for (const text of ADMIN) {
        k++;
        const f = signedCallback(messageEvent({ verificationToken: TOKEN, eventId: `adm-e${k}`, messageId: `adm-m${k}`, chatId: 'oc_group', chatType: 'group', senderOpenId: 'ou_u2', text: `@_user_1 ${text}`, mentions: [{ openId: 'ou_bot', name: '民情' }], createTime: NOW }), { encryptKey: EK, timestamp: NOW / 1000 });
        expect((await send(r.url + '/feishu/events', { headers: f.headers, body: f.body })).status).toBe(200);
        expect([text, 'feishu', isRefusal(r.sent.at(-1)!.text)]).toEqual([text, 'feishu', true]);
        const ts = String(NOW + k); // each request its own (timestamp, sign): a pair is taken once
        const d = JSON.stringify({ msgId: `adm-d${k}`, msgtype: 'text', text: { content: text }, conversationType: '2', conversationId: 'cid-group', senderStaffId: 'u2staff', isInAtList: true, createAt: NOW });
        expect((await send(r.url + '/dingtalk/robot', { headers: { timestamp: ts, sign: dingtalkSign(ts, SECRET) }, body: d })).status).toBe(200);
        expect([text, 'dingtalk', isRefusal(r.sent.at(-1)!.text)]).toEqual([text, 'dingtalk', true]);
        const w = encryptedCallback({ token: WC.token, encodingAESKey: WC.key, corpId: WC.corp, agentId: '1000002', timestamp: String(NOW / 1000), nonce: '7',
          xml: `<xml><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>${NOW / 1000}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${7000 + k}</MsgId></xml>` });
        expect((await send(`${r.url}/wecom/callback?${w.query}`, { body: w.body })).status).toBe(200);
        expect([text, 'wecom', isRefusal(r.sent.at(-1)!.text)]).toEqual([text, 'wecom', true]);
      }
      expect(await snapshot(r.chat)).toEqual(before);
    } finally {
      await r.server.close();
      await r.chat.close();
    }
  });
});

describe('unit isolation of the issue ledger', () => {
  let chat: Chat;
  const state = async () => {
    const i = (await oneWhere(chat.db, issues, { id: 1 }))!;
    return { state: i.state, deadline: i.deadline, supervised: i.superviseCount, unit: i.unitId };
  };
  const audit = () => chat.count('issueEvents', { issueId: 1 });

  beforeAll(async () => {
    chat = await world();
    await mapChat(chat.db, 'console', 'g-dg', (await unitByName(chat.db, '东关社区'))!.id, false, NOW);
    // #1 is 东关社区's (registered by its staff 李四, who is responsible), and resolved.
    await chat.says('u3', '/民情 东关社区 张大爷反映低保未到账 电话13912345678 类别:社会保障 时限:12月31日');
    await chat.says('u3', '/办结 #1 已协调发放，已电话告知群众');
    await chat.says('u3', '/走访 昨天 东关社区 入户 1天');
  });
  afterAll(() => chat.close());

  it('a lead of the sibling unit 石门镇 can neither work on nor read 东关社区 issues', async () => {
    const before = [await state(), await audit()];
    for (const text of ['/销号 #1', '/销号 #1 退回 群众不满意', '/督办 #1', '/延期 #1 30天 等资金', '/进展 #1 已联系', '/办结 #1 好了，已告知群众', '/上报 #1 协调', '/评价 #1 满意', '/核查 #V1 退回 不实']) {
      await chat.says('u4', text);
      expect([text, chat.lastReply]).toEqual([text, expect.stringMatching(/只有|须由|不能|领导/)]);
      expect(chat.lastReply).not.toMatch(/^已/);
    }
    expect([await state(), await audit()]).toEqual(before);
    for (const text of ['/台账 东关社区', '/清单 东关社区', '/统计 本月 东关社区', '/导出 台账 东关社区', '/图表 东关社区']) {
      await chat.says('u4', text);
      expect([text, chat.lastReply]).toEqual([text, expect.stringContaining('没有查看「东关社区」数据的权限')]);
      expect(chat.replies.some((x) => x.file || x.image)).toBe(false);
    }
    // Sitting in 东关社区's group does not lend its unit.
    await chat.says('u4', '/台账', { group: 'g-dg' });
    expect(chat.lastReply).toContain('没有查看「东关社区」数据的权限');
    expect(chat.lastReply).not.toContain('张大爷');
  });

  it('staff of the unit itself cannot close or supervise, and staff elsewhere cannot even read', async () => {
    for (const text of ['/销号 #1', '/督办 #1', '/延期 #1 30天 等资金']) {
      await chat.says('u3', text);
      expect(chat.lastReply).toMatch(/须由「东关社区」的领导/);
    }
    await chat.says('u2', '/台账 东关社区');
    expect(chat.lastReply).toContain('没有查看「东关社区」数据的权限');
  });

  it('its own lead and the lead of the county above it may read, supervise and close it', async () => {
    await chat.says('u5', '/台账 东关社区');
    expect(chat.lastReply).toContain('东关社区台账');
    await chat.says('u6', '/清单 东关社区');
    expect(chat.lastReply).toContain('张大爷反映低保未到账');
    await chat.says('u6', '/统计 本月 东关社区');
    expect(chat.lastReply).not.toContain('没有查看');
    await chat.says('u5', '/销号 #1');
    expect(chat.lastReply).toContain('已销号 #1');
  });

  it('once escalated to the county, the issue is out of reach of the unit lead below', async () => {
    await chat.says('u3', '/民情 东关社区 排水不畅 类别:基础设施 时限:12月31日');
    await chat.says('u3', '/上报 #2 需县里协调资金');
    expect(chat.lastReply).toContain('上报至「示范县」');
    await chat.says('u5', '/督办 #2');
    expect(chat.lastReply).toContain('须由「示范县」的领导');
    await chat.says('u6', '/督办 #2 本周拿出方案');
    expect(chat.lastReply).toContain('已督办 #2');
  });

  it('a staff member cannot make themselves 责任领导 to close their own issue', async () => {
    await chat.says('u3', '/民情 东关社区 路灯不亮 类别:基础设施 时限:12月31日 责任领导:@李四');
    expect(chat.lastReply).toMatch(/责任领导应为领导/);
    await chat.says('u3', '/民情 东关社区 路灯不亮 类别:基础设施 时限:12月31日 责任领导:@钱七');
    const id = Number(/#(\d+)/.exec(chat.lastReply)![1]);
    await chat.says('u3', `/办结 #${id} 已修好，已告知群众`);
    await chat.says('u3', `/销号 #${id}`);
    expect(chat.lastReply).toContain('须由');
    await chat.says('u5', `/销号 #${id}`);
    expect(chat.lastReply).toContain(`已销号 #${id}`);
  });
});

describe('no log line carries a citizen\'s full phone number', () => {
  const PHONES = ['13912345678', '+86 139 1234 5678', '139-1234-5678', '8613912345678'];
  /** Any 11-digit mobile number, however it is spaced: what must never be in a log line. */
  const FULL = /(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)/;
  let fake: Fake;
  beforeAll(async () => {
    // Feishu refuses every message: the failed delivery is logged with the reply it carried.
    fake = await fakeServer({
      'POST /open-apis/auth/v3/tenant_access_token/internal': () => ({ json: { code: 0, tenant_access_token: 't', expire: 7200 } }),
      'POST /open-apis/im/v1/messages': () => ({ status: 500, json: { code: 99991400, msg: 'server busy' } }),
    });
  });
  afterAll(() => fake.close());

  it('across commands, faults, refusals and failed deliveries, at every level', async () => {
    const chat = await world();
    const cap = capturedLogger('trace');
    try {
      // A command whose handler fails with the message text in its error, as a bug would.
      const failing = defineCommand({
        name: '故障', aliases: [], summary: '测试', group: 'query', mode: 'write', examples: ['/故障 x'],
        args: { text: restArg('内容') }, async handle(_ctx, a) { throw new Error(`无法处理：${a.text}`); },
      });
      const deps = { ...chat.app.deps, log: cap.log, registry: new Registry([...allCommands(), failing], normalize) };
      const say = (user: string, text: string, id: string, direct = true) =>
        handleEvent(makeEvent({ platform: 'console', chatId: direct ? user : 'g1', direct, senderId: user, messageId: id, at: new Date(NOW), text, mentionsBot: !direct }, cap.log), deps);
      let k = 0;
      for (const phone of PHONES) {
        for (const text of [`/联系户 王大爷${k} ${phone} 人口:4 困难:就医难`, `/民情 石门村 王大爷电话${phone}反映路灯不亮 时限:12月31日`,
          `/绑定 张三 ${phone}`, `/故障 群众电话 ${phone}`, `/走访 明天 石门村 1天 电话${phone}`, `/民情 石门村 ${phone} 时限:9999-12-31`]) {
          await say('u2', text, `ph${k++}`);
          await say('u2', text, `ph${k - 1}`); // a redelivery, logged at info
          await say('nobody', text, `ph${k++}`, false);
        }
      }
      const outbound = new Outbound({ log: cap.log });
      const feishu = createFeishuAdapter({ appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 's', encryptKey: EK, verificationToken: TOKEN, botOpenId: 'ou_bot', botName: '民情', domain: fake.url, ackWithinMs: 20_000, now: () => NOW },
        { handle: chat.app.handle, log: cap.log, send: (reply, key) => outbound.send(reply, key) });
      outbound.register(feishu.sender);
      for (const phone of PHONES) {
        const f = signedCallback(messageEvent({ verificationToken: TOKEN, eventId: `lg-${phone}`, messageId: `lg-${phone}`, chatId: 'oc_p2p_u2', chatType: 'p2p', senderOpenId: 'ou_u2', text: `/联系户 李大妈 ${phone}`, createTime: NOW }), { encryptKey: EK, timestamp: NOW / 1000 });
        await feishu.handleCallback({ method: 'POST', path: '/feishu/events', query: new URLSearchParams(), headers: f.headers, body: Buffer.from(f.body) });
      }
      await feishu.idle();
      const text = cap.lines.join('');
      // The paths that matter did log: the fault, the refused delivery, a redelivery.
      expect(text).toContain('command failed');
      expect(text).toContain('reply could not be delivered');
      expect(text).toContain('redelivered message');
      expect(text).toContain('139****5678');
      expect(cap.lines.filter((l) => FULL.test(l))).toEqual([]);
      // Every line is still one JSON object.
      for (const l of cap.lines) expect(() => JSON.parse(l)).not.toThrow();
    } finally {
      await chat.close();
    }
  });
});
