import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { importRoster } from '../storage/roster.js';
import { mapChat } from '../storage/identity.js';
import { unitByName } from '../storage/units.js';
import { cadres, issueEvents, issues, units } from '../storage/schema.js';
import { NOT_NULL, oneWhere, rowsWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => {
  chat = await Chat.demo();
  // u4 赵六 leads 石门镇; 示范县 (u1 王强) is the root above it.
  await importRoster(chat.db, [{ 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u4' }], Date.now());
});
afterEach(async () => { await chat.close(); });

/** The issue's row (schema keys) with the names of its unit and its origin unit. */
async function issue(id = 1) {
  const i = await oneWhere(chat.db, issues, { id });
  if (!i) throw new Error(`no issue #${id}`);
  const unit = (await oneWhere(chat.db, units, { id: i.unitId }))?.name;
  const origin = (await oneWhere(chat.db, units, { id: i.originUnitId }))?.name;
  return { ...i, unit, origin };
}
/** The audit trail of an issue, oldest first, with the actor's name (null when none). */
async function audit(id = 1) {
  const out = [];
  for (const e of await rowsWhere(chat.db, issueEvents, { issueId: id }, 'id')) {
    const who = e.actorCadreId === null ? null : (await oneWhere(chat.db, cadres, { id: e.actorCadreId }))?.name ?? null;
    out.push({ action: e.action, from: e.fromState, to: e.toState, note: e.note, who, date: e.date });
  }
  return out;
}
const events = () => chat.count('issueEvents');

const ROAD = '/民情 石门村 道路破损影响出行 类别:基础设施 责任人:@李四 时限:12月31日';
const PETITION = '/民情 东关社区 张大爷反映低保未到账 类别:信访';

describe('/民情', () => {
  it('registers the example of the spec and tells the responsible cadre', async () => {
    await chat.says('u2', ROAD);
    expect(chat.lastReply).toContain('已登记问题 #1（民生诉求台账·基础设施）：石门村 道路破损影响出行。责任人 李四，时限 2026年12月31日。');
    expect(chat.directMessages).toHaveLength(1);
    expect(chat.directMessages[0]).toMatchObject({ to: 'user', target: 'u3', platform: 'console' });
    expect(chat.directMessages[0].text).toContain('张三 登记了问题 #1，责任人是您');
    expect(await issue()).toMatchObject({
      unit: '石门镇', origin: '石门镇', ledger: 'livelihood', category: '基础设施', place: '石门村', description: '道路破损影响出行',
      deadline: '2026-12-31', source: 'visit', state: 'open', createdDate: '2026-11-20', voidedAt: null,
    });
    expect(await audit()).toEqual([{ action: 'register', from: null, to: 'open', note: null, who: '张三', date: '2026-11-20' }]);
  });

  it('defaults the responsible cadre to the reporter, who gets no direct message', async () => {
    await chat.says('u2', '/民情 石门村 路灯不亮 基础设施 时限:15天');
    expect(chat.lastReply).toContain('责任人 张三，时限 2026年12月5日');
    expect(chat.directMessages).toHaveLength(0);
  });

  it('reads category and ledger by their full names anywhere, short words only as key:value', async () => {
    await chat.says('u2', '/民情 石门村 困难 户 房屋漏雨 困难群众 基础设施 时限:12月10日');
    expect(chat.lastReply).toContain('#1（困难群众台账·基础设施）：石门村 困难 户 房屋漏雨');
    await chat.says('u2', '/民情 石门村 企业 用工难 类别:就业 台账:民生 时限:12月10日');
    expect(chat.lastReply).toContain('#2（民生诉求台账·就业）：石门村 企业 用工难');
  });

  it('gives a petition 30 days, the stability ledger and the petition source', async () => {
    await chat.says('u3', PETITION);
    expect(chat.lastReply).toContain('#1（稳定工作台账·信访）');
    expect(chat.lastReply).toContain('时限 2026年12月20日');
    expect(await issue()).toMatchObject({ source: 'petition', ledger: 'stability', unit: '东关社区' });
  });

  it('refuses a missing deadline, a past one and a petition deadline beyond 30 days', async () => {
    await chat.says('u2', '/民情 石门村 路灯不亮');
    expect(chat.lastReply).toContain('这个问题还没有办理时限');
    expect(chat.lastReply).toContain('还差「时限」');
    await chat.says('u2', '/取消');
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:2026-11-19');
    expect(chat.lastReply).toContain('时限 2026年11月19日 已经过去');
    await chat.says('u2', '/民情 石门村 上访 类别:信访 时限:2027-01-31');
    expect(chat.lastReply).toContain('信访件应在30日内办结：时限最晚为 2026年12月20日');
    expect(await chat.count('issues')).toBe(0);
  });

  it('takes the unit of a mapped group, and lead, department, source and visit link', async () => {
    await chat.says('u2', '/走访 昨天 石门村 入户 1天 了解路况');
    await mapChat(chat.db, 'console', 'g-dg', (await unitByName(chat.db, '东关社区'))!.id, false, Date.now());
    await chat.says('u2', '/民情 东关社区 路面积水 类别:基础设施 责任人:李四 责任领导:@王强 部门:县住建局 来源:热线 走访:#V1 时限:12月1日', { group: 'g-dg' });
    expect(chat.lastReply).toContain('责任领导 王强，责任部门 县住建局。');
    expect(await issue()).toMatchObject({ unit: '东关社区', department: '县住建局', source: 'hotline', visitId: 1, deadline: '2026-12-01' });
    await chat.says('u2', '/民情 石门村 路面积水 时限:12月1日 走访:#V9');
    expect(chat.lastReply).toContain('没有找到走访记录 #V9');
  });

  it('says what to write for an unknown or ambiguous responsible cadre', async () => {
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:15天 责任人:@李五');
    expect(chat.lastReply).toContain('名册中没有「李五」');
    expect(chat.lastReply).toContain('责任人:@李四');
    await importRoster(chat.db, [{ 姓名: '李四', 手机: '13800000005', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '', 账号: 'console:u5' }], Date.now());
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:15天 责任人:@李四');
    expect(chat.lastReply).toContain('名册中有 2 位「李四」：李四（东关社区）、李四（石门镇）');
    expect(await chat.count('issues')).toBe(0);
    await chat.says('u2', '/民情 石门村 路灯不亮 时限:15天 责任人:@李四（石门镇）');
    expect(chat.lastReply).toContain('责任人 李四');
    expect(chat.directMessages[0].target).toBe('u5');
  });

  it('makes one issue for a message delivered twice', async () => {
    await chat.says('u2', ROAD, { id: 'm-issue' });
    const first = chat.replies;
    await chat.says('u2', ROAD, { id: 'm-issue' });
    expect(chat.replies).toEqual(first);
    expect(await chat.count('issues')).toBe(1);
    expect(await events()).toBe(1);
  });

  it('/撤销 voids a just-registered issue, which is then not found', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u2', '/撤销', { at: '2026-11-20T09:35:00+08:00' });
    expect(chat.lastReply).toContain('已撤销问题 #1');
    expect(await chat.count('issues', { voidedAt: NOT_NULL })).toBe(1);
    expect((await audit()).map((e) => e.action)).toEqual(['register', 'void']);
    await chat.says('u3', '/进展 #1 已联系交通局');
    expect(chat.lastReply).toContain('没有找到问题 #1');
  });
});

describe('the workflow', () => {
  it('goes through every state, one audit row per change', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u3', '/进展 #1 已联系交通局，列入下月维修计划');
    expect(chat.lastReply).toContain('已记录 #1 进展：已联系交通局，列入下月维修计划。状态：办理中，时限 2026年12月31日（剩41天）');
    await chat.says('u4', '/延期 #1 30天 需等待交通局排期施工');
    expect(chat.lastReply).toContain('已延期 #1：2026年12月31日 → 2027年1月30日');
    expect(chat.directMessages[0]).toMatchObject({ target: 'u3' });
    await chat.says('u4', '/督办 #1 本周内拿出方案');
    expect(chat.lastReply).toContain('已督办 #1（第1次）');
    await chat.says('u3', '/上报 #1 镇里没有维修资金');
    expect(chat.lastReply).toContain('已将 #1 从「石门镇」上报至「示范县」');
    expect(await issue()).toMatchObject({ state: 'escalated', unit: '示范县', origin: '石门镇' });
    await chat.says('u1', '/进展 #1 县交通局已派工');
    expect(chat.directMessages[0].text).toContain('王强 为问题 #1');
    await chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    expect(chat.lastReply).toContain('已办结 #1：路面已修复，已电话告知群众。已答复群众。请「示范县」领导发送 /销号 #1');
    expect(await issue()).toMatchObject({ state: 'resolved', answered: true, resolvedDate: '2026-11-20', result: '路面已修复，已电话告知群众' });

    const before = await events();
    await chat.says('u2', '/销号 #1');
    expect(chat.lastReply).toContain('/销号 须由「示范县」的领导操作');
    // The township lead lost the issue when it went up to the county.
    await chat.says('u4', '/销号 #1');
    expect(chat.lastReply).toContain('/销号 须由「示范县」的领导操作');
    expect(await events()).toBe(before);

    await chat.says('u1', '/销号 #1', { at: '2026-11-21T10:00:00+08:00' });
    expect(chat.lastReply).toContain('已销号 #1：石门村 道路破损影响出行');
    expect(await issue()).toMatchObject({ state: 'closed', closedAt: new Date('2026-11-21T10:00:00+08:00').getTime() });
    await chat.says('u3', '/评价 #1 满意', { at: '2026-11-21T11:00:00+08:00' });
    expect(chat.lastReply).toContain('已记录 #1 群众评价：满意');
    expect(await issue()).toMatchObject({ state: 'closed', satisfaction: 'satisfied' });

    expect(await audit()).toEqual([
      { action: 'register', from: null, to: 'open', note: null, who: '张三', date: '2026-11-20' },
      { action: 'progress', from: 'open', to: 'in_progress', note: '已联系交通局，列入下月维修计划', who: '李四', date: '2026-11-20' },
      { action: 'extend', from: 'in_progress', to: 'in_progress', note: '2026-12-31 → 2027-01-30：需等待交通局排期施工', who: '赵六', date: '2026-11-20' },
      { action: 'supervise', from: 'in_progress', to: 'in_progress', note: '本周内拿出方案', who: '赵六', date: '2026-11-20' },
      { action: 'escalate', from: 'in_progress', to: 'escalated', note: '石门镇 → 示范县：镇里没有维修资金', who: '李四', date: '2026-11-20' },
      { action: 'progress', from: 'escalated', to: 'in_progress', note: '县交通局已派工', who: '王强', date: '2026-11-20' },
      { action: 'resolve', from: 'in_progress', to: 'resolved', note: '路面已修复，已电话告知群众', who: '李四', date: '2026-11-20' },
      { action: 'close', from: 'resolved', to: 'closed', note: null, who: '王强', date: '2026-11-21' },
      { action: 'rate', from: 'closed', to: 'closed', note: '满意', who: '李四', date: '2026-11-21' },
    ]);
  });

  it('/督办 sends the responsible cadre a direct message with the count and the days left', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u4', '/督办 #1');
    await chat.says('u4', '/督办 #1 本周内拿出维修方案');
    expect(chat.lastReply).toContain('已督办 #1（第2次）：石门村 道路破损影响出行，责任人 李四，时限 2026年12月31日（剩41天）');
    expect(chat.directMessages).toHaveLength(1);
    expect(chat.directMessages[0]).toMatchObject({ to: 'user', target: 'u3', platform: 'console' });
    expect(chat.directMessages[0].text).toBe('【督办】赵六 第2次督办问题 #1：石门村 道路破损影响出行，时限 2026年12月31日（剩41天）。要求：本周内拿出维修方案。请抓紧办理，并发送 /进展 #1 报告进展。');
    await chat.says('u4', '/督办 #1', { at: '2027-01-02T09:00:00+08:00' });
    expect(chat.directMessages[0].text).toContain('已逾期2天');
    expect((await issue()).superviseCount).toBe(3);
    await chat.says('u3', '/督办 #1');
    expect(chat.lastReply).toContain('/督办 须由「石门镇」的领导操作');
  });

  it('不满意 reopens a resolved issue and tells the responsible cadre', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u3', '/办结 #1 已修复 答复:是');
    await chat.says('u4', '/评价 #1 不满意 路面又出现裂缝');
    expect(chat.lastReply).toContain('已记录 #1 群众评价：不满意。问题重新转为「办理中」');
    expect(chat.directMessages[0]).toMatchObject({ target: 'u3' });
    expect(chat.directMessages[0].text).toContain('群众对问题 #1（石门村 道路破损影响出行）不满意：路面又出现裂缝');
    expect(await issue()).toMatchObject({ state: 'in_progress', satisfaction: 'dissatisfied', resolvedDate: null, resolvedAt: null });
    expect((await audit()).at(-1)).toEqual({ action: 'reopen', from: 'resolved', to: 'in_progress', note: '群众评价：不满意：路面又出现裂缝', who: '赵六', date: '2026-11-20' });
  });

  it('a lead returns a resolved issue with /销号 退回', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u3', '/办结 #1 已修复，已告知群众');
    await chat.says('u4', '/销号 #1 退回');
    expect(chat.lastReply).toContain('退回时请写明理由。还差「理由」');
    await chat.says('u4', '/销号 #1 退回 群众反映仍有坑洼');
    expect(chat.lastReply).toContain('已退回 #1：群众反映仍有坑洼。问题重新转为「办理中」');
    expect(chat.directMessages[0].text).toContain('赵六 退回了您办结的问题 #1');
    expect(await issue()).toMatchObject({ state: 'in_progress', resolvedDate: null });
    expect((await audit()).at(-1)).toMatchObject({ action: 'reject', from: 'resolved', to: 'in_progress', note: '群众反映仍有坑洼' });
  });
});

describe('refusals', () => {
  it('unknown numbers and wrong states say what is possible', async () => {
    await chat.says('u3', '/进展 #99 已联系');
    expect(chat.lastReply).toContain('没有找到问题 #99');
    await chat.says('u2', ROAD);
    await chat.says('u4', '/销号 #1');
    expect(chat.lastReply).toContain('#1 当前状态为「登记」，需先 /办结 才能 /销号');
    await chat.says('u3', '/办结 #1 路修好了，已告知群众');
    await chat.says('u3', '/办结 #1 再办一次，已告知群众');
    expect(chat.lastReply).toContain('#1 当前状态为「已办结」，无需重复办结');
    await chat.says('u4', '/延期 #1 10天 理由');
    expect(chat.lastReply).toContain('已办结的问题不能延期');
    await chat.says('u2', '/进展 #1 我来看看');
    expect(chat.lastReply).toContain('只有责任人 李四 或「石门镇」的领导可以对 #1 使用 /进展');
  });

  it('staff cannot /销号', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u3', '/办结 #1 已修复，已电话告知群众');
    await chat.says('u3', '/销号 #1');
    expect(chat.lastReply).toBe('/销号 须由「石门镇」的领导操作，您不能对 #1 使用。请提醒领导发送，例如 /销号 #1');
    expect((await issue()).state).toBe('resolved');
  });

  it('a petition is extended once, by at most 30 days, and never without a reason', async () => {
    await chat.says('u3', PETITION);
    const before = await events();
    await chat.says('u1', '/延期 #1 15天');
    expect(chat.lastReply).toContain('延期须写明理由。还差「理由」');
    await chat.says('u1', '/延期 #1 31天 情况复杂');
    expect(chat.lastReply).toContain('#1 是信访件，延期不能超过30天，最晚到 2027年1月19日');
    await chat.says('u1', '/延期 #1 2027-01-25 情况复杂');
    expect(chat.lastReply).toContain('延期不能超过30天');
    await chat.says('u3', '/延期 #1 10天 情况复杂');
    expect(chat.lastReply).toContain('/延期 须由「东关社区」的领导操作');
    expect(await events()).toBe(before);
    await chat.says('u1', '/延期 #1 30天 情况复杂，需多部门会商');
    expect(chat.lastReply).toContain('已延期 #1：2026年12月20日 → 2027年1月19日');
    await chat.says('u1', '/延期 #1 5天 还需要时间');
    expect(chat.lastReply).toContain('#1 是信访件，只能延期一次');
    expect(await issue()).toMatchObject({ deadline: '2027-01-19', extensions: 1 });
  });

  it('other issues may be extended again, to a later date only', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u4', '/延期 #1 10天 等材料');
    await chat.says('u4', '/延期 #1 2027-01-20 再等材料');
    expect(chat.lastReply).toContain('2027年1月10日 → 2027年1月20日');
    await chat.says('u4', '/延期 #1 2026-12-01 提前');
    expect(chat.lastReply).toContain('不晚于当前时限');
    expect(await issue()).toMatchObject({ deadline: '2027-01-20', extensions: 2 });
  });

  it('resolving needs to say whether the citizen was answered', async () => {
    await chat.says('u2', ROAD);
    await chat.says('u3', '/办结 #1 路面已修复');
    expect(chat.lastReply).toContain('还要写明是否已答复群众');
    expect(chat.lastReply).toContain('回复「是」');
    expect((await issue()).state).toBe('open');
    await chat.says('u3', '/办结 #1 路面已修复，尚未告知群众');
    expect(chat.lastReply).toContain('尚未答复群众，请尽快答复');
    expect(await issue()).toMatchObject({ state: 'resolved', answered: false });
  });

  it('rating needs a resolved issue; escalation stops at the root unit', async () => {
    await chat.says('u1', '/民情 县城 公交线路不足 时限:12月31日');
    await chat.says('u1', '/评价 #1 满意');
    expect(chat.lastReply).toContain('#1 当前状态为「登记」，办结后才能评价；请先 /办结 #1 结果');
    await chat.says('u1', '/评价 #1 好');
    expect(chat.lastReply).toContain('#1 当前状态为「登记」');
    await chat.says('u1', '/上报 #1');
    expect(chat.lastReply).toContain('上报须写明理由');
    await chat.says('u1', '/上报 #1 需市里协调');
    expect(chat.lastReply).toContain('#1 已在最高一级单位「示范县」，无法再上报');
    expect((await issue()).state).toBe('open');
    expect(await events()).toBe(1);
  });
});
