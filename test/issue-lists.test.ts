import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { importRoster } from '../storage/roster.js';
import { mapChat } from '../storage/identity.js';
import { unitByName } from '../storage/units.js';
import { issueCountsForPeriod, openIssuesOfUnits, pendingIssuesDueBy } from '../storage/issues.js';

let chat: Chat;
beforeEach(async () => {
  chat = await Chat.demo();
  await importRoster(chat.db, [{ 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u4' }], Date.now());
});
afterEach(async () => { await chat.close(); });

const on = (date: string) => ({ at: `${date}T09:00:00+08:00` });
const path = async (name: string) => (await unitByName(chat.db, name))!.path;

describe('/清单', () => {
  beforeEach(async () => {
    await chat.says('u2', '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:@李四 时限:12月31日', on('2026-11-02'));
    await chat.says('u3', '/民情 东关社区 张大爷反映低保未到账 类别:信访', on('2026-11-03'));
    await chat.says('u3', '/进展 #1 已联系交通局，列入下月维修计划', on('2026-11-05'));
    await chat.says('u3', '/办结 #1 路面已修复，已电话告知群众', on('2026-11-10'));
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:12月5日', on('2026-10-28'));
  });

  it('shows the three lists of the unit and its sub-units for this month', async () => {
    await chat.says('u1', '/清单');
    expect(chat.lastReply).toBe([
      '示范县 2026年11月 三个清单（含下级单位）',
      '【问题清单】共2条',
      '  1. #1 石门村 道路破损影响出行（基础设施·李四·时限12月31日·已办结）',
      '  2. #2 东关社区 张大爷反映低保未到账（信访·李四·时限12月3日·登记）',
      '【任务清单】共1条',
      '  1. #1 11月5日 李四：已联系交通局，列入下月维修计划',
      '【效果清单】共1条',
      '  1. #1 石门村 道路破损影响出行 → 路面已修复，已电话告知群众（11月10日办结·已答复）',
    ].join('\n'));
  });

  it('takes a unit and a month, and keeps staff to their own unit', async () => {
    await chat.says('u2', '/清单 石门镇 10月');
    expect(chat.lastReply).toContain('石门镇 2026年10月 三个清单');
    expect(chat.lastReply).toContain('【问题清单】共1条\n  1. #3 石门村 路灯不亮（其他·张三·时限12月5日·登记）');
    expect(chat.lastReply).toContain('【效果清单】共0条\n  （无）');
    await chat.says('u2', '/清单 东关社区');
    expect(chat.lastReply).toContain('您没有查看「东关社区」数据的权限');
    await chat.says('u2', '/清单 石门县');
    expect(chat.lastReply).toContain('没有名为「石门县」的单位');
  });

  it('caps each list at 20 lines and says how many there are', async () => {
    for (let k = 0; k < 21; k++) await chat.says('u2', `/民情 石门村 问题${k} 时限:12月31日`, on('2026-11-15'));
    await chat.says('u2', '/清单 石门镇');
    expect(chat.lastReply).toContain('【问题清单】共22条');
    expect(chat.lastReply).toContain('  20. #22 石门村 问题18');
    expect(chat.lastReply).not.toContain('问题19');
    expect(chat.lastReply).toContain('…共22条，仅列前20条；完整清单请发送 /清单 导出');
  });

  it('answers 导出 with the workbook of the lists', async () => {
    await chat.says('u1', '/清单 导出');
    expect(chat.replies[0].file).toMatch(/\.xlsx$/);
    expect(existsSync(chat.replies[0].file!)).toBe(true);
  });

  it('公示 posts the effect list to the group; only a lead may', async () => {
    await chat.says('u2', '/清单 公示', { group: true });
    expect(chat.lastReply).toContain('只有「石门镇」的领导可以公示效果清单');
    await chat.says('u1', '/清单 公示 本月', { group: true });
    expect(chat.replies).toHaveLength(1);
    expect(chat.replies[0]).toMatchObject({ to: 'chat', target: 'g1' });
    expect(chat.lastReply).toBe([
      '【效果清单公示】示范县 2026年11月',
      '解决一件，答复一件，销号一件，公示一件。本期办结 1 件：',
      '1. 石门村 道路破损影响出行 —— 路面已修复，已电话告知群众（11月10日办结）',
      '欢迎群众监督。',
    ].join('\n'));
    await chat.says('u1', '/清单 公示 10月', { group: true });
    expect(chat.lastReply).toBe('示范县 2026年10月 没有办结的问题，暂无可公示的效果清单。');
  });

  it('公示 from a direct chat goes to the unit\'s groups', async () => {
    await chat.says('u1', '/清单 公示');
    expect(chat.lastReply).toContain('「示范县」还没有对应的工作群，无法公示');
    await mapChat(chat.db, 'console', 'g-county', (await unitByName(chat.db, '示范县'))!.id, true, Date.now());
    await chat.says('u1', '/清单 公示');
    expect(chat.replies.map((r) => [r.target, r.text.split('\n')[0]])).toEqual([
      ['g-county', '【效果清单公示】示范县 2026年11月'],
      ['u1', '已在 1 个工作群公示效果清单。'],
    ]);
  });
});

describe('/台账', () => {
  beforeEach(async () => {
    await chat.says('u2', '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:@李四 时限:12月31日', on('2026-11-02'));
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:11月25日', on('2026-11-02'));
    await chat.says('u3', '/民情 东关社区 张大爷反映低保未到账 类别:信访', on('2026-11-03'));
    await chat.says('u2', '/民情 石门村 垃圾清运不及时 类别:环境保护 时限:12月1日', on('2026-11-04'));
    await chat.says('u2', '/办结 #4 已清运，已告知群众', on('2026-11-05'));
  });

  it('lists pending issues, overdue first, with counts per ledger', async () => {
    await chat.says('u4', '/督办 #2', on('2026-11-26'));
    await chat.says('u1', '/台账', on('2026-11-28'));
    expect(chat.lastReply).toBe([
      '示范县台账（含下级单位）：在办 3 件，其中逾期 1 件',
      '民生诉求 2 件 · 困难群众 0 件 · 稳定工作 1 件',
      '🔴 逾期 1 件 · 🟡 临期（剩两个工作日内） 0 件 · 🟢 正常 2 件',
      '1. 🔴 #2【逾期3天】 [石门镇] 石门村 路灯不亮 · 张三 · 时限11月25日 · 登记 · 督办1次',
      '2. 🟢 #3 [东关社区] 东关社区 张大爷反映低保未到账 · 李四 · 时限12月3日（剩5天） · 登记',
      '3. 🟢 #1 [石门镇] 石门村 道路破损影响出行 · 李四 · 时限12月31日（剩33天） · 登记',
    ].join('\n'));
  });

  it('follows an escalated issue to the parent unit', async () => {
    await chat.says('u2', '/上报 #2 镇里没有路灯配件');
    await chat.says('u2', '/台账');
    expect(chat.lastReply).toContain('石门镇台账（含下级单位）：在办 1 件');
    expect(chat.lastReply).toContain('#1 石门村 道路破损影响出行');
    await chat.says('u1', '/台账');
    expect(chat.lastReply).toContain('#2 石门村 路灯不亮 · 张三 · 时限11月25日（剩5天） · 已上报');
  });

  it('keeps staff to their own unit and answers 导出', async () => {
    await chat.says('u3', '/台账 石门镇');
    expect(chat.lastReply).toContain('您没有查看「石门镇」数据的权限');
    await chat.says('u3', '/台账');
    expect(chat.lastReply).toContain('东关社区台账（含下级单位）：在办 1 件');
    await chat.says('u3', '/台账 导出');
    expect(chat.replies[0].file).toMatch(/台账_东关社区_.*\.xlsx$/);
    await chat.says('u3', '/台账 石门镇 导出');
    expect(chat.lastReply).toContain('您没有查看「石门镇」数据的权限');
    await chat.says('u2', '/办结 #2 已更换灯泡，已告知群众');
    await chat.says('u3', '/办结 #1 已修复，已告知群众');
    await chat.says('u2', '/台账');
    expect(chat.lastReply).toBe('石门镇台账（含下级单位）：没有在办的问题。');
  });
});

describe('issue queries for the scheduler and statistics', () => {
  beforeEach(async () => {
    await chat.says('u3', '/民情 东关社区 井盖缺失 时限:10月20日', on('2026-10-15'));
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:11月10日', on('2026-11-02'));
    await chat.says('u3', '/民情 东关社区 低保未到账 时限:11月30日', on('2026-11-02'));
    await chat.says('u2', '/民情 石门村 垃圾清运不及时 时限:11月20日', on('2026-11-05'));
    await chat.says('u2', '/办结 #4 已清运，已告知群众', on('2026-11-08'));
    await chat.says('u2', '/办结 #2 已更换灯泡，已告知群众', on('2026-11-12'));
    await chat.says('u1', '/销号 #2', on('2026-11-13'));
    await chat.says('u1', '/评价 #2 满意', on('2026-11-13'));
    await chat.says('u1', '/评价 #4 基本满意', on('2026-11-14'));
  });

  it('finds pending issues due by a day and a unit\'s pending ledger', async () => {
    expect((await pendingIssuesDueBy(chat.db, '2026-11-30')).map((i) => i.id)).toEqual([1, 3]);
    expect((await pendingIssuesDueBy(chat.db, '2026-11-29')).map((i) => i.id)).toEqual([1]);
    expect((await openIssuesOfUnits(chat.db, await path('示范县'))).map((i) => i.id)).toEqual([1, 3]);
    expect(await openIssuesOfUnits(chat.db, await path('石门镇'))).toEqual([]);
  });

  it('counts a period for a unit with its sub-units', async () => {
    expect(await issueCountsForPeriod(chat.db, await path('示范县'), '2026-11-01', '2026-11-30', '2026-11-20')).toEqual({
      raised: 3, resolved: 2, onTime: 1, closed: 1, overdue: 2, medianDaysToResolve: 6.5,
      satisfaction: { satisfied: 1, basic: 1, dissatisfied: 0 },
    });
    expect(await issueCountsForPeriod(chat.db, await path('石门镇'), '2026-11-01', '2026-11-30', '2026-11-20')).toMatchObject({ raised: 2, resolved: 2, overdue: 1 });
    expect(await issueCountsForPeriod(chat.db, await path('示范县'), '2026-10-01', '2026-10-31')).toEqual({
      raised: 1, resolved: 0, onTime: 0, closed: 0, overdue: 1, medianDaysToResolve: null,
      satisfaction: { satisfied: 0, basic: 0, dissatisfied: 0 },
    });
  });
});
