/**
 * Property-based fuzzing: well over 100,000 generated messages thrown at the
 * parser, the router and every adapter's decoder and HTTP handler. Properties: nothing throws out
 * of the core; every addressed message gets a reply; no fault ("抱歉…出了问题") is ever answered,
 * because a fault means a handler threw something other than a UserError; a platform payload
 * that is refused is answered 4xx and logged; afterwards the database passes integrity_check and
 * every issue's state is the to-state of its last audit row.
 *
 * Seeds are fixed per property, so a failure reproduces; a failing input found here is kept as a
 * case in test/fuzz-regressions.test.ts. Cheap properties (parser, decoders) run many times, the
 * ones that touch the database fewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Logger } from 'pino';
import { Chat, testDialect } from './chat.js';
import { rowsWhere } from './db-probe.js';
import { issueEvents, issues } from '../storage/schema.js';
import { asJson, capturedLogger, cardForm, cardValues, commandText, jsonWithKeys, messageText, nearlyValidCommand, registry, token } from './fuzz-arbitraries.js';
import { collectArgs, findCommand, splitCommand, validateArgs } from '../bot/parse.js';
import { AskFor } from '../bot/errors.js';
import { localDate } from '../bot/time.js';
import { isUserError } from '../bot/errors.js';
import { makeEvent } from '../bot/event.js';
import { T as CORE } from '../bot/texts.js';
import { normalize } from '../bot/normalize.js';
import { decodeLine } from '../bot/adapters/console/jsonl.js';
import { decodeCardAction, decodeMessage, resolveMentions } from '../bot/adapters/feishu/decode.js';
import { decodeCardCallback, decodeRobotMessage } from '../bot/adapters/dingtalk/decode.js';
import { decryptWecom, encryptWecom, encryptedCallback, wecomSignature, xmlField } from '../bot/adapters/wecom/crypto.js';
import { createFeishuAdapter, type FeishuAdapter } from '../bot/adapters/feishu/index.js';
import { signedCallback } from '../bot/adapters/feishu/crypto.js';
import { createDingtalkAdapter, dingtalkSign, type DingtalkAdapter } from '../bot/adapters/dingtalk/index.js';
import { createWecomAppAdapter } from '../bot/adapters/wecom/app.js';
import type { HttpRequest, HttpResponse, RouteHandler } from '../bot/http-server.js';
import { bindAccount, cadreByPhone } from '../storage/identity.js';

const NOW = new Date('2026-11-20T09:30:00+08:00');
const TZ = 'Asia/Shanghai';

/** A plain assertion: `expect` costs too much inside properties run tens of thousands of times. */
function check(ok: unknown, what: string, value?: unknown): void {
  if (!ok) throw new Error(`${what}${value === undefined ? '' : `: ${JSON.stringify(value)?.slice(0, 300)}`}`);
}
const isText = (s: unknown) => typeof s === 'string';
const validDate = (d: Date) => !Number.isNaN(d.getTime());

/**
 * CI runs the fixed seeds below. For a deeper hunt: MINQING_FUZZ_SCALE=10 multiplies every run
 * count, MINQING_FUZZ_SEED=n shifts every seed (a failure prints the seed and path to replay).
 */
const SCALE = Number(process.env.MINQING_FUZZ_SCALE ?? 1);
const SEED_SHIFT = Number(process.env.MINQING_FUZZ_SEED ?? 0);

/** Counts what each property generated, to show the total at the end. */
const generated: Record<string, number> = {};
const opts = (numRuns: number, seed: number) => ({ numRuns: Math.round(numRuns * SCALE), seed: seed + SEED_SHIFT });
const run = <T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, seed: number, holds: (v: T) => void) => {
  fc.assert(fc.property(arb, (v) => { generated[name] = (generated[name] ?? 0) + 1; holds(v); }), opts(numRuns, seed));
};
const runAsync = async <T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, seed: number, holds: (v: T) => Promise<void>) => {
  await fc.assert(fc.asyncProperty(arb, async (v) => { generated[name] = (generated[name] ?? 0) + 1; await holds(v); }), opts(numRuns, seed));
};

afterAll(() => {
  const total = Object.values(generated).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} generated inputs — ${Object.entries(generated).map(([k, n]) => `${k} ${n}`).join(', ')}`);
});

/** What the router does before a handler runs, as the parser sees it: only UserErrors may come out. */
function parseOnly(text: string, mentionsBot: boolean): 'none' | 'ok' | 'refused' {
  const split = splitCommand(text, mentionsBot, registry);
  if (!split) return 'none';
  try {
    const c = findCommand(registry, split.word);
    const env = { now: NOW, tz: TZ, today: localDate(NOW, TZ), places: ['石门村', '东关社区'] };
    validateArgs(c, collectArgs(c, split.body, env), env);
    return 'ok';
  } catch (e) {
    if (e instanceof AskFor) return 'refused';
    if (!isUserError(e)) throw e;
    check(e.message.trim(), 'a refusal without a message');
    return 'refused';
  }
}

describe('parser', () => {
  it('splitCommand, findCommand, collectArgs and validateArgs throw nothing but UserErrors', () => {
    run('parser', fc.tuple(messageText, fc.boolean()), 23_000, 7001, ([text, mention]) => { parseOnly(text, mention); });
  }, 120_000);

  it('every real command word with mangled arguments parses or is refused with a reason', () => {
    const words = fc.constantFrom(...registry.commands.flatMap((c) => [c.name, ...c.aliases]));
    run('parser-commands', fc.oneof(nearlyValidCommand, commandText(words, ['/', '／', '/ ', '／　'])), 12_000, 7002, (text) => {
      check(parseOnly(text, false) !== 'none', 'a slash command not taken for a command', text);
    });
  }, 120_000);

  it('normalize is total', () => {
    run('normalize', fc.oneof(token, fc.string({ unit: 'binary', maxLength: 64 })), 5_000, 7003, (s) => {
      check(isText(normalize(s)), 'normalize returned no string', s);
    });
  }, 120_000);
});

describe('decoders', () => {
  const { log } = capturedLogger('silent');
  const now = () => NOW.getTime();

  it('console JSONL: any line decodes to an event or to a Chinese refusal', () => {
    const fields = ['user', 'chat', 'group', 'text', 'at', 'id', 'name', 'card', 'values'];
    const line = fc.oneof(
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
      { weight: 4, arbitrary: jsonWithKeys(fields, 2).map((v) => JSON.stringify(v) ?? 'null') },
      { weight: 4, arbitrary: fc.record({ user: fc.oneof(fc.constantFrom('u1', 'u2', ''), fc.string()), text: messageText, id: fc.string(), at: fc.oneof(fc.constant('2026-11-20T09:30:00+08:00'), fc.string()), group: fc.oneof(fc.boolean(), fc.jsonValue()) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
    );
    run('console-jsonl', line, 12_000, 7101, (raw) => {
      const d = decodeLine(raw, log, '民情');
      if ('error' in d) check(/[\u4e00-\u9fff]/.test(d.error), 'refusal not in Chinese', d.error);
      else check(isText(d.event.text) && validDate(d.event.at), 'bad event from a line', raw);
    });
  }, 120_000);

  const feishuKeys = ['event_id', 'sender', 'sender_id', 'open_id', 'sender_type', 'message', 'message_id', 'chat_id', 'chat_type', 'message_type', 'content', 'create_time', 'mentions', 'key', 'id', 'name', 'text', 'title', 'tag', 'image_key', 'file_key', 'user_id'];

  it('Feishu: any message event and card action decodes or is ignored, never throws', () => {
    const opts = { botOpenId: 'ou_bot', botName: '民情', log, now };
    const contentJson = fc.oneof(jsonWithKeys(['text', 'title', 'content', 'zh_cn', 'tag', 'image_key', 'file_key', 'user_id', 'latitude'], 4).map((v) => JSON.stringify(v) ?? ''), fc.string());
    const plausible = fc.record({
      event_id: fc.string(),
      sender: fc.oneof(fc.constant({ sender_id: { open_id: 'ou_u1' }, sender_type: 'user' }), jsonWithKeys(feishuKeys, 2)),
      message: fc.record({
        message_id: fc.oneof(fc.string({ minLength: 1 }), fc.jsonValue()), chat_id: fc.oneof(fc.constant('oc_1'), fc.jsonValue()),
        chat_type: fc.constantFrom('p2p', 'group', 'x'), message_type: fc.constantFrom('text', 'post', 'image', 'file', 'audio', 'media', 'location', 'sticker', '?'),
        content: contentJson, create_time: fc.oneof(fc.string(), fc.jsonValue()), mentions: fc.oneof(jsonWithKeys(feishuKeys, 3), fc.array(jsonWithKeys(['key', 'id', 'name', 'open_id'], 2))),
      }, { requiredKeys: ['message_id', 'chat_id'] }),
    }, { requiredKeys: ['message'] });
    run('feishu-message', fc.oneof(asJson(plausible), jsonWithKeys(feishuKeys, 4)), 6_000, 7201, (flat) => {
      const e = decodeMessage(flat as never, opts);
      if (e) check(isText(e.text) && isText(e.messageId) && isText(e.chatId) && validDate(e.at), 'bad Feishu event', flat);
    });
    run('feishu-mentions', fc.tuple(messageText, jsonWithKeys(['key', 'id', 'name', 'open_id'], 3)), 3_000, 7202, ([text, raw]) => {
      check(isText(resolveMentions(text, raw as never, opts).text), 'mentions gave no text', raw);
    });
    const action = fc.record({
      event_id: fc.string(), operator: fc.oneof(fc.constant({ open_id: 'ou_u1' }), jsonWithKeys(['open_id', 'name'], 2)),
      action: jsonWithKeys(['value', 'form_value', 'minqing', 'form', 'command', 'direct', 'tag'], 3),
      context: fc.oneof(fc.constant({ open_message_id: 'om_1', open_chat_id: 'oc_1' }), jsonWithKeys(['open_message_id', 'open_chat_id'], 2)),
    }, { requiredKeys: [] });
    const value = fc.record({ minqing: fc.constantFrom('open', 'submit', 'command', 'x'), form: cardForm, command: messageText, direct: fc.jsonValue() }, { requiredKeys: [] });
    const submit = fc.tuple(value, cardValues, fc.boolean()).map(([v, fv, asString]) => ({ operator: { open_id: 'ou_u1' }, context: { open_message_id: 'om_1', open_chat_id: 'oc_1' }, action: { value: asString ? JSON.stringify(v) : v, form_value: fv } }));
    run('feishu-card', asJson(fc.oneof(action, submit)), 4_000, 7203, (flat) => {
      const d = decodeCardAction(flat as never, { ...opts, isDirectChat: () => false });
      check(['open', 'event', 'ignored'].includes(d.kind), 'unknown card outcome', d);
    });
  }, 120_000);

  const dingKeys = ['msgId', 'msgtype', 'text', 'content', 'richText', 'downloadCode', 'createAt', 'conversationType', 'conversationId', 'senderStaffId', 'senderId', 'senderNick', 'isInAtList', 'atUsers', 'dingtalkId', 'staffId', 'chatbotUserId', 'sessionWebhook'];

  it('DingTalk: any robot message and card callback decodes or is ignored, never throws', () => {
    const opts = { botName: '民情', log, now };
    const plausible = fc.record({
      msgId: fc.oneof(fc.string({ minLength: 1 }), fc.jsonValue()), conversationId: fc.oneof(fc.constant('cid1'), fc.jsonValue()),
      senderStaffId: fc.oneof(fc.constant('u1staff'), fc.jsonValue()), msgtype: fc.constantFrom('text', 'richText', 'picture', 'file', 'audio', 'video', 'x'),
      text: fc.oneof(fc.record({ content: fc.oneof(messageText, fc.jsonValue()) }), fc.jsonValue()), content: jsonWithKeys(dingKeys, 3),
      conversationType: fc.oneof(fc.constantFrom('1', '2'), fc.jsonValue()), createAt: fc.oneof(fc.integer(), fc.jsonValue()),
      isInAtList: fc.jsonValue(), atUsers: fc.oneof(fc.array(jsonWithKeys(['dingtalkId', 'staffId'], 1)), fc.jsonValue()),
    }, { requiredKeys: ['msgId', 'conversationId', 'senderStaffId'] });
    run('dingtalk-message', fc.oneof(asJson(plausible), jsonWithKeys(dingKeys, 4)), 6_000, 7301, (m) => {
      const e = decodeRobotMessage(m as never, opts);
      if (e) check(isText(e.text) && isText(e.messageId) && isText(e.chatId) && isText(e.senderId) && validDate(e.at), 'bad DingTalk event', m);
    });
    const privateData = fc.record({ cardPrivateData: fc.record({ actionIds: fc.oneof(fc.array(fc.oneof(fc.constantFrom('mq_form_visit', 'mq_form_'), fc.jsonValue())), fc.jsonValue()), params: fc.oneof(fc.tuple(cardForm, cardValues).map(([form, v]) => (v && typeof v === 'object' ? { ...v, form } : v)), fc.jsonValue()) }, { requiredKeys: [] }) }, { requiredKeys: [] });
    const callback = fc.record({
      outTrackId: fc.oneof(fc.constant('track1'), fc.jsonValue()), userId: fc.oneof(fc.constant('u1staff'), fc.jsonValue()),
      spaceType: fc.constantFrom('IM_GROUP', 'IM_ROBOT', 'x'), spaceId: fc.oneof(fc.constant('cid1'), fc.jsonValue()),
      value: fc.oneof(privateData.map((v) => JSON.stringify(v)), fc.json(), fc.string(), fc.jsonValue()),
    }, { requiredKeys: [] });
    run('dingtalk-card', fc.oneof(asJson(callback), jsonWithKeys(['outTrackId', 'userId', 'value', 'content', 'spaceType', 'spaceId'], 3)), 5_000, 7302, (d) => {
      check(['open', 'event', 'ignored'].includes(decodeCardCallback(d as never, opts).kind), 'unknown card outcome', d);
    });
  }, 120_000);

  it('WeCom: XML fields and damaged ciphertexts are read or refused, never crash the process', () => {
    const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    run('wecom-xml', fc.tuple(fc.oneof(messageText, fc.string({ unit: 'binary', maxLength: 300 })), fc.constantFrom('Encrypt', 'MsgType', 'Content', 'MsgId', 'FromUserName', 'CreateTime')), 2_000, 7401, ([xml, tag]) => {
      const v = xmlField(xml, tag);
      check(v === undefined || isText(v), 'xmlField gave no string', xml);
    });
    const damaged = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.tuple(messageText, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([m, i, x]) => {
        const b = Buffer.from(encryptWecom(KEY, m, 'wx5823bf96d3bd56c7'), 'base64');
        b[i % b.length] ^= x;
        return b.toString('base64');
      }),
    );
    run('wecom-decrypt', damaged, 2_000, 7402, (enc) => {
      try { decryptWecom(KEY, enc); } catch (e) { check(e instanceof Error, 'decryptWecom threw a non-Error', String(e)); }
    });
  }, 120_000);
});

describe('router (handleEvent on a real database)', () => {
  let chat: Chat;
  const cap = capturedLogger('warn');
  let seq = 0;

  beforeAll(async () => {
    chat = await Chat.demo();
    // Some state to aim at: a mapped group, visits and issues #1–#4 in different states.
    await chat.says('u1', '/单位 石门镇', { group: 'g1' });
    await chat.says('u2', '/走访 昨天 石门村 入户 1天 走访困难户3户');
    for (let i = 0; i < 4; i++) await chat.says('u2', `/民情 石门村 问题${i} 责任人:@李四 时限:12月31日 群众电话1381234567${i}`);
    await chat.says('u3', '/进展 #2 已联系');
    await chat.says('u3', '/办结 #3 已修复，已电话告知群众');
  });
  afterAll(async () => { await chat.close(); });

  interface Msg { user: string; group: string | null; mention: boolean; text?: string; card?: { form: string; values: unknown }; at: Date; again: boolean }
  const when = fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2028-12-31T00:00:00Z'), noInvalidDate: true });
  const who = fc.constantFrom('u1', 'u2', 'u3', 'u2', 'u3', 'stranger');
  const where = fc.constantFrom(null, null, 'g1', 'g2');
  // Charts and spreadsheets cost tens to hundreds of milliseconds each: they get a property of
  // their own with fewer runs; the parser property covers their arguments in full.
  const heavy = (t: string) => { const c = splitCommand(t, true, registry); const d = c && registry.get(normalize(c.word)); return !!d && (d.name === '图表' || d.name === '导出'); };
  const routerText = fc.oneof({ weight: 2, arbitrary: nearlyValidCommand }, { weight: 1, arbitrary: messageText });
  const ids = new Map<string, number>();
  /** /绑定 解除 may unbind the demo users: bind them again so later messages still reach handlers. */
  async function rebind() {
    if (await chat.count('accounts', { platform: 'console' }) >= 3) return;
    for (const [u, phone] of [['u1', '13800000001'], ['u2', '13800000002'], ['u3', '13800000003']]) {
      ids.set(u, ids.get(u) ?? (await cadreByPhone(chat.db, phone))!.id);
      await bindAccount(chat.db, 'console', u, ids.get(u)!, NOW.getTime());
    }
  }

  async function send(m: Msg, log: Logger) {
    const event = makeEvent({
      platform: 'console', chatId: m.group ?? m.user, direct: !m.group, senderId: m.user, messageId: `f${++seq}`,
      at: m.at, text: m.text ?? '', mentionsBot: m.mention,
      card: m.card ? { form: m.card.form, values: m.card.values as Record<string, unknown> } : undefined,
    }, log);
    await rebind();
    cap.clear();
    const replies = await chat.app.handle(event);
    const addressed = event.direct || event.mentionsBot || !!m.card;
    if (addressed) check(replies.length > 0, 'an addressed message got no reply', m);
    for (const r of replies) check(isText(r.text) && r.text !== CORE.fault, 'a fault was answered', { m, log: cap.errors() });
    if (m.again) check(JSON.stringify(await chat.app.handle(event)) === JSON.stringify(replies), 'a redelivery got other replies', m);
    check(cap.errors().length === 0, 'an error was logged', cap.errors());
  }

  it('answers every addressed text message, and never with a fault', async () => {
    const msg = fc.record({ user: who, group: where, mention: fc.boolean(), text: routerText.filter((t) => !heavy(t)), at: when, again: fc.boolean() });
    await runAsync('router-text', msg, 10_000, 7501, (m) => send(m, cap.log));
  }, 180_000);

  it('answers chart and spreadsheet commands with mangled arguments, and never with a fault', async () => {
    const words = fc.constantFrom('图表', 'chart', '圖表', '导出', 'export', '導出');
    const msg = fc.record({ user: who, group: where, mention: fc.constant(true), text: fc.oneof(nearlyValidCommand.filter(heavy), commandText(words, ['/'])), at: when, again: fc.constant(false) });
    await runAsync('router-heavy', msg, 60, 7503, (m) => send(m, cap.log));
  }, 120_000);

  it('answers every card submission, whatever its form name and values', async () => {
    const msg = fc.record({ user: who, group: where, mention: fc.constant(false), card: fc.record({ form: cardForm, values: cardValues }), at: when, again: fc.boolean() });
    await runAsync('router-card', msg, 4_000, 7502, (m) => send(m, cap.log));
  }, 120_000);

  // integrity_check is SQLite's own look at its file: nothing to ask PostgreSQL.
  it.skipIf(testDialect() === 'postgres')('leaves a database that passes integrity_check', () => {
    expect(chat.db.sqlite!.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('leaves every issue in the state of its last audit row', async () => {
    const events = await rowsWhere(chat.db, issueEvents, {}, 'id');
    const last = new Map<number, (typeof events)[number]>();
    for (const e of events) last.set(e.issueId, e);
    const all = await rowsWhere(chat.db, issues, {}, 'id');
    const mismatched = all.flatMap((i) => {
      const e = last.get(i.id);
      return e && e.toState !== i.state ? [{ id: i.id, state: i.state, to_state: e.toState }] : [];
    });
    expect(mismatched).toEqual([]);
    const registered = new Set(events.filter((e) => e.action === 'register').map((e) => e.issueId));
    expect(all.filter((i) => !registered.has(i.id)).length).toBe(0);
    expect(await chat.count('visits') + await chat.count('issues')).toBeGreaterThan(5);
  });
});

describe('platform HTTP handlers (verify → decrypt → decode → core)', () => {
  const EK = 'fuzz-encrypt-key';
  const TOKEN = 'fuzz-verification-token';
  const SECRET = 'fuzz-dingtalk-secret';
  const WECOM = { token: 'QDG6eK', key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corp: 'wx5823bf96d3bd56c7' };
  const NOW_MS = NOW.getTime();
  const cap = capturedLogger('info');
  let chat: Chat;
  let feishu: FeishuAdapter;
  let dingtalk: DingtalkAdapter;
  let wecomGet: RouteHandler;
  let wecomPost: RouteHandler;

  beforeAll(async () => {
    chat = await Chat.demo();
    await bindAccount(chat.db, 'feishu', 'ou_u1', (await cadreByPhone(chat.db, '13800000001'))!.id, NOW_MS);
    await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW_MS);
    await bindAccount(chat.db, 'wecom', 'zhangsan', (await cadreByPhone(chat.db, '13800000002'))!.id, NOW_MS);
    // Replies are dropped at the wire: the properties are about taking requests, not sending.
    const deps = { handle: chat.app.handle, log: cap.log, send: async () => {} };
    feishu = createFeishuAdapter({ appId: 'cli_fuzz', appSecret: 's', encryptKey: EK, verificationToken: TOKEN, botOpenId: 'ou_bot', botName: '民情', ackWithinMs: 60_000, now: () => NOW_MS }, deps);
    dingtalk = createDingtalkAdapter({ clientId: 'dingfuzz', clientSecret: SECRET, botName: '民情', ackWithinMs: 60_000, now: () => NOW_MS }, deps);
    const wecom = createWecomAppAdapter({ corpId: WECOM.corp, agentId: '1000002', secret: 's', token: WECOM.token, encodingAESKey: WECOM.key, ackWithinMs: 60_000, now: () => NOW_MS }, deps);
    [wecomGet, wecomPost] = wecom.routes().map((r) => r.handler);
  });
  afterAll(async () => {
    await Promise.all([feishu.idle(), dingtalk.idle()]);
    await chat.close();
  });

  const req = (path: string, body: string | Buffer, headers: Record<string, string> = {}, query = '', method = 'POST'): HttpRequest =>
    ({ method, path, query: new URLSearchParams(query), headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body), remote: '127.0.0.1' });

  /** Refused requests are 4xx with a logged reason; taken ones 200; nothing is ever 5xx or thrown. */
  async function judge(answer: () => Promise<HttpResponse>, input: unknown): Promise<HttpResponse> {
    cap.clear();
    const res = await answer();
    check(res.status === 200 || (res.status >= 400 && res.status < 500), 'answered outside 200/4xx', { status: res.status, input });
    if (res.status !== 200) check(isText(res.refusal) && res.refusal!.length > 0, 'a refusal without a reason', input);
    const ours = cap.errors().filter((l) => l.sdk !== 'lark');
    check(ours.length === 0, 'an error was logged', ours);
    return res;
  }

  const randomBody = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }), fc.json({ maxDepth: 3 }),
    jsonWithKeys(['encrypt', 'challenge', 'token', 'type', 'schema', 'header', 'msgId', 'text', 'Encrypt'], 3).map((v) => JSON.stringify(v) ?? ''),
    fc.string({ unit: 'binary', maxLength: 60 }).map((x) => `<xml><Encrypt><![CDATA[${x}]]></Encrypt></xml>`),
  );
  const headerValue = fc.oneof(fc.constantFrom('', ' ', '0', '-1', String(NOW_MS), String(NOW_MS / 1000), 'null', 'a'.repeat(200)), fc.string({ maxLength: 80 }));
  const randomHeaders = fc.dictionary(
    fc.constantFrom('x-lark-request-timestamp', 'x-lark-request-nonce', 'x-lark-signature', 'timestamp', 'sign', 'content-type', 'x-forwarded-for'),
    headerValue, { maxKeys: 5, noNullPrototype: true });
  const randomQuery = fc.dictionary(fc.constantFrom('msg_signature', 'timestamp', 'nonce', 'echostr', 'x'), headerValue, { maxKeys: 4, noNullPrototype: true })
    .map((q) => new URLSearchParams(q).toString());

  it('refuses forged or unsigned requests of every platform with 4xx, and records nothing', async () => {
    const before = await chat.count('inboundMessages');
    const forged = fc.record({ platform: fc.constantFrom('feishu', 'dingtalk', 'wecom-get', 'wecom-post'), body: randomBody, headers: randomHeaders, query: randomQuery });
    await runAsync('http-forged', forged, 3_000, 7601, async (r) => {
      const answer = () => r.platform === 'feishu' ? feishu.handleCallback(req('/feishu/events', r.body, r.headers))
        : r.platform === 'dingtalk' ? dingtalk.handleCallback(req('/dingtalk/robot', r.body, r.headers))
          : (r.platform === 'wecom-get' ? wecomGet : wecomPost)(req('/wecom/callback', r.body, r.headers, r.query, r.platform === 'wecom-get' ? 'GET' : 'POST'));
      const res = await judge(answer, r);
      check(res.status >= 400 && res.status < 500, 'a forged request was taken', { status: res.status, r });
    });
    expect(await chat.count('inboundMessages')).toBe(before);
  }, 120_000);

  it('Feishu: any correctly signed and encrypted payload is answered 200 or 4xx', async () => {
    const feishuEvent = fc.record({
      schema: fc.constantFrom('2.0', 'x'),
      header: fc.record({ token: fc.oneof({ weight: 5, arbitrary: fc.constant(TOKEN) }, { weight: 1, arbitrary: fc.jsonValue() }), event_id: fc.string(), event_type: fc.constantFrom('im.message.receive_v1', 'card.action.trigger', 'app_ticket', 'x') }, { requiredKeys: [] }),
      event: jsonWithKeys(['sender', 'sender_id', 'open_id', 'message', 'message_id', 'chat_id', 'chat_type', 'content', 'mentions', 'operator', 'action', 'value', 'form_value', 'context', 'open_message_id', 'open_chat_id'], 4),
      type: fc.constantFrom('url_verification', 'event_callback', undefined), challenge: fc.jsonValue(), token: fc.constantFrom(TOKEN, 'x'),
    }, { requiredKeys: ['header'] });
    const message = fc.tuple(fc.constantFrom('p2p', 'group'), messageText, fc.string({ minLength: 1, maxLength: 8 }))
      .map(([type, text, id]) => ({ schema: '2.0', header: { token: TOKEN, app_id: 'cli_fuzz', event_id: `e-${id}`, event_type: 'im.message.receive_v1' }, event: { sender: { sender_id: { open_id: 'ou_u1' }, sender_type: 'user' }, message: { message_id: `om-${id}`, chat_id: 'oc_1', chat_type: type, message_type: 'text', content: JSON.stringify({ text: type === 'group' ? `@_user_1 ${text}` : text }), mentions: [{ key: '@_user_1', id: { open_id: 'ou_bot' }, name: '民情' }] } } }));
    await runAsync('http-feishu', fc.oneof(asJson(feishuEvent), message, jsonWithKeys(['header', 'token', 'event', 'schema'], 3)), 2_500, 7602, async (payload) => {
      const signed = signedCallback(payload, { encryptKey: EK, timestamp: NOW_MS / 1000 });
      await judge(() => feishu.handleCallback(req('/feishu/events', signed.body, signed.headers)), payload);
    });
  }, 120_000);

  it('DingTalk: any body under a valid sign is answered 200 or 400', async () => {
    const robot = fc.record({
      msgId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue()), msgtype: fc.constantFrom('text', 'richText', 'picture', 'x'),
      text: fc.oneof(fc.record({ content: messageText }), fc.jsonValue()), conversationType: fc.constantFrom('1', '2'), conversationId: fc.constantFrom('cid1', 'cid2'),
      senderStaffId: fc.constantFrom('u2staff', 'nobody'), isInAtList: fc.boolean(), sessionWebhook: fc.oneof(fc.constant('https://oapi.dingtalk.com/robot/sendBySession?session=x'), fc.jsonValue()),
      sessionWebhookExpiredTime: fc.oneof(fc.integer(), fc.jsonValue()), atUsers: fc.oneof(fc.array(fc.record({ dingtalkId: fc.string(), staffId: fc.string() })), fc.jsonValue()),
    }, { requiredKeys: ['msgId', 'conversationId', 'senderStaffId'] });
    const body = fc.oneof({ weight: 4, arbitrary: asJson(robot).map((m) => JSON.stringify(m)) }, { weight: 1, arbitrary: randomBody });
    // A (timestamp, sign) pair is taken once, so each body comes with its own.
    let ts = NOW_MS;
    const headers = () => { ts -= 1; return { timestamp: String(ts), sign: dingtalkSign(String(ts), SECRET) }; };
    await runAsync('http-dingtalk', body, 2_500, 7603, async (b) => {
      await judge(() => dingtalk.handleCallback(req('/dingtalk/robot', b, headers())), b);
    });
  }, 120_000);

  it('WeCom app: any XML under a valid signature and encryption is answered 200 or 4xx', async () => {
    const field = (tag: string, v: fc.Arbitrary<string>) => fc.option(v.map((x) => `<${tag}><![CDATA[${x}]]></${tag}>`), { nil: '' });
    const xml = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(field('FromUserName', fc.constantFrom('zhangsan', 'nobody', '')), field('MsgType', fc.constantFrom('text', 'image', 'event', '')),
        field('Content', messageText), field('MsgId', fc.string({ maxLength: 12 })), fc.option(fc.oneof(fc.integer(), fc.double()).map((t) => `<CreateTime>${t}</CreateTime>`), { nil: '' }))
        .map((parts) => `<xml>${parts.join('')}</xml>`) },
      { weight: 1, arbitrary: fc.oneof(messageText, fc.string({ unit: 'binary', maxLength: 200 })) },
    );
    const corp = fc.oneof({ weight: 5, arbitrary: fc.constant(WECOM.corp) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
    await runAsync('http-wecom', fc.tuple(xml, corp, fc.boolean()), 1_500, 7604, async ([x, corpId, verify]) => {
      const ts = String(NOW_MS / 1000);
      if (verify) {
        const echostr = encryptWecom(WECOM.key, x, corpId);
        const q = new URLSearchParams({ msg_signature: wecomSignature(WECOM.token, ts, '1', echostr), timestamp: ts, nonce: '1', echostr });
        await judge(() => wecomGet(req('/wecom/callback', '', {}, q.toString(), 'GET')), x);
      } else {
        const c = encryptedCallback({ token: WECOM.token, encodingAESKey: WECOM.key, corpId, agentId: '1000002', xml: x, timestamp: ts, nonce: '1' });
        await judge(() => wecomPost(req('/wecom/callback', c.body, {}, c.query)), x);
      }
    });
  }, 120_000);

  // SQLite's own check of its file (see above).
  it.skipIf(testDialect() === 'postgres')('leaves a database that passes integrity_check', () => {
    expect(chat.db.sqlite!.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
