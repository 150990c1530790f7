import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { testConfig } from '../bot/config.js';
import { makeEvent } from '../bot/event.js';
import { createLogger } from '../bot/logger.js';
import { openApp, type App } from '../scripts/app.js';
import { visits } from '../storage/schema.js';
import { NOT_NULL, oneWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

/**
 * The bot started again over the chat's database (a process of its own would open it the same
 * way): a fresh app with a database handle of its own, and how to talk to it in a direct chat.
 */
async function restarted(c: Chat) {
  const app: App = await openApp(testConfig({ MINQING_DB: c.target }), { log: createLogger('silent') });
  let last = '';
  return {
    async says(user: string, text: string, o: { at?: string } = {}): Promise<void> {
      const replies = await app.handle(makeEvent({
        platform: 'console', chatId: user, direct: true, senderId: user, at: new Date(o.at ?? c.at), text,
      }, createLogger('silent')));
      last = ([...replies].reverse().find((r) => r.to === 'chat') ?? replies.at(-1))?.text ?? '';
    },
    get lastReply(): string { return last; },
    count: c.count.bind(c),
    close: () => app.close(),
  };
}

describe('/走访', () => {
  it('records a visit from the example of the spec', async () => {
    await chat.says('u2', '/走访 昨天 石门村 入户 1天 走访困难户3户，了解就医难');
    expect(chat.lastReply).toContain('已记录走访 #V1');
    expect(chat.lastReply).toContain('日期 11月19日（昨天） · 地点 石门村 · 入户走访 · 1天 · 3户');
    const v = await oneWhere(chat.db, visits);
    expect(v).toMatchObject({ date: '2026-11-19', place: '石门村', kind: 'household', hours: 8, households: 3, status: 'ok', content: '走访困难户3户，了解就医难' });
  });

  it('accepts full-width slash, traditional characters, english alias, key:value and one argument per line', async () => {
    await chat.says('u2', '／走訪 上週五 石門村 駐村 兩天');
    expect(chat.lastReply).toContain('地点 石门村 · 驻村蹲点 · 2天');
    await chat.says('u2', '/visit 地点：东关社区 时长:2小时 类型：宣讲');
    expect(chat.lastReply).toContain('地点 东关社区 · 政策宣讲 · 2小时');
    await chat.says('u2', '/走访\n日期：11月18日\n地点：石门村 三组\n时长：半天\n内容：了解春耕 准备');
    expect(chat.lastReply).toContain('日期 11月18日（前天） · 地点 石门村 三组');
    expect(await chat.count('visits')).toBe(3);
  });

  it('answers @-mention plus command in a group', async () => {
    await chat.says('u2', '@民情 走访 今天 石门村 1天', { group: true });
    expect(chat.lastReply).toContain('已记录走访');
  });

  it('refuses a future date and says the expected form', async () => {
    await chat.says('u2', '/走访 明天 石门村 1天');
    expect(chat.lastReply).toContain('不能填报未来');
    expect(await chat.count('visits')).toBe(0);
  });

  it('asks for the missing argument, keeps a draft, and the answer completes it once', async () => {
    await chat.says('u2', '/走访 昨天 石门村', { id: 'q1' });
    expect(chat.lastReply).toContain('还差「时长」');
    expect(chat.lastReply).toContain('已识别：日期 11月19日 · 地点 石门村');
    expect(await chat.count('visits')).toBe(0);
    await chat.says('u2', '两个半小时', { id: 'a1' });
    expect(chat.lastReply).toContain('已记录走访 #V1：日期 11月19日（昨天） · 地点 石门村 · 到村/社区（按内容推断） · 2.5小时');
    await chat.says('u2', '两个半小时', { id: 'a1' });
    expect(await chat.count('visits')).toBe(0 + 1);
    expect(await chat.count('drafts')).toBe(0);
  });

  it('in a group, takes the answer only with an @-mention or a reply, and /取消 drops the draft', async () => {
    await chat.says('u2', '/走访 昨天 入户 2小时', { group: true });
    expect(chat.lastReply).toContain('还差「地点」');
    expect(chat.lastReply).toContain('请 @我 或引用这条消息回复');
    expect(await chat.says('u2', '石门村', { group: true })).toEqual([]);
    await chat.says('u2', '@民情 石门村', { group: true });
    expect(chat.lastReply).toContain('地点 石门村');
    await chat.says('u2', '/走访 昨天 入户 2小时', { group: true });
    await chat.says('u2', '/取消', { group: true });
    expect(chat.lastReply).toContain('已取消');
    await chat.says('u2', '红星村', { group: true, replyTo: 'm-question' });
    expect(await chat.count('visits')).toBe(1);
  });

  it('keeps the draft across a restart and lets it expire after 30 minutes', async () => {
    await chat.says('u2', '/走访 昨天 石门村');
    const reopened = await restarted(chat);
    try {
      await reopened.says('u2', '3小时', { at: '2026-11-20T09:50:00+08:00' });
      expect(reopened.lastReply).toContain('3小时');
      await reopened.says('u2', '/走访 昨天 红星村');
      await reopened.says('u2', '3小时', { at: '2026-11-20T10:31:00+08:00' });
      expect(reopened.lastReply).toContain('请用命令和我对话');
      expect(await reopened.count('visits')).toBe(1);
    } finally {
      await reopened.close();
    }
  });

  it('corrects a record field by field with /修改, with an audit row, only within the window', async () => {
    await chat.says('u2', '/走访 昨天 石门村 入户 1天');
    await chat.says('u2', '/修改 #V1 日期：前天 时长改为3小时');
    expect(chat.lastReply).toContain('已修改 #V1：日期 11月18日（前天） · 时长 3小时');
    expect(await chat.count('recordEdits')).toBe(2);
    await chat.says('u3', '/修改 #V1 地点：红星村');
    expect(chat.lastReply).toContain('不是您填报的记录');
    await chat.says('u2', '/修改 #V1 地点：红星村', { at: '2026-11-20T09:41:00+08:00' });
    expect(chat.lastReply).toContain('已超过10分钟');
    expect(await chat.count('recordEdits')).toBe(2);
  });

  it('keeps an old date as backdated, awaiting /核查', async () => {
    await chat.says('u2', '/走访 11月1日 石门村 1天');
    expect(chat.lastReply).toContain('补报');
    const v = (await oneWhere(chat.db, visits))!;
    expect({ status: v.status, backdated: v.backdated }).toEqual({ status: 'pending', backdated: true });
    await chat.says('u3', '/核查 #V1 通过');
    expect(chat.lastReply).toContain('只有该记录所在单位的领导');
    await chat.says('u1', '/核查 #V1 通过');
    expect(chat.lastReply).toContain('已核查通过 #V1');
    expect({ status: (await oneWhere(chat.db, visits))!.status }).toEqual({ status: 'verified' });
  });

  it('makes one record for a message delivered twice', async () => {
    await chat.says('u2', '/走访 昨天 石门村 1天', { id: 'm1' });
    const first = chat.lastReply;
    await chat.says('u2', '/走访 昨天 石门村 1天', { id: 'm1' });
    expect(chat.lastReply).toBe(first);
    expect(await chat.count('visits')).toBe(1);
  });
});

describe('/撤销', () => {
  it('voids my last record within 10 minutes, and not after', async () => {
    await chat.says('u2', '/志愿 3小时 县福利院 义工日');
    expect(chat.lastReply).toContain('已记录志愿服务 #Z1');
    await chat.says('u2', '/撤销', { at: '2026-11-20T09:35:00+08:00' });
    expect(chat.lastReply).toContain('已撤销志愿记录 #Z1');
    expect(await chat.count('volunteers', { voidedAt: NOT_NULL })).toBe(1);
    await chat.says('u2', '/走访 今天 石门村 1天');
    await chat.says('u2', '/撤销', { at: '2026-11-20T09:45:00+08:00' });
    expect(chat.lastReply).toContain('没有可撤销的记录');
  });
});

describe('the core', () => {
  it('tells unknown users how to bind', async () => {
    await chat.says('stranger', '/走访 今天 石门村 1天');
    expect(chat.lastReply).toContain('/绑定 姓名 手机号');
  });

  it('suggests the closest command', async () => {
    await chat.says('u2', '/走坊 今天');
    expect(chat.lastReply).toContain('/走访');
  });

  it('refuses a huge message and says the limit', async () => {
    await chat.says('u2', '/走访 ' + '很'.repeat(5000));
    expect(chat.lastReply).toContain('最多2000字');
  });

  it('stays silent on group chatter but answers in a direct chat', async () => {
    expect(await chat.says('u2', '大家好', { group: true })).toEqual([]);
    await chat.says('u2', '你好');
    expect(chat.lastReply).toContain('/帮助');
  });

  it('masks phone numbers in group replies', async () => {
    await chat.says('u2', '/走访 今天 石门村 1天 联系人电话13912345678', { group: true });
    await chat.says('u2', '/帮助 走访', { group: true });
    expect(chat.lastReply).toContain('/走访 [日期] 地点');
    expect(chat.lastReply).not.toMatch(/1391234/);
  });
});
