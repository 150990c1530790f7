/**
 * Messages without a command word (README "Messages without a command"): a sentence that reads
 * like a record is asked about before anything is stored; `是` goes on, `不是` keeps nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { issues, visits, volunteers } from '../storage/schema.js';
import { oneWhere, rowsWhere } from './db-probe.js';
import { makeEvent } from '../bot/event.js';
import { createLogger } from '../bot/logger.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

describe('a record typed without a command word', () => {
  it('asks whether a visit is meant, shows what it read, and records it on 是', async () => {
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时');
    expect(chat.lastReply).toContain('这是要记录一次走访吗');
    expect(chat.lastReply).toContain('日期 11月19日 下午 · 地点 石门村 · 时长 2小时 · 户数 3');
    expect(chat.lastReply).toContain('/走访');
    expect(await chat.count('visits')).toBe(0);
    await chat.says('u2', '是', { id: 'yes-1' });
    expect(chat.lastReply).toContain('已记录走访 #V1');
    // The answer redelivered makes nothing twice.
    await chat.says('u2', '是', { id: 'yes-1' });
    expect(await chat.count('visits')).toBe(1);
    expect(await oneWhere(chat.db, visits)).toMatchObject({ date: '2026-11-19', place: '石门村', kind: 'household', hours: 2, households: 3, timeOfDay: '下午' });
  });

  it('keeps nothing on 不是, and the next message is read afresh', async () => {
    await chat.says('u2', '今天在县福利院做义工三个小时');
    expect(chat.lastReply).toContain('这是要记录志愿服务吗');
    await chat.says('u2', '不是');
    expect(chat.lastReply).toContain('这条没有记录');
    await chat.says('u2', '3小时');
    expect(chat.lastReply).toContain('请用命令和我对话');
    expect(await chat.count('volunteers')).toBe(0);
  });

  it('asks next for what the sentence lacked once confirmed', async () => {
    await chat.says('u2', '上午在县福利院做志愿服务');
    await chat.says('u2', '好的');
    expect(chat.lastReply).toContain('还差「时长」');
    await chat.says('u2', '两个半小时');
    expect(await oneWhere(chat.db, volunteers)).toMatchObject({ date: '2026-11-20', place: '县福利院', hours: 2.5 });
  });

  it('reads a citizen problem, and another message instead of 是 drops the question', async () => {
    await chat.says('u2', '石门村三组王大爷反映屋顶漏水');
    expect(chat.lastReply).toContain('这是要登记群众反映的问题吗');
    await chat.says('u2', '/走访 昨天 红星村 入户 1天');
    expect(chat.lastReply).toContain('已记录走访');
    await chat.says('u2', '是');
    expect(chat.lastReply).toContain('请用命令和我对话');
    expect(await chat.count('issues')).toBe(0);
    await chat.says('u2', '石门村三组王大爷反映屋顶漏水');
    await chat.says('u2', '是');
    await chat.says('u2', '月底前');
    expect(await oneWhere(chat.db, issues)).toMatchObject({ deadline: '2026-11-30' });
  });

  it('in a group, asks after an @-mention and takes the answer only as an @-mention or a reply', async () => {
    await chat.says('u2', '@民情 昨天去红星村入户走访2小时', { group: true });
    expect(chat.lastReply).toContain('这是要记录一次走访吗');
    expect(chat.lastReply).toContain('请 @我 或引用这条消息回复');
    await chat.says('u2', '是', { group: true });
    expect(await chat.count('visits')).toBe(0);
    await chat.says('u2', '@民情 是', { group: true });
    expect(await oneWhere(chat.db, visits)).toMatchObject({ place: '红星村', hours: 2, kind: 'household' });
  });

  it('does not take a question to the bot, or a message that could be two records, as one', async () => {
    await chat.says('u2', '我这个月走访了几次');
    expect(chat.lastReply).toContain('请用命令和我对话');
    await chat.says('u2', '走访怎么填？');
    expect(chat.lastReply).toContain('/走访 [日期] 地点');
    await chat.says('u2', '昨天入户时群众反映路灯坏了');
    expect(chat.lastReply).toContain('/走访 还是 /民情');
    expect(await chat.count('drafts')).toBe(0);
  });

  it('takes a leading command word without a slash in a direct chat, but not while a question is open', async () => {
    await chat.says('u2', '走访 昨天 石门村 入户 1天');
    expect(chat.lastReply).toContain('已记录走访 #V1');
    await chat.says('u2', '/民情 石门村 路灯坏了');
    expect(chat.lastReply).toContain('还差「时限」');
    // `问题` is also a command name: here it answers the open question, and is not understood as a deadline.
    await chat.says('u2', '问题是三组的路灯');
    expect(chat.lastReply).toContain('没看懂');
    expect(await chat.count('issues')).toBe(0);
  });
});

describe('what the review of the first version found', () => {
  it('does not take a word that only starts with a command name as that command', async () => {
    const households = await chat.count('households');
    await chat.says('u2', '问题是王大爷家路灯坏了，月底前修好');
    expect(chat.lastReply).not.toContain('已登记问题');
    await chat.says('u2', '联系户王大爷家今天去看了');
    expect(chat.lastReply).not.toContain('已登记');
    await chat.says('u2', '解决了，谢谢');
    expect(await chat.count('issues')).toBe(0);
    expect(await chat.count('households')).toBe(households);
  });

  it('keeps the question over a redelivery of the message that asked it', async () => {
    await chat.says('u2', '昨天去红星村走访了三户 两小时', { id: 'd1a' });
    await chat.says('u2', '昨天去红星村走访了三户 两小时', { id: 'd1a' });
    expect(chat.lastReply).toContain('这是要记录一次走访吗');
    await chat.says('u2', '是', { id: 'd1b' });
    expect(chat.lastReply).toContain('已记录走访 #V1');
  });

  it('keeps the question over a photo with a caption, and drops it behind another command', async () => {
    await chat.says('u2', '昨天去红星村走访了三户 两小时');
    await chat.app.handle(makeEvent({ platform: 'console', chatId: 'u2', direct: true, senderId: 'u2', at: new Date(chat.at), text: '现场照片', attachments: [{ kind: 'image', key: 'k1' }] }, createLogger('silent')));
    await chat.says('u2', '是的，谢谢');
    expect(chat.lastReply).toContain('已记录走访 #V1');
    await chat.says('u2', '昨天去红星村走访了三户 两小时');
    await chat.says('u2', '/我的');
    await chat.says('u2', '好的');
    expect(await chat.count('visits')).toBe(1);
  });

  it('makes one record from two answers to one question', async () => {
    await chat.says('u2', '/走访 昨天 入户 2小时');
    await Promise.all([chat.says('u2', '红星村', { id: 'x1' }), chat.says('u2', '红星村', { id: 'x2' })]);
    expect(await chat.count('visits')).toBe(1);
  });

  it('says nothing was recorded when the question is dropped by another message, and takes a content question as content', async () => {
    await chat.says('u2', '昨天去红星村走访了三户 两小时');
    await chat.says('u2', '今天天气不错');
    expect(chat.lastReply).toContain('这条没有记录');
    await chat.says('u2', '走访 昨天 东关社区 宣讲 2小时 讲解如何防范电信诈骗');
    expect(chat.lastReply).toContain('已记录走访');
  });

  it('in a group, a reply to someone else leaves the question open', async () => {
    await chat.says('u2', '@民情 昨天去红星村走访了三户 两小时', { group: true });
    await chat.says('u2', '大家辛苦了', { group: true, replyTo: 'other-message' });
    await chat.says('u2', '@民情 是', { group: true });
    expect(await chat.count('visits')).toBe(1);
  });
});

describe('what the second review found', () => {
  it('takes only a plain yes as yes: a correction or a refusal after it is read as what it says', async () => {
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时');
    await chat.says('u2', '好的，先不要记');
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时');
    await chat.says('u2', '对，地点是红星村');
    expect(await chat.count('visits')).toBe(0);
    await chat.says('u2', '/走访 昨天 2小时 入户 看望王大爷，他儿子在石门村上班');
    expect(chat.lastReply).toContain('地点是「石门村」吗');
    await chat.says('u2', '是，不过走访的是红星村');
    expect(await oneWhere(chat.db, visits)).toMatchObject({ place: '红星村' });
  });

  it('drops the question behind a command that is refused, and in a group a 好的 to someone else confirms nothing', async () => {
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时');
    await chat.says('u2', '/走访 明天 红星村 2小时 入户');
    await chat.says('u2', '好的');
    await chat.says('u2', '@民情 昨天下午去石门村走访了三户，用时两个小时', { group: true });
    await chat.says('u2', '好的', { group: true, replyTo: 'a-message-of-u3' });
    expect(await chat.count('visits')).toBe(0);
  });

  it('takes 算了 as giving the question up, not as the place', async () => {
    await chat.says('u2', '/走访 昨天 入户 2小时');
    await chat.says('u2', '算了');
    expect(chat.lastReply).toContain('已取消');
    await chat.says('u2', '红星村');
    expect(await chat.count('visits')).toBe(0);
  });
});

describe('what the third review found', () => {
  it('confirms with a yes and a common tail, gives up only on a whole 算了, and takes a place of several words', async () => {
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时');
    await chat.says('u2', '是的，没错');
    await chat.says('u2', '/走访 昨天 红星村 入户');
    await chat.says('u2', '算了一下，大概三个小时');
    await chat.says('u2', '/走访 昨天 入户 2小时');
    await chat.says('u2', '村口 老槐树下');
    await chat.says('u2', '/走访 昨天 入户 1小时');
    await chat.says('u2', '后山果园。');
    expect((await rowsWhere(chat.db, visits, {}, 'id')).map((v) => [v.place, v.hours])).toEqual([
      ['石门村', 2], ['红星村', 3], ['村口 老槐树下', 2], ['后山果园', 1],
    ]);
  });

  it('keeps the question over a redelivered earlier command, and re-asks a place answer that only mentions one', async () => {
    await chat.says('u2', '/我的', { id: 'm-mine' });
    await chat.says('u2', '昨天下午去石门村走访了三户，用时两个小时', { id: 'm-visit' });
    await chat.says('u2', '/我的', { id: 'm-mine' });
    await chat.says('u2', '是', { id: 'm-yes' });
    expect(await chat.count('visits')).toBe(1);
    await chat.says('u2', '/走访 昨天 入户 2小时');
    await chat.says('u2', '去他家里了，他儿子在县医院当护士');
    expect(chat.lastReply).toContain('没看懂');
    expect(await chat.count('visits')).toBe(1);
  });
});

describe('what the fourth review found', () => {
  it('takes no sentence about the cadre or a yes as a place, and gives up on 算了 with a closing phrase', async () => {
    await chat.says('u2', '/走访 昨天 入户 2小时');
    for (const answer of ['稍等 我查一下', '我看看。', '好的']) {
      await chat.says('u2', answer);
      expect(chat.lastReply).toContain('没看懂');
    }
    await chat.says('u2', '算了 明天再说');
    expect(chat.lastReply).toContain('已取消');
    expect(await chat.count('visits')).toBe(0);
  });
});

describe('keyed time fields', () => {
  it('reads 时间：昨天 14:00-17:30 as the date and the duration', async () => {
    await chat.says('u2', '/走访\n时间：昨天 14:00-17:30\n地点：石门村\n方式：入户');
    expect(await oneWhere(chat.db, visits)).toMatchObject({ date: '2026-11-19', hours: 3.5, kind: 'household' });
  });

  it('reads 日期 and 时间 together, and asks when they name two days', async () => {
    await chat.says('u2', '/走访\n日期：昨天\n时间：14:00-17:30\n地点：石门村\n走访形式：入户');
    expect(await oneWhere(chat.db, visits)).toMatchObject({ date: '2026-11-19', hours: 3.5 });
    await chat.says('u2', '/走访\n日期：前天\n时间：下午\n地点：红星村\n时长：2小时');
    expect(chat.lastReply).toContain('11月18日（前天）下午');
    await chat.says('u2', '/走访\n日期：昨天\n时间：前天\n地点：红星村\n时长：2小时');
    expect(chat.lastReply).toContain('不知道哪个是日期');
    expect(await chat.count('visits')).toBe(2);
  });

  it('does not ask about one kind written two ways across a question and its answer', async () => {
    await chat.says('u2', '/走访 石门村 入户');
    await chat.says('u2', '昨天下午两点到五点半入户走访');
    expect(chat.lastReply).toContain('已记录走访');
    expect(await oneWhere(chat.db, visits)).toMatchObject({ date: '2026-11-19', hours: 3.5, kind: 'household' });
  });
});
