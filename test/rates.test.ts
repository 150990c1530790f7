/**
 * 三率 (storage/rates.ts), table-driven: each row is one issue's life told as chat commands on
 * the dates given, then the three rates of its month are read for a unit with its sub-units.
 * `met` / `missed`: counted and meeting the measure or not; `none`: not counted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { responseDueDates, threeRates, type Rate } from '../storage/rates.js';
import { unitByName } from '../storage/units.js';
import { issueEvents, issues } from '../storage/schema.js';
import { insertRow, updateRows } from '../storage/rows.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

const on = (d: string) => ({ at: `${d}T10:00:00+08:00` });
type Outcome = 'met' | 'missed' | 'none';
const outcome = (r: Rate): Outcome => (r.of === 0 ? 'none' : r.n === 1 ? 'met' : 'missed');
const county = async () => (await unitByName(chat.db, '示范县'))!;

async function register(d: string, deadline: string) {
  const [m, day] = deadline.slice(5).split('-').map(Number);
  await chat.says('u2', `/民情 石门村 道路破损 类别:基础设施 责任人:@张三 时限:${m}月${day}日`, on(d));
  expect(chat.lastReply).toContain('已登记问题 #1');
}
const resolve = async (d: string) => {
  await chat.says('u2', '/办结 #1 路面已修复，已电话告知群众', on(d));
  expect(chat.lastReply).toContain('已办结 #1');
};

describe('responseDueDates', () => {
  it('gives each registration date its next working day, 调休 included', () => {
    expect(responseDueDates('2026-10-08', '2026-10-12')).toEqual({
      '2026-10-08': '2026-10-09', '2026-10-09': '2026-10-10', '2026-10-10': '2026-10-12',
      '2026-10-11': '2026-10-12', '2026-10-12': '2026-10-13',
    });
  });
});

describe('响应率: the first /进展 or /办结 within one working day of registration', () => {
  it.each([
    // registered, first response (how), today, period, outcome
    ['2026-11-02', ['2026-11-02', 'progress'], '2026-11-30', 'met'], // same day
    ['2026-11-02', ['2026-11-03', 'progress'], '2026-11-30', 'met'], // next working day
    ['2026-11-06', ['2026-11-09', 'resolve'], '2026-11-30', 'met'], // Friday → Monday, by /办结
    ['2026-11-02', ['2026-11-04', 'progress'], '2026-11-30', 'missed'], // two working days
    ['2026-11-02', null, '2026-11-30', 'missed'], // never, and the window is over
    ['2026-11-27', null, '2026-11-30', 'none'], // Friday, today is Monday: still within the window
    ['2026-11-27', null, '2026-12-01', 'missed'],
    ['2026-10-09', ['2026-10-12', 'progress'], '2026-10-31', 'missed'], // the 调休 Saturday 10月10日 was a working day
    ['2026-09-30', ['2026-10-08', 'progress'], '2026-10-31', 'met'], // across National Day
  ] as const)('registered %s, answered %j, today %s: %s', async (reg, first, today, want) => {
    await register(reg, '2026-12-31');
    if (first) {
      if (first[1] === 'progress') await chat.says('u2', '/进展 #1 已联系交通局', on(first[0]));
      else await resolve(first[0]);
    }
    const r = await threeRates(chat.db, (await county()).path, `${reg.slice(0, 7)}-01`, `${reg.slice(0, 7)}-31`, today);
    expect(outcome(r.response)).toBe(want);
  });
});

describe('解决率: issues due in the period, resolved by their deadline', () => {
  it.each([
    // deadline, what happened (date, command), today, outcome
    ['2026-11-20', [['2026-11-19', 'resolve']], '2026-11-30', 'met'],
    ['2026-11-20', [['2026-11-20', 'resolve']], '2026-11-30', 'met'], // on the deadline day
    ['2026-11-20', [['2026-11-23', 'resolve']], '2026-11-30', 'missed'],
    ['2026-11-20', [], '2026-11-25', 'missed'], // overdue, unresolved
    ['2026-11-20', [], '2026-11-20', 'none'], // due today: not decided yet
    ['2026-11-20', [['2026-11-18', 'resolve']], '2026-11-18', 'met'], // resolved early counts at once
    ['2026-11-20', [['2026-11-18', 'resolve'], ['2026-11-19', 'close']], '2026-11-30', 'met'],
    ['2026-11-20', [['2026-11-18', 'resolve'], ['2026-11-19', 'unhappy']], '2026-11-30', 'missed'], // reopened by 不满意
    ['2026-11-20', [['2026-11-18', 'extend']], '2026-11-30', 'none'], // extended into December: not due in November
  ] as const)('deadline %s, %j, today %s: %s', async (deadline, steps, today, want) => {
    await register('2026-11-02', deadline);
    for (const [d, what] of steps) {
      if (what === 'resolve') await resolve(d);
      if (what === 'close') await chat.says('u1', '/销号 #1', on(d));
      if (what === 'unhappy') await chat.says('u2', '/评价 #1 不满意 路面仍有坑', on(d));
      if (what === 'extend') await chat.says('u1', '/延期 #1 12月10日 等待施工', on(d));
    }
    const r = await threeRates(chat.db, (await county()).path, '2026-11-01', '2026-11-30', today);
    expect(outcome(r.resolution)).toBe(want);
  });
});

describe('满意率: rated in the period, satisfied or basically satisfied, the citizen first', () => {
  it.each([
    // cadre /评价 (on 11月10日), citizen rating, period, outcome
    ['满意', null, '2026-11', 'met'],
    ['基本满意', null, '2026-11', 'met'],
    ['满意 回访', null, '2026-11', 'met'],
    ['不满意', null, '2026-11', 'missed'],
    ['不满意', 'satisfied', '2026-11', 'met'], // the citizen's rating outranks the cadre's
    ['满意', 'dissatisfied', '2026-11', 'missed'],
    [null, 'basic', '2026-11', 'met'], // the citizen alone, through their link
    [null, 'dissatisfied', '2026-11', 'missed'],
    [null, null, '2026-11', 'none'], // not rated
    ['满意', null, '2026-12', 'none'], // rated in another period
  ] as const)('cadre %s, citizen %s, period %s: %s', async (cadre, citizen, month, want) => {
    await register('2026-11-02', '2026-11-30');
    await resolve('2026-11-06');
    if (cadre) {
      await chat.says('u2', `/评价 #1 ${cadre}`, on('2026-11-10'));
      expect(chat.lastReply).toContain('群众评价');
    }
    if (citizen) {
      // As the citizen page records it (handlers/citizen-pages.ts): the column and an audit row.
      const at = new Date('2026-11-12T10:00:00+08:00').getTime();
      await updateRows(chat.db, issues, { citizenSatisfaction: citizen, citizenRatedAt: at }, 'id = ?', [1]);
      await insertRow(chat.db, issueEvents, {
        issueId: 1, at, date: '2026-11-12', actorCadreId: null, action: 'citizen_rate', fromState: 'resolved', toState: 'resolved', note: '群众通过链接评价',
      });
    }
    const r = await threeRates(chat.db, (await county()).path, `${month}-01`, `${month}-31`, '2026-12-31');
    expect(outcome(r.satisfaction)).toBe(want);
  });
});

describe('a unit with its sub-units', () => {
  it('counts the issues raised in the unit or below it, not elsewhere', async () => {
    await register('2026-11-02', '2026-11-20'); // 张三, 石门镇
    await resolve('2026-11-03');
    await chat.says('u3', '/民情 东关社区 路灯不亮 时限:11月20日', on('2026-11-02')); // 李四, 东关社区
    const rates = async (unit: string) => threeRates(chat.db, (await unitByName(chat.db, unit))!.path, '2026-11-01', '2026-11-30', '2026-11-30');
    expect(await rates('石门镇')).toEqual({ response: { n: 1, of: 1 }, resolution: { n: 1, of: 1 }, satisfaction: { n: 0, of: 0 } });
    expect(await rates('东关社区')).toEqual({ response: { n: 0, of: 1 }, resolution: { n: 0, of: 1 }, satisfaction: { n: 0, of: 0 } });
    expect(await rates('示范县')).toEqual({ response: { n: 1, of: 2 }, resolution: { n: 1, of: 2 }, satisfaction: { n: 0, of: 0 } });
  });
});
