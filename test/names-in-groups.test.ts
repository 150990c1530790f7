/**
 * MINQING_NAMES_IN_GROUPS=false (docs/rules.md#names-in-groups): no cadre's name in a group message; the
 * laggards of /统计 go to the unit's leads by direct message only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../bot/config.js';
import type { Reply } from '../bot/reply.js';
import { planFor } from '../jobs/plan.js';
import { loadReminderSettings, type JobKind } from '../storage/reminder-settings.js';
import { importRoster } from '../storage/roster.js';
import { Chat } from './chat.js';

const ROSTER = ['王强', '张三', '李四'];

let chat: Chat;
afterEach(async () => { await chat.close(); });

describe('/统计 in a group', () => {
  it('keeps the laggards\' names out of the group and sends them to the lead', async () => {
    chat = await Chat.demo({ MINQING_NAMES_IN_GROUPS: false });
    await chat.says('u1', '/走访 昨天 石门村 入户 1天');
    await chat.says('u1', '/统计 本月', { group: true });
    expect(chat.lastReply).toContain('尚未走访 2 人，名单已私信发给本单位领导（群内不显示干部姓名）。');
    for (const name of ['张三', '李四', '王强']) expect(chat.lastReply).not.toContain(name);
    expect(chat.directMessages).toHaveLength(1);
    expect(chat.directMessages[0].target).toBe('u1');
    expect(chat.directMessages[0].text).toMatch(/^示范县 2026年11月尚未走访（2 人）：张三（石门镇）、李四（东关社区）$/);
    // In a direct chat the lead reads the names as before.
    await chat.says('u1', '/统计 本月');
    expect(chat.lastReply).toContain('尚未走访（2 人）：张三（石门镇）、李四（东关社区）');
    expect(chat.directMessages).toHaveLength(0);
  });

  it('shows the names in the group when the deployment allows it (the default)', async () => {
    chat = await Chat.demo();
    expect(configSchema.parse({}).MINQING_NAMES_IN_GROUPS).toBe(true);
    expect(configSchema.parse({ MINQING_NAMES_IN_GROUPS: 'false' }).MINQING_NAMES_IN_GROUPS).toBe(false);
    expect(configSchema.safeParse({ MINQING_NAMES_IN_GROUPS: 'maybe' }).success).toBe(false);
    await chat.says('u1', '/统计 本月', { group: true });
    expect(chat.lastReply).toContain('张三（石门镇）');
    expect(chat.directMessages).toHaveLength(0);
  });
});

/**
 * Every group-visible command, in the order a working day might bring them, sent in group g1
 * (the committee group `committee` receives the escalation). `on`: a phrase the reply shows by
 * default, naming someone; `off`: what it says instead with MINQING_NAMES_IN_GROUPS=false.
 */
const DAY: Array<{ who: string; says: string; on: string; off: string }> = [
  { who: 'u1', says: '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:张三 责任领导:王强 时限:11月23日',
    on: '责任人 张三，时限 2026年11月23日。\n责任领导 王强。', off: '责任人已收到私信通知（群内不显示干部姓名），时限 2026年11月23日。\n责任领导 已指定（群内不显示姓名）。' },
  { who: 'u2', says: '/民情 东关社区 路灯不亮 时限:12月31日', on: '责任人 张三，', off: '责任人为登记人本人，' },
  { who: 'u1', says: '/民情 石门村 桥栏杆松动 责任人:张三 责任领导:张三 时限:12月31日', on: '「张三」是一般干部', off: '「所写的责任领导」是一般干部' },
  { who: 'u3', says: '/进展 #1 已联系交通局', on: '只有责任人 张三 或「示范县」的领导', off: '只有责任人或「示范县」的领导可以对 #1 使用 /进展，例如 /进展 #1 已联系交通局（群内不显示干部姓名；私聊我发送同一命令可看到责任人是谁）' },
  { who: 'u2', says: '/进展 #1 已联系交通局，列入下月维修计划', on: '已记录 #1 进展', off: '已记录 #1 进展' },
  { who: 'u1', says: '/督办 #1 本周内拿出维修方案', on: '，责任人 张三，时限', off: '：石门村 道路破损影响出行，时限' },
  { who: 'u1', says: '/台账', on: '道路破损影响出行 · 张三 · 时限', off: '道路破损影响出行 · 时限' },
  { who: 'u1', says: '/清单', on: '张三：已联系交通局', off: '（群内不显示干部姓名；私聊我发送同一命令可看到责任人）' },
  { who: 'u1', says: '/统计 覆盖', on: '李四（东关社区）', off: '本月尚未走访 3 人（群内不显示干部姓名；名单请私聊我发送 /统计 覆盖 查看）。' },
  { who: 'u1', says: '/统计 本月', on: '王强（示范县）', off: '名单已私信发给本单位领导' },
  { who: 'u1', says: '/我的', on: '王强（示范县）截至', off: '您（示范县）截至' },
  { who: 'u1', says: '/七问', on: '王强 2026年「七问」', off: '您 2026年「七问」' },
  { who: 'u2', says: '/上报 #2 需县里协调', on: '上报至「示范县」', off: '上报至「示范县」' },
  { who: 'u2', says: '/办结 #1 路面已修复，已电话告知群众', on: '已办结 #1', off: '已办结 #1' },
  { who: 'u1', says: '/清单 公示', on: '【效果清单公示】', off: '【效果清单公示】' },
  { who: 'u1', says: '/台账 导出', on: '已导出示范县问题台账', off: '问题台账已私信发给您（文件含干部姓名，群内不发送）。' },
  { who: 'u1', says: '/导出 日志 @张三', on: '已导出张三工作日志', off: '工作日志已私信发给您' },
  { who: 'u1', says: '/导出 覆盖', on: '已导出示范县三个全覆盖名单', off: '三个全覆盖名单已私信发给您' },
];

/** Replies bound for a group: every chat reply of a message sent in a group, and any sent on to another group. */
const toGroups = (rs: Reply[], inGroup: boolean) => rs.filter((r) => r.to === 'chat' && (inGroup || r.target !== undefined));

async function workingDay(c: Chat): Promise<Array<{ says: string; group: Reply[]; direct: Reply[] }>> {
  await c.says('u1', '/单位 示范县 委员会', { group: 'committee' });
  const out = [];
  for (const row of DAY) {
    const rs = await c.says(row.who, row.says, { group: true });
    out.push({ says: row.says, group: toGroups(rs, true), direct: rs.filter((r) => r.to === 'user') });
  }
  return out;
}

describe('every group-visible command (table)', () => {
  it('names nobody in a group with MINQING_NAMES_IN_GROUPS=false, and says who was told or where to look', async () => {
    chat = await Chat.demo({ MINQING_NAMES_IN_GROUPS: false });
    const day = await workingDay(chat);
    for (const [k, row] of DAY.entries()) {
      const texts = day[k].group.map((r) => r.text);
      expect(texts.length, row.says).toBeGreaterThan(0);
      expect(texts.join('\n'), row.says).toContain(row.off);
      for (const t of texts) for (const name of ROSTER) expect(t, `${row.says} → ${t}`).not.toContain(name);
      // A file in a group is a group message too: files go to whoever asked, by direct message.
      for (const r of day[k].group) expect(r.file, row.says).toBeUndefined();
    }
    const at = (says: string) => day[DAY.findIndex((r) => r.says === says)];
    // The escalation goes on to the committee group, nameless as well.
    expect(at('/上报 #2 需县里协调').group.map((r) => r.target)).toContain('committee');
    // Who was told in the group's place: the responsible cadre, the lead, whoever asked for a file.
    expect(at(DAY[0].says).direct.map((r) => r.target)).toEqual(['u2']);
    expect(at('/督办 #1 本周内拿出维修方案').direct[0].text).toContain('【督办】王强');
    const file = at('/台账 导出').direct;
    expect(file).toHaveLength(1);
    expect(file[0].target).toBe('u1');
    expect(file[0].file).toMatch(/台账.*\.xlsx$/);
    // In a direct chat the same commands name people as before.
    await chat.says('u1', '/台账');
    expect(chat.lastReply).toContain('· 张三 ·');
    await chat.says('u3', '/进展 #2 已联系');
    expect(chat.lastReply).toContain('只有责任人 张三 或');
  });

  it('is unchanged with the setting on (the default): the same day names people in the group', async () => {
    chat = await Chat.demo();
    const day = await workingDay(chat);
    for (const [k, row] of DAY.entries()) {
      expect(day[k].group.map((r) => r.text).join('\n'), row.says).toContain(row.on);
    }
    const file = day[DAY.findIndex((r) => r.says === '/台账 导出')].group;
    expect(file).toHaveLength(1);
    expect(file[0].file).toMatch(/台账.*\.xlsx$/);
  });
});

describe('namesakes named in a group', () => {
  // A second 李四 (石门镇) beside the demo's 李四 (东关社区), and a lead of 石门镇 for the transfer.
  async function withNamesakes(c: Chat): Promise<void> {
    await importRoster(c.db, [
      { 姓名: '李四', 手机: '13800000005', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '', 账号: 'console:u5' },
      { 姓名: '孙敏', 手机: '13800000006', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u6' },
    ], new Date(c.at).getTime());
    await c.says('u2', '/联系户 王大爷 13912345678 地点:石门村');
    expect(c.lastReply).toContain('已登记联系户 #1');
  }

  it('lists neither names nor units of namesakes where names are hidden, and says to write a phone number', async () => {
    chat = await Chat.demo({ MINQING_NAMES_IN_GROUPS: false });
    await withNamesakes(chat);
    for (const says of ['/导出 日志 @李四', '/联系户 转交 #1 @李四']) {
      const who = says.startsWith('/联系户') ? 'u6' : 'u1';
      await chat.says(who, says, { group: true });
      expect(chat.lastReply, says).toContain('群内不显示干部姓名和单位。请改写其 11 位手机号');
      expect(chat.lastReply, says).toContain(`例如 ${says.replace('#1', '#12').replace('@李四', '@手机号')}`);
      for (const name of ['东关社区', '石门镇']) expect(chat.lastReply, says).not.toContain(name);
    }
    await chat.says('u1', '/民情 石门村 路灯不亮 时限:15天 责任人:李四', { group: true });
    expect(chat.lastReply).toBe('名册中有多位同名干部，群内不显示干部姓名和单位。请改写其 11 位手机号，例如 责任人:手机号，或私聊我登记。');
    expect(await chat.count('issues')).toBe(0);
    // Found by phone number, the name stays out of the group's refusal as well.
    await chat.says('u6', '/联系户 转交 #1 @13800000002', { group: true });
    expect(chat.lastReply).toBe('联系户 #1 已由 该干部 联系，无需转交。');
    expect(await chat.count('householdTransfers')).toBe(0);
    // In a direct chat the namesakes are listed, each with the unit to write.
    await chat.says('u6', '/联系户 转交 #1 @李四');
    expect(chat.lastReply).toBe('名册中有 2 位「李四」：李四（东关社区）、李四（石门镇）。请写明单位，例如 /联系户 转交 #12 @李四（东关社区）');
    await chat.says('u6', '/联系户 转交 #1 @李四（石门镇）', { group: true });
    expect(chat.lastReply).toContain('已转交联系户 #1 王大爷');
  });

  it('lists them in a group when names are shown (the default)', async () => {
    chat = await Chat.demo();
    await withNamesakes(chat);
    await chat.says('u1', '/导出 日志 @李四', { group: true });
    expect(chat.lastReply).toContain('名册中有 2 位「李四」：李四（东关社区）、李四（石门镇）。请写明单位，例如 /导出 日志 @李四（东关社区）');
  });
});

describe('reminders to groups', () => {
  /** Everything each planner would send to a group at these instants. */
  async function groupReminders(c: Chat, namesInGroups: boolean): Promise<string[]> {
    const s = { ...(await loadReminderSettings(c.db)), namesInGroups };
    const at: Array<[JobKind, string]> = [['deadlines', '2026-12-01'], ['digest', '2026-11-23'], ['quarterly', '2026-12-26'], ['quota', '2026-11-20']];
    const planned = [];
    for (const [kind, d] of at) planned.push(...(await planFor(c.db, kind, d, s)));
    return planned.filter((r) => r.to === 'chat').map((r) => (JSON.parse(r.reply ?? '{}') as Reply).text);
  }

  it('the overdue notice, the weekly digest and the quarter reminders name no cadre with the setting off', async () => {
    chat = await Chat.demo({ MINQING_NAMES_IN_GROUPS: false });
    await chat.says('u1', '/单位 示范县 委员会', { group: 'committee' });
    await chat.says('u1', '/走访 昨天 石门村 入户 1天');
    await chat.says('u1', '/民情 石门村 道路破损 责任人:张三 时限:11月21日');
    const off = await groupReminders(chat, false);
    expect(off.some((t) => t.startsWith('【超期督办】') && t.includes('责任人 已私信通知'))).toBe(true);
    expect(off.some((t) => t.startsWith('【每周简报】'))).toBe(true);
    expect(off.some((t) => t.startsWith('【义工日提醒】'))).toBe(true);
    for (const t of off) for (const name of ROSTER) expect(t).not.toContain(name);
    // With names allowed, the committee reads who is responsible.
    expect((await groupReminders(chat, true)).some((t) => t.startsWith('【超期督办】') && t.includes('责任人 张三'))).toBe(true);
  });
});
