/**
 * Property-based fuzzing (issue 7 item 1): well over 100,000 generated messages thrown at the
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
import { Chat } from './chat.js';
import { capturedLogger, cardForm, cardValues, commandText, jsonWithKeys, messageText, registry, token } from './fuzz-arbitraries.js';
import { collectArgs, findCommand, splitCommand, validateArgs } from '../bot/parse.js';
import { isUserError } from '../bot/errors.js';
import { makeEvent } from '../bot/event.js';
import { T as CORE } from '../bot/texts.js';
import { normalize } from '../bot/normalize.js';
import { decodeLine } from '../bot/adapters/console/jsonl.js';
import { decodeCardAction, decodeMessage, resolveMentions } from '../bot/adapters/feishu/decode.js';
import { decodeCardCallback, decodeRobotMessage } from '../bot/adapters/dingtalk/decode.js';
import { decryptWecom, encryptWecom, xmlField } from '../bot/adapters/wecom/crypto.js';

const NOW = new Date('2026-11-20T09:30:00+08:00');
const TZ = 'Asia/Shanghai';

/** Counts what each property generated, to show the total at the end. */
const generated: Record<string, number> = {};
const run = <T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, seed: number, check: (v: T) => void) => {
  fc.assert(fc.property(arb, (v) => { generated[name] = (generated[name] ?? 0) + 1; check(v); }), { numRuns, seed });
};
const runAsync = async <T>(name: string, arb: fc.Arbitrary<T>, numRuns: number, seed: number, check: (v: T) => Promise<void>) => {
  await fc.assert(fc.asyncProperty(arb, async (v) => { generated[name] = (generated[name] ?? 0) + 1; await check(v); }), { numRuns, seed });
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
    validateArgs(c, collectArgs(c, split.body), NOW, TZ);
    return 'ok';
  } catch (e) {
    if (!isUserError(e)) throw e;
    expect(e.message.trim().length).toBeGreaterThan(0);
    return 'refused';
  }
}

describe('parser', () => {
  it('splitCommand, findCommand, collectArgs and validateArgs throw nothing but UserErrors', () => {
    run('parser', fc.tuple(messageText, fc.boolean()), 30_000, 7001, ([text, mention]) => { parseOnly(text, mention); });
  }, 120_000);

  it('every real command word with mangled arguments parses or is refused with a reason', () => {
    const words = fc.constantFrom(...registry.commands.flatMap((c) => [c.name, ...c.aliases]));
    run('parser-commands', commandText(words, ['/', '／', '/ ', '／　']), 15_000, 7002, (text) => {
      expect(['ok', 'refused']).toContain(parseOnly(text, false));
    });
  }, 120_000);

  it('normalize is total', () => {
    run('normalize', fc.oneof(token, fc.string({ unit: 'binary', maxLength: 64 })), 5_000, 7003, (s) => {
      expect(typeof normalize(s)).toBe('string');
    });
  });
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
      if ('error' in d) expect(d.error).toMatch(/[\u4e00-\u9fff]/);
      else { expect(typeof d.event.text).toBe('string'); expect(Number.isNaN(d.event.at.getTime())).toBe(false); }
    });
  });

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
    run('feishu-message', fc.oneof(plausible, jsonWithKeys(feishuKeys, 4)), 8_000, 7201, (flat) => {
      const e = decodeMessage(flat as never, opts);
      if (e) { expect(typeof e.text).toBe('string'); expect(typeof e.messageId).toBe('string'); expect(Number.isNaN(e.at.getTime())).toBe(false); }
    });
    run('feishu-mentions', fc.tuple(messageText, jsonWithKeys(['key', 'id', 'name', 'open_id'], 3)), 3_000, 7202, ([text, raw]) => {
      expect(typeof resolveMentions(text, raw as never, opts).text).toBe('string');
    });
    const action = fc.record({
      event_id: fc.string(), operator: fc.oneof(fc.constant({ open_id: 'ou_u1' }), jsonWithKeys(['open_id', 'name'], 2)),
      action: jsonWithKeys(['value', 'form_value', 'minqing', 'form', 'command', 'direct', 'tag'], 3),
      context: fc.oneof(fc.constant({ open_message_id: 'om_1', open_chat_id: 'oc_1' }), jsonWithKeys(['open_message_id', 'open_chat_id'], 2)),
    }, { requiredKeys: [] });
    const value = fc.record({ minqing: fc.constantFrom('open', 'submit', 'command', 'x'), form: cardForm, command: messageText, direct: fc.jsonValue() }, { requiredKeys: [] });
    const submit = fc.tuple(value, cardValues, fc.boolean()).map(([v, fv, asString]) => ({ operator: { open_id: 'ou_u1' }, context: { open_message_id: 'om_1', open_chat_id: 'oc_1' }, action: { value: asString ? JSON.stringify(v) : v, form_value: fv } }));
    run('feishu-card', fc.oneof(action, submit), 5_000, 7203, (flat) => {
      const d = decodeCardAction(flat as never, { ...opts, isDirectChat: () => false });
      expect(['open', 'event', 'ignored']).toContain(d.kind);
    });
  });

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
    run('dingtalk-message', fc.oneof(plausible, jsonWithKeys(dingKeys, 4)), 8_000, 7301, (m) => {
      const e = decodeRobotMessage(m as never, opts);
      if (e) { expect(typeof e.text).toBe('string'); expect(typeof e.messageId).toBe('string'); expect(Number.isNaN(e.at.getTime())).toBe(false); }
    });
    const privateData = fc.record({ cardPrivateData: fc.record({ actionIds: fc.oneof(fc.array(fc.oneof(fc.constantFrom('mq_form_visit', 'mq_form_'), fc.jsonValue())), fc.jsonValue()), params: fc.oneof(fc.tuple(cardForm, cardValues).map(([form, v]) => (v && typeof v === 'object' ? { ...v, form } : v)), fc.jsonValue()) }, { requiredKeys: [] }) }, { requiredKeys: [] });
    const callback = fc.record({
      outTrackId: fc.oneof(fc.constant('track1'), fc.jsonValue()), userId: fc.oneof(fc.constant('u1staff'), fc.jsonValue()),
      spaceType: fc.constantFrom('IM_GROUP', 'IM_ROBOT', 'x'), spaceId: fc.oneof(fc.constant('cid1'), fc.jsonValue()),
      value: fc.oneof(privateData.map((v) => JSON.stringify(v)), fc.json(), fc.string(), fc.jsonValue()),
    }, { requiredKeys: [] });
    run('dingtalk-card', fc.oneof(callback, jsonWithKeys(['outTrackId', 'userId', 'value', 'content', 'spaceType', 'spaceId'], 3)), 5_000, 7302, (d) => {
      expect(['open', 'event', 'ignored']).toContain(decodeCardCallback(d as never, opts).kind);
    });
  });

  it('WeCom: XML fields and damaged ciphertexts are read or refused, never crash the process', () => {
    const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
    run('wecom-xml', fc.tuple(fc.oneof(messageText, fc.string({ unit: 'binary', maxLength: 300 })), fc.constantFrom('Encrypt', 'MsgType', 'Content', 'MsgId', 'FromUserName', 'CreateTime')), 2_000, 7401, ([xml, tag]) => {
      const v = xmlField(xml, tag);
      expect(v === undefined || typeof v === 'string').toBe(true);
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
      try { decryptWecom(KEY, enc); } catch (e) { expect(e).toBeInstanceOf(Error); }
    });
  });
});

describe('router (handleEvent on a real database)', () => {
  let chat: Chat;
  const cap = capturedLogger('warn');
  let seq = 0;

  beforeAll(async () => {
    chat = Chat.demo();
    // Some state to aim at: a mapped group, visits and issues #1–#4 in different states.
    await chat.says('u1', '/单位 石门镇', { group: 'g1' });
    await chat.says('u2', '/走访 昨天 石门村 入户 1天 走访困难户3户');
    for (let i = 0; i < 4; i++) await chat.says('u2', `/民情 石门村 问题${i} 责任人:@李四 时限:12月31日 群众电话1381234567${i}`);
    await chat.says('u3', '/进展 #2 已联系');
    await chat.says('u3', '/办结 #3 已修复，已电话告知群众');
  });
  afterAll(() => chat.close());

  interface Msg { user: string; group: string | null; mention: boolean; text?: string; card?: { form: string; values: unknown }; at: Date; again: boolean }
  const when = fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2028-12-31T00:00:00Z'), noInvalidDate: true });
  const who = fc.constantFrom('u1', 'u2', 'u3', 'u2', 'u3', 'stranger');
  const where = fc.constantFrom(null, null, 'g1', 'g2');
  // Charts and spreadsheets cost tens of milliseconds each: kept rare here, fully covered by the parser property.
  const cheapText = messageText.filter((t) => !/^\s*[\/／]\s*(图表|chart|导出|export)/i.test(t) || t.length % 20 === 0);

  async function send(m: Msg, log: Logger) {
    const event = makeEvent({
      platform: 'console', chatId: m.group ?? m.user, direct: !m.group, senderId: m.user, messageId: `f${++seq}`,
      at: m.at, text: m.text ?? '', mentionsBot: m.mention,
      card: m.card ? { form: m.card.form, values: m.card.values as Record<string, unknown> } : undefined,
    }, log);
    const replies = await chat.app.handle(event);
    const addressed = event.direct || event.mentionsBot || !!m.card;
    if (addressed) expect(replies.length).toBeGreaterThan(0);
    for (const r of replies) {
      expect(typeof r.text).toBe('string');
      expect(r.text).not.toBe(CORE.fault);
    }
    if (m.again) expect(await chat.app.handle(event)).toEqual(replies);
    expect(cap.errors()).toEqual([]);
  }

  it('answers every addressed text message, and never with a fault', async () => {
    const msg = fc.record({ user: who, group: where, mention: fc.boolean(), text: cheapText, at: when, again: fc.boolean() });
    await runAsync('router-text', msg, 12_000, 7501, (m) => send(m, cap.log));
  }, 180_000);

  it('answers every card submission, whatever its form name and values', async () => {
    const msg = fc.record({ user: who, group: where, mention: fc.constant(false), card: fc.record({ form: cardForm, values: cardValues }), at: when, again: fc.boolean() });
    await runAsync('router-card', msg, 4_000, 7502, (m) => send(m, cap.log));
  }, 120_000);

  it('leaves a database that passes integrity_check, with every issue in the state of its last audit row', () => {
    const c = chat.db.$client;
    expect(c.pragma('integrity_check', { simple: true })).toBe('ok');
    const mismatched = c.prepare(`SELECT i.id, i.state, e.to_state FROM issues i
      JOIN issue_events e ON e.id = (SELECT max(id) FROM issue_events WHERE issue_id = i.id)
      WHERE e.to_state IS NOT i.state`).all();
    expect(mismatched).toEqual([]);
    expect(c.prepare(`SELECT count(*) FROM issues i WHERE NOT EXISTS
      (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id AND e.action = 'register')`).pluck().get()).toBe(0);
    expect(chat.count('visits') + chat.count('issues')).toBeGreaterThan(5);
  });
});
