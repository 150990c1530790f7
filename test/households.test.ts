/**
 * Citizens' data kept to those who need it (docs/rules.md#households-access): a contact household is seen by the
 * cadre looking after it and the leads of its unit; another cadre cannot look it up or take it
 * over by name and phone; a transfer is a lead's act, with an audit row.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importRoster } from '../storage/roster.js';
import { Chat } from './chat.js';
import { cadres, householdTransfers, households } from '../storage/schema.js';
import { oneWhere, rowsWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => {
  chat = await Chat.demo();
  // Two more in 石门镇: a colleague of 张三 (u2) and the town's own leader (not an administrator).
  await importRoster(chat.db, [
    { 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '', 账号: 'console:u4' },
    { 姓名: '孙敏', 手机: '13800000005', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u5' },
  ], new Date(chat.at).getTime());
});
afterEach(async () => { await chat.close(); });

const nameOf = async (cadreId: number | null) => (cadreId === null ? undefined : (await oneWhere(chat.db, cadres, { id: cadreId }))?.name);
/** The name of the cadre looking after household `id`. */
const holder = async (id: number) => nameOf((await oneWhere(chat.db, households, { id }))?.cadreId ?? null);
const household = async (id: number) => (await oneWhere(chat.db, households, { id }))!;

async function registered(): Promise<void> {
  await chat.says('u2', '/联系户 王大爷 13912345678 人口:4 收入:务农 困难:就医难 地点:石门村');
  expect(chat.lastReply).toContain('已登记联系户 #1');
}

describe('a household registered by one cadre', () => {
  it('cannot be looked up or taken over by a colleague who types its name and phone', async () => {
    await registered();
    await chat.says('u4', '/联系户 王大爷 13912345678 意见:希望修路');
    expect(chat.lastReply).toBe('本单位户主「王大爷」、电话相同的联系户由其他干部联系，您不能查看或更改。如需改由您联系，请本单位领导发送 /联系户 转交 #编号 @您的姓名。');
    for (const leaked of ['4口人', '务农', '就医难', '石门村', '张三', '#1']) expect(chat.lastReply).not.toContain(leaked);
    expect(await holder(1)).toBe('张三');
    expect((await household(1)).opinions).toBeNull();
    await chat.says('u4', '/联系户');
    expect(chat.lastReply).toContain('您还没有登记联系户');
  });

  it('is not offered to a colleague by name alone: theirs is a household of their own', async () => {
    await registered();
    await chat.says('u4', '/联系户 王大爷 人口:2');
    expect(chat.lastReply).toBe('已登记联系户 #2：王大爷，2口人。');
    expect(chat.lastReply).not.toContain('13912345678');
    await chat.says('u4', '/联系户 王大爷 意见:希望修路');
    expect(chat.lastReply).toContain('已更新联系户 #2');
    expect(await holder(1)).toBe('张三');
    expect((await household(1)).size).toBe(4);
  });

  it('is updated by a lead of its unit without changing who looks after it', async () => {
    await registered();
    await chat.says('u5', '/联系户 王大爷 13912345678 意见:路已修好');
    expect(chat.lastReply).toContain('已更新联系户 #1：王大爷，电话 13912345678，4口人，经济来源：务农，困难：就医难，意见：路已修好，石门村');
    expect(await holder(1)).toBe('张三');
  });

  it('is exported in the 民情记录表 only to its own cadre and the unit\'s leads', async () => {
    await registered();
    await chat.says('u4', '/联系户 李奶奶 13700002222');
    await chat.says('u4', '/导出 民情表 csv');
    const mine = readFileSync(chat.replies[0].file!, 'utf8');
    expect(mine).toContain('李奶奶');
    expect(mine).not.toContain('王大爷');
    await chat.says('u5', '/导出 民情表 csv');
    const lead = readFileSync(chat.replies[0].file!, 'utf8');
    expect(lead).toContain('李奶奶');
    expect(lead).toContain('王大爷');
  });
});

describe('/联系户 转交', () => {
  it('is a lead\'s act: the household moves, both cadres are told, and an audit row says who decided', async () => {
    await registered();
    await chat.says('u4', '/联系户 转交 #1 @赵六');
    expect(chat.lastReply).toBe('没有您可以查看的联系户 #1。发送 /联系户 查看您联系的户。');
    await chat.says('u2', '/联系户 转交 #1 @赵六');
    expect(chat.lastReply).toBe('联系户 #1 属于石门镇，只有石门镇（或上级单位）的领导可以转交。');
    expect(await chat.count('householdTransfers')).toBe(0);

    await chat.says('u5', '/联系户 转交 #1 @赵六');
    expect(chat.lastReply).toBe('已将联系户 #1 王大爷 由 张三 转交给 赵六 联系（已记录转交人和时间）。');
    expect(chat.directMessages.map((r) => [r.target, r.text])).toEqual([
      ['u4', '孙敏 将联系户 #1 王大爷 13912345678 转交给您联系。发送 /联系户 查看您联系的户。'],
      ['u2', '孙敏 将您联系的联系户 #1 王大爷 转交给 赵六 联系。'],
    ]);
    expect(await holder(1)).toBe('赵六');
    const transfers = [];
    for (const x of await rowsWhere(chat.db, householdTransfers)) {
      transfers.push({ from_: await nameOf(x.fromCadreId), to_: await nameOf(x.toCadreId), by_: await nameOf(x.byCadreId), at: x.at });
    }
    expect(transfers).toEqual([{ from_: '张三', to_: '赵六', by_: '孙敏', at: new Date(chat.at).getTime() }]);

    // Now the former cadre is the one kept out, and the new one may update it.
    await chat.says('u2', '/联系户 王大爷 13912345678 意见:希望修路');
    expect(chat.lastReply).toContain('由其他干部联系，您不能查看或更改');
    await chat.says('u4', '/联系户 王大爷 13912345678 意见:希望修路');
    expect(chat.lastReply).toContain('已更新联系户 #1');
    await chat.says('u4', '/联系户');
    expect(chat.lastReply).toContain('我的联系户（共 1 户）');
  });

  it('refuses a cadre outside the unit, the same cadre, and a transfer without both parts', async () => {
    await registered();
    await chat.says('u5', '/联系户 转交 #1 @李四');
    expect(chat.lastReply).toBe('李四 不属于石门镇或其下级单位，不能接收本单位的联系户。');
    await chat.says('u5', '/联系户 转交 #1 @张三');
    expect(chat.lastReply).toBe('联系户 #1 已由 张三 联系，无需转交。');
    await chat.says('u5', '/联系户 转交 #1');
    expect(chat.lastReply).toBe('转交联系户：/联系户 转交 #编号 @干部，例如 /联系户 转交 #12 @李四（由本单位领导操作）。');
    await chat.says('u5', '/联系户 转交 #9 @赵六');
    expect(chat.lastReply).toContain('没有您可以查看的联系户 #9');
    expect(await chat.count('householdTransfers')).toBe(0);
    expect(await holder(1)).toBe('张三');
  });
});
