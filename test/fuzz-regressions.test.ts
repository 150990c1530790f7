/**
 * Inputs the fuzz suite (test/fuzz.test.ts) found to break something, kept as plain cases so
 * they stay fixed whatever the generators become. Each names the property and seed that found it.
 */
import { describe, expect, it } from 'vitest';
import type { DWClientDownStream } from 'dingtalk-stream';
import { Chat } from './chat.js';
import { capturedLogger } from './fuzz-arbitraries.js';
import { T as CORE } from '../bot/texts.js';
import { decodeCardAction, decodeMessage } from '../bot/adapters/feishu/decode.js';
import { decodeCardCallback, decodeRobotMessage } from '../bot/adapters/dingtalk/decode.js';
import { createDingtalkAdapter, dingtalkSign } from '../bot/adapters/dingtalk/index.js';
import { bindAccount, cadreByPhone } from '../storage/identity.js';

const NOW = Date.parse('2026-11-20T09:30:00+08:00');
const { log } = capturedLogger('silent');
const opts = { botOpenId: 'ou_bot', botName: '民情', log, now: () => NOW };
const sender = { sender_id: { open_id: 'ou_u1' }, sender_type: 'user' };

describe('Feishu decoding (property feishu-message, seed 7201)', () => {
  it('ignores a message whose ids are not strings instead of passing objects on as ids', () => {
    expect(decodeMessage({ sender, message: { message_id: [] as never, chat_id: {} as never } }, opts)).toBeNull();
  });

  it('reads a post whose paragraphs or mentions are not lists', () => {
    const e = decodeMessage({ sender, message: { message_id: 'om_1', chat_id: 'oc_1', message_type: 'post', content: JSON.stringify({ title: '标题', content: [5, [{ tag: 'text', text: '/我的' }]] }), mentions: { key: 1 } as never } }, opts);
    expect(e?.text).toBe('/我的');
    const m = decodeMessage({ sender, message: { message_id: 'om_2', chat_id: 'oc_1', content: '{"text":"@_user_1 /我的"}', mentions: [{ key: 7 as never, name: '民情' }, { key: '@_user_1', id: { open_id: 'ou_bot' } }] } }, opts);
    expect(m?.mentionsBot).toBe(true);
  });

  it('falls back to the clock for a create_time beyond what a Date holds', () => {
    expect(decodeMessage({ sender, message: { message_id: 'om_3', chat_id: 'oc_1', content: '{"text":"/我的"}', create_time: '1e20' } }, opts)!.at.getTime()).toBe(NOW);
  });

  it('ignores a card callback whose operator is not a string', () => {
    expect(decodeCardAction({ operator: { open_id: 5 as never }, context: { open_message_id: 'om', open_chat_id: 'oc' } }, { ...opts, isDirectChat: () => false }).kind).toBe('ignored');
  });
});

describe('DingTalk decoding (properties dingtalk-message 7301, dingtalk-card 7302)', () => {
  const base = { msgId: 'msg1', conversationId: 'cid1', senderStaffId: 'u1staff', conversationType: '2' };

  it('ignores null and decodes malformed fields as absent', () => {
    expect(decodeRobotMessage(null as never, opts)).toBeNull();
    const e = decodeRobotMessage({ ...base, msgtype: 'text', text: { content: 5 as never }, atUsers: {} as never, createAt: 1e20 }, opts)!;
    expect([e.text, e.mentions, e.at.getTime()]).toEqual(['', [], NOW]);
    expect(decodeRobotMessage({ ...base, msgtype: 'richText', content: { richText: { text: 'x' } } }, opts)!.text).toBe('');
    expect(decodeRobotMessage({ ...base, msgId: 7 as never, msgtype: 'text' }, opts)).toBeNull();
  });

  it('ignores a card callback whose value is JSON null or whose action id is not a string', () => {
    expect(decodeCardCallback({ userId: 'u1staff', outTrackId: 't', value: 'null' }, opts).kind).toBe('ignored');
    expect(decodeCardCallback({ userId: 'u1staff', outTrackId: 't', value: JSON.stringify({ cardPrivateData: { actionIds: [5], params: 'x' } }) }, opts).kind).toBe('ignored');
  });

  it('answers a signed callback with a non-string session webhook, and a Stream frame that fails is still acknowledged', async () => {
    const chat = await Chat.demo();
    await bindAccount(chat.db, 'dingtalk', 'u1staff', (await cadreByPhone(chat.db, '13800000001'))!.id, NOW);
    const cap = capturedLogger('info');
    const sent: string[] = [];
    const dt = createDingtalkAdapter({ clientId: 'd', clientSecret: 's', botName: '民情', now: () => NOW, ackWithinMs: 20_000 },
      { handle: chat.app.handle, log: cap.log, send: async (r) => { sent.push(r.text); } });
    try {
      const res = await dt.handleCallback({
        method: 'POST', path: '/dingtalk/robot', query: new URLSearchParams(), remote: '127.0.0.1',
        headers: { timestamp: String(NOW), sign: dingtalkSign(String(NOW), 's') },
        body: Buffer.from(JSON.stringify({ ...base, conversationType: '1', msgtype: 'text', text: { content: '/我的' }, sessionWebhook: 5, sessionWebhookExpiredTime: 'x' })),
      });
      expect(res.status).toBe(200);
      expect(sent[0]).toContain('王强');
      const acks: string[] = [];
      const frame = { specVersion: '1.0', type: 'CALLBACK', data: JSON.stringify({ ...base, msgId: 'msg2', msgtype: 'text', text: { content: '/我的' }, sessionWebhook: { x: 1 } }), headers: { messageId: 'f1', topic: '/v1.0/im/bot/messages/get' } } as unknown as DWClientDownStream;
      await dt.onRobotMessage(frame, (id) => { acks.push(id); });
      expect(acks).toEqual(['f1']);
      expect(cap.errors()).toEqual([]);
      await dt.idle();
    } finally {
      await chat.close();
    }
  });
});

describe('issue deadlines (property http-feishu, seed 8602 = 7602 with MINQING_FUZZ_SEED=1000)', () => {
  it('refuses a deadline years away, so extending it can never leave the calendar', async () => {
    const chat = await Chat.demo();
    try {
      await chat.says('u1', '/民情 石门村 道路破损 时限:9999-12-31');
      expect(chat.lastReply).toContain('太远：最晚可定在 2029年11月19日');
      expect(chat.lastReply).toContain('例如 时限:12月31日');
      expect(await chat.count('issues')).toBe(0);
      await chat.says('u1', '/民情 石门村 道路破损 时限:12月31日');
      await chat.says('u1', '/延期 #1 9999-12-31 资金');
      expect(chat.lastReply).toContain('太远');
      expect(chat.lastReply).toContain('/延期 #1 30天 理由');
      await chat.says('u1', '/延期 #1 30天 资金下月到位');
      expect(chat.lastReply).toContain('已延期 #1：2026年12月31日 → 2027年1月30日');
      expect(chat.lastReply).not.toBe(CORE.fault);
    } finally {
      await chat.close();
    }
  });
});

describe('log lines (property http-dingtalk, seed 7603)', () => {
  it('a phone-like number anywhere in a logged value is masked and the line stays JSON', () => {
    const cap = capturedLogger('info');
    cap.log.warn({ msgId: { '': [13000000000] }, n: 13912345678, s: 'x":13912345678,', deep: { a: { b: { c: { d: '+86 139 1234 5678' } } } } }, 'robot message without id');
    expect(cap.lines).toHaveLength(1);
    expect(JSON.parse(cap.lines[0])).toMatchObject({ msgId: { '': ['130****0000'] }, n: '139****5678', s: 'x":139****5678,', deep: { a: { b: { c: { d: '+86 139****5678' } } } } });
  });
});
