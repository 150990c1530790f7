/**
 * The readers of bot/spans.ts on their own, table-driven, and the spellings that must meet
 * (traditional unit and place names stored and found simplified).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findDates, findDeadlines, findDurations, findHouseholds, findIssueRefs } from '../bot/spans.js';
import { normalizeText } from '../bot/normalize.js';
import { Chat } from './chat.js';
import { rowsWhere } from './db-probe.js';
import { visits } from '../storage/schema.js';

const TODAY = '2026-11-20'; // a Friday
const first = (found: Array<{ raw: string }>) => found.map((f) => f.raw);

describe('durations', () => {
  it.each([
    ['用时两个半小时', ['2.5']], ['约3小时', ['3']], ['全天', ['8']], ['2个小时', ['2']], ['9:00-11:30', ['2.5']],
    ['开展宣讲半天', ['4']], ['1天。', ['8']], ['一个半小时', ['1.5']], ['40分钟', ['0.67']], ['下午两点到五点', ['3']],
    ['10点到下午3点', ['5']], ['1.5h', ['1.5']], ['两天', ['16']], ['一上午', ['4']], ['2 小时', ['2']],
  ])('%s', (text, hours) => {
    expect(first(findDurations(normalizeText(text)))).toEqual(expect.arrayContaining(hours));
  });
  it('does not read a date or a deadline as a duration', () => {
    expect(first(findDurations('3天前'))).toEqual([]);
    expect(first(findDurations('30天内'))).toEqual([]);
    // 俩 after a person or a kin word counts people: `兄弟俩天天吵架` is no two days.
    expect(first(findDurations('调解王家兄弟俩天天吵架'))).toEqual([]);
    expect(first(findDurations('他们老俩天天盼儿子回来'))).toEqual([]);
    expect(first(findDurations('俩小时'))).toEqual(['2']);
  });
});

describe('dates', () => {
  it.each([
    ['昨天下午', '2026-11-19 下午'], ['今早', '2026-11-20 上午'], ['周三上午', '2026-11-18 上午'], ['11月19日晚上', '2026-11-19 晚上'],
    ['昨天 下午', '2026-11-19 下午'], ['上周五', '2026-11-13'], ['3天前', '2026-11-17'], ['2026-11-02', '2026-11-02'], ['11.18', '2026-11-18'],
    // Year-less: the occurrence nearest today, never moved to fit — tomorrow stays tomorrow.
    ['11月21日', '2026-11-21'], ['1月5日', '2027-01-05'], ['19号', '2026-11-19'],
  ])('%s', (text, raw) => {
    expect(first(findDates(normalizeText(text), TODAY))).toContain(raw);
  });
});

describe('deadlines', () => {
  it.each([
    ['月底前', '2026-11-30'], ['两周内', '2026-12-04'], ['12月底', '2026-12-31'], ['下周五前', '2026-11-27'], ['延至12月20日', '2026-12-20'],
    ['年底前', '2026-12-31'], ['30天内', '2026-12-20'], ['本周内', '2026-11-22'], ['12月31日前', '2026-12-31'],
    ['明年1月10号', '2027-01-10'], ['今年12月20日前', '2026-12-20'],
  ])('%s', (text, date) => {
    expect(first(findDeadlines(normalizeText(text), TODAY))).toContain(date);
  });
});

describe('households and issue numbers', () => {
  it.each([
    ['走访了三户', 3], ['5家农户', 5], ['困难户2户、低保户3户', 5], ['走访8户，其中低保户3户', 8], ['两家企业', 0],
    ['走了仨家', 3], ['走访了俩困难户', 2], ['看望了3个低保户', 3], ['看望石门村3个困难户', 3], ['对3个低保户进行了走访', 3],
    ['走访3个低保户和2个五保户', 5],
    // How many people, or the village described: no visited households.
    ['看望王大娘娘俩家', 0], ['他们哥俩家', 0], ['全村有30个低保户', 0], ['村里还有5个留守户没走到', 0], ['去年评为2个低保户之一', 0],
  ])('%s', (text, n) => {
    expect(findHouseholds(normalizeText(text)).reduce((a, f) => a + Number(f.raw), 0)).toBe(n);
  });
  it.each([['#12，', '12'], ['＃１４', '14'], ['12号问题', '12'], ['三号问题', '3'], ['#28号', '28']])('%s', (text, id) => {
    expect(first(findIssueRefs(normalizeText(text)))).toContain(id);
  });
});

describe('normalizeText keeps positions and place-name characters', () => {
  it.each([
    ['乾县石门村', '乾县石门村'], ['去乾县開會', '去乾县开会'],
    // A character outside the BMP (two UTF-16 units) before 乾 must not move it onto its neighbour.
    ['𠮷乾县', '𠮷乾县'], ['😀 乾村入戶', '😀 乾村入户'],
  ])('%s', (text, want) => {
    const out = normalizeText(text);
    expect(out).toBe(want);
    expect(out.length).toBe(text.length);
  });
});

describe('one spelling for places and units', () => {
  let chat: Chat;
  beforeEach(async () => { chat = await Chat.demo(); });
  afterEach(async () => { await chat.close(); });

  it('stores a traditional place simplified, and finds a traditional unit name', async () => {
    await chat.says('u2', '/走訪 昨天 石門村 入戶 1天');
    expect((await rowsWhere(chat.db, visits)).map((v) => v.place)).toEqual(['石门村']);
    await chat.says('u1', '/統計 本月 石門鎮');
    expect(chat.lastReply).toContain('石门镇 · 2026年11月 统计');
    expect(chat.lastReply).toContain('走访：1 次');
  });
});

describe('places, as the review of the new place rules found them', () => {
  let chat: Chat;
  beforeEach(async () => { chat = await Chat.demo(); });
  afterEach(async () => { await chat.close(); });

  it.each([
    ['/走访 昨天 东关社区一站式服务中心 2小时', '东关社区'], ['/走访 昨天 石门村那所 2小时', '石门村'],
    ['/走访 昨天 向阳村 2小时', '向阳村'], ['/走访 昨天 李庄村口 2小时', '李庄村'], ['/志愿 昨天 县中心血站 献血 1小时', '县中心血站'],
    ['/志愿 上周日下午在石门村文化广场给村民发防诈骗宣传册忙了三个钟头', '石门村文化广场'],
  ])('%s', async (text, place) => {
    await chat.says('u2', text);
    const table = text.startsWith('/志愿') ? 'volunteers' : 'visits';
    expect(chat.lastReply).toContain(`地点 ${place} ·`);
    expect(await chat.count(table)).toBe(1);
  });

  it('does not ask about a keyed duration when the content only describes another', async () => {
    await chat.says('u2', '/走访\n日期：昨天\n地点：石门村\n时长：2小时\n内容：王大爷每天要走1小时山路，村里停水3天了');
    expect(chat.lastReply).toContain('已记录走访');
    await chat.says('u2', '/走访\n日期：11月19日\n时间：昨天下午\n地点：红星村\n时长：2小时');
    expect(chat.lastReply).toContain('11月19日（昨天）下午');
  });

  it('leaves a key inside a longer word (联系方式：) in the text when its value is no kind', async () => {
    await chat.says('u2', '/走访 昨天 石门村 入户 2小时 王大爷 联系方式：13800001111');
    expect(chat.lastReply).toContain('已记录走访');
    await chat.says('u2', '/走访\n日期：昨天\n地点：红星村\n形式：入户走访\n时长：一个钟头');
    expect(chat.lastReply).toContain('入户走访 · 1小时');
  });

  it.each([
    ['/走访 昨天 石门村 3小时 入户 时长：2小时', 'a keyed duration against the head'],
    ['/走访\n时间：昨天下午2点到5点\n地点：石门村\n时长：2小时', 'a keyed duration against a clock range'],
    ['/走访 昨天 石门村 入户 2小时 内容：走访3户，实际用时3小时', 'a duration inside keyed content'],
    ['/走访 日期：昨天上午 时间：昨天下午 地点：石门村 时长：2小时', 'one day, two parts of it'],
    ['/走访 昨天在李庄村 下午在张庄村 共5小时 入户', 'another place after a part of the day'],
    ['/走访 昨天 3小时 入户 去隔壁村里看望困难户', 'a word pointing at a place'],
    ['/走访 昨天 2小时 宣讲 向李庄村村民宣讲医保政策', 'a preposition glued to a place'],
  ])('asks, records nothing: %s (%s)', async (text) => {
    await chat.says('u2', text);
    expect(await chat.count('visits')).toBe(0);
    expect(chat.lastReply).not.toContain('已记录');
  });

  it('leaves keys of other fields out of the record (用时 of the way to school, 帮扶形式, 申请时间)', async () => {
    await chat.says('u2', '/走访 昨天 石门村 入户 2小时 上学路上用时：1小时');
    await chat.says('u2', '/走访 昨天 红星村 2小时 看望王大爷 帮扶形式：企业结对');
    await chat.says('u2', '/走访 昨天 东关社区 入户 2小时 王大爷低保申请时间：11月5日');
    await chat.says('u2', '/走访 昨天 石门村 5小时 入户 上午去王大爷家 下午去李大娘家');
    expect((await rowsWhere(chat.db, visits, {}, 'id')).map((v) => [v.place, v.hours, v.kind, v.date, v.timeOfDay])).toEqual([
      ['石门村', 2, 'household', '2026-11-19', null], ['红星村', 2, 'village', '2026-11-19', null],
      ['东关社区', 2, 'household', '2026-11-19', null], ['石门村', 5, 'household', '2026-11-19', null],
    ]);
  });

  it('reads keys inside other words that name the record, and places the third review found cut', async () => {
    await chat.says('u2', '/走访 具体时间：11月18日 地点：石门村 类型：入户 时长：2小时');
    await chat.says('u2', '/走访 日期：昨天地点：红星村类型：入户时长：2小时');
    await chat.says('u2', '/走访 昨天 为民社区 座谈 2小时');
    await chat.says('u2', '/走访 昨天 那良镇那洪村 2小时');
    await chat.says('u2', '/走访 昨天 李庄村民王大爷家 入户 2小时 走访王大爷家，了解到组里新增2个监测户');
    await chat.says('u2', '/走访\n日期：昨天\n地点：本庄村\n时长：2小时\n内容：王大爷住了3天院刚出来');
    expect((await rowsWhere(chat.db, visits, {}, 'id')).map((v) => [v.date, v.place, v.hours, v.households])).toEqual([
      ['2026-11-18', '石门村', 2, 1], ['2026-11-19', '红星村', 2, 1], ['2026-11-19', '为民社区', 2, 0],
      ['2026-11-19', '那良镇那洪村', 2, 0], ['2026-11-19', '李庄村', 2, 1], ['2026-11-19', '本庄村', 2, 0],
    ]);
    await chat.says('u2', '/走访 昨天 红星村 入户 2小时 累计用时：3小时');
    expect(chat.lastReply).toContain('不知道哪个是时长');
  });

  it('takes nothing from a key after a word naming something else, nor a place from a verb before 村民 (fourth review)', async () => {
    await chat.says('u2', '/走访 今天 石门村 入户 2小时 看望王大爷，儿子务工地点：广东东莞');
    await chat.says('u2', '/走访 昨天 红星村 入户 2小时 帮王大爷办医保，申报日期：11月5日');
    await chat.says('u2', '/走访 昨天 东关社区 入户 2小时 王大爷家，上次走访时间：11月10日');
    await chat.says('u2', '/走访 昨天 石门村 入户 2小时 走访5户 其中脱贫户数：2');
    await chat.says('u2', '/走访 昨天 红星村 入户走访 2小时 了解到组里新增2个监测户');
    expect((await rowsWhere(chat.db, visits, {}, 'id')).map((v) => [v.date, v.place, v.households])).toEqual([
      ['2026-11-20', '石门村', 1], ['2026-11-19', '红星村', 1], ['2026-11-19', '东关社区', 1], ['2026-11-19', '石门村', 5], ['2026-11-19', '红星村', 1],
    ]);
    for (const text of ['/走访 昨天 召开村民大会 宣讲 2小时', '/志愿 昨天 为李庄村修建便民桥 4小时',
      '/走访\n日期：昨天\n地点：石门村\n时长：2小时\n内容：在王大爷家待了3个小时']) {
      await chat.says('u2', text);
      expect(chat.lastReply).not.toContain('已记录');
    }
    expect(await chat.count('visits')).toBe(5);
  });

  it('keeps fillers for commands without a place, and the help of a command', async () => {
    await chat.says('u1', '/统计 本月 在石门镇');
    expect(chat.lastReply).toContain('石门镇 · 2026年11月 统计');
    await chat.says('u2', '/帮助 走访');
    expect(chat.lastReply).toContain('/走访 [日期] 地点');
  });
});
