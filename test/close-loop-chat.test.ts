/**
 * 三率 and deadline lights as cadres see them (docs/rules.md#three-rates-and-deadline-lights): /统计, /台账, the deadline
 * reminders and the weekly digest, as conversations on the demo roster.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { runPass } from '../jobs/pass.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

const on = (d: string) => ({ at: `${d}T10:00:00+08:00` });
const line = (prefix: string) => chat.lastReply.split('\n').find((l) => l.startsWith(prefix));
const planned = async (kind: 'deadlines' | 'digest', at: string) =>
  (await runPass(chat.db, { kind, at: new Date(at), tz: 'Asia/Shanghai', settings: await loadReminderSettings(chat.db) })).fresh;

async function november() {
  await chat.says('u2', '/民情 石门村 道路破损 类别:基础设施 责任人:@张三 时限:11月30日', on('2026-11-02'));
  await chat.says('u2', '/进展 #1 已联系交通局', on('2026-11-03'));
  await chat.says('u2', '/办结 #1 路面已修复，已电话告知群众', on('2026-11-06'));
  await chat.says('u2', '/评价 #1 基本满意 回访', on('2026-11-09'));
  expect(chat.lastReply).toBe('已记录 #1 群众评价：基本满意（电话回访）。');
  await chat.says('u3', '/民情 东关社区 路灯不亮 类别:基础设施 责任人:@李四 时限:11月10日', on('2026-11-03'));
}

describe('/统计 shows the three rates', () => {
  it('for the county and for a sub-unit', async () => {
    await november();
    await chat.says('u1', '/统计 本月');
    // #1 answered the next day, #2 never; #1 resolved in time, #2 overdue; #1 rated 基本满意.
    expect(line('三率')).toBe('三率：响应率 50%（1/2） · 解决率 50%（1/2） · 满意率 100%（1/1）');
    await chat.says('u1', '/统计 本月 东关社区');
    expect(line('三率')).toBe('三率：响应率 0%（0/1） · 解决率 0%（0/1） · 满意率 —');
    await chat.says('u1', '/统计 2026-10');
    expect(line('三率')).toBe('三率：响应率 — · 解决率 — · 满意率 —');
  });
});

describe('/台账 shows deadline lights on the working-day calendar', () => {
  it('yellow across National Day, green when the 调休 Saturday leaves three working days, red once overdue', async () => {
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:10月9日', on('2026-09-29'));
    await chat.says('u2', '/民情 石门村 水管漏水 时限:10月13日', on('2026-09-29'));
    await chat.says('u2', '/民情 石门村 垃圾清运 时限:10月12日', on('2026-09-29'));
    await chat.says('u2', '/台账', on('2026-09-30'));
    expect(chat.lastReply.split('\n')).toEqual([
      '石门镇台账（含下级单位）：在办 3 件',
      '民生诉求 3 件 · 困难群众 0 件 · 稳定工作 0 件',
      '🔴 逾期 0 件 · 🟡 临期（剩两个工作日内） 1 件 · 🟢 正常 2 件',
      '1. 🟡 #1 石门村 路灯不亮 · 张三 · 时限10月9日（剩9天，2个工作日） · 登记',
      '2. 🟢 #3 石门村 垃圾清运 · 张三 · 时限10月12日（剩12天） · 登记',
      '3. 🟢 #2 石门村 水管漏水 · 张三 · 时限10月13日（剩13天） · 登记',
    ]);
    // Friday 10月9日: the Saturday after is worked, so 12日 is two working days off, 13日 three.
    await chat.says('u2', '/台账', on('2026-10-09'));
    expect(line('1.')).toBe('1. 🟡 #1 石门村 路灯不亮 · 张三 · 时限10月9日（剩0天） · 登记');
    expect(line('2.')).toBe('2. 🟡 #3 石门村 垃圾清运 · 张三 · 时限10月12日（剩3天，2个工作日） · 登记');
    expect(line('3.')).toBe('3. 🟢 #2 石门村 水管漏水 · 张三 · 时限10月13日（剩4天） · 登记');
    await chat.says('u2', '/台账', on('2026-10-10'));
    expect(line('1.')).toBe('1. 🔴 #1【逾期1天】 石门村 路灯不亮 · 张三 · 时限10月9日 · 登记');
    expect(line('🔴')).toBe('🔴 逾期 1 件 · 🟡 临期（剩两个工作日内） 2 件 · 🟢 正常 0 件');
  });
});

describe('the reminders carry the lights and the rates', () => {
  it('deadline reminders start with their light', async () => {
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:10月12日', on('2026-10-08'));
    const soon = (await planned('deadlines', '2026-10-09T09:00:00+08:00')).filter((r) => r.kind === 'deadline');
    expect(soon).toHaveLength(1);
    expect(JSON.parse(soon[0].reply!).text).toMatch(/^🟡 问题 #1「路灯不亮」将于 2026年10月12日 到期/);
    const late = (await planned('deadlines', '2026-10-13T09:00:00+08:00')).filter((r) => r.kind === 'overdue');
    expect(JSON.parse(late[0].reply!).text).toMatch(/^🔴 问题 #1「路灯不亮」已超期 1 天/);
  });

  it('the weekly digest gives last week\'s three rates', async () => {
    await chat.says('u1', '/单位 示范县 委员会', { group: 'committee' });
    await november();
    const [digest] = await planned('digest', '2026-11-09T09:00:00+08:00'); // about 11月2日–8日
    expect(JSON.parse(digest.reply!).text).toContain('三率：响应率 50%（1/2） · 解决率 — · 满意率 —');
  });
});
