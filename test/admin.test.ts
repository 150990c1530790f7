import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { makeEvent, type Attachment, type Mention } from '../bot/event.js';
import { createLogger } from '../bot/logger.js';
import { importRoster } from '../storage/roster.js';
import { accounts, cadres, chatGroups, units, visits } from '../storage/schema.js';
import { oneWhere, rowsWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => {
  chat = await Chat.demo();
  // Someone on the roster without any chat account yet.
  await importRoster(chat.db, [{ 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '', 账号: '' }], Date.now());
});
afterEach(async () => { await chat.close(); });

/** The name of the cadre an account (`platform:accountId`) is bound to. */
async function boundTo(account: string): Promise<string | undefined> {
  const i = account.indexOf(':');
  const a = await oneWhere(chat.db, accounts, { platform: account.slice(0, i), accountId: account.slice(i + 1) });
  return a && (await oneWhere(chat.db, cadres, { id: a.cadreId }))?.name;
}

/** The cadre who made each visit, by name. */
async function visitCadres(): Promise<Array<{ name: string | undefined }>> {
  const out = [];
  for (const v of await rowsWhere(chat.db, visits)) out.push({ name: (await oneWhere(chat.db, cadres, { id: v.cadreId }))?.name });
  return out;
}

/** The mapped groups with their unit's name. */
async function groupUnits(): Promise<Array<{ platform: string; chat: string; unit: string | undefined; committee: boolean }>> {
  const out = [];
  for (const g of await rowsWhere(chat.db, chatGroups)) {
    out.push({ platform: g.platform, chat: g.chatId, unit: (await oneWhere(chat.db, units, { id: g.unitId }))?.name, committee: g.committee });
  }
  return out;
}

/** A message with what the console cannot type: platform mentions and attachments. */
async function event(user: string, text: string, o: { platform?: string; mentions?: Mention[]; attachments?: Attachment[] } = {}) {
  chat.replies = await chat.app.handle(makeEvent({
    platform: o.platform ?? 'console', chatId: user, direct: true, senderId: user, at: new Date(chat.at), text,
    mentions: o.mentions, attachments: o.attachments,
  }, createLogger('silent')));
  return chat.replies;
}

describe('/绑定 by the cadre themselves', () => {
  it('binds the sender to the roster entry with that name and phone', async () => {
    await chat.says('u9', '/走访 今天 石门村 1天');
    expect(chat.lastReply).toContain('还没有绑定');
    await chat.says('u9', '/绑定 赵六 13800000004');
    expect(chat.lastReply).toBe('绑定成功：您的账号（console:u9）已绑定为 赵六（石门镇）。现在可以发送 /走访、/志愿、/我的 等命令；发送 /帮助 查看全部命令。');
    expect(await boundTo('console:u9')).toBe('赵六');
    expect(chat.directMessages).toEqual([]);
    await chat.says('u9', '/走访 今天 石门村 1天');
    expect(chat.lastReply).toContain('已记录走访');
    expect((await visitCadres())[0]).toEqual({ name: '赵六' });
  });

  it('accepts the phone with spaces in any order, and warns the accounts already bound to that cadre', async () => {
    await chat.says('u9', '/绑定 138 0000 0002 张三');
    expect(chat.lastReply).toContain('看不懂');
    await chat.says('u9', '/绑定 13800000002 张三');
    expect(chat.lastReply).toContain('已绑定为 张三（石门镇）');
    expect(await boundTo('console:u9')).toBe('张三');
    expect(chat.directMessages).toEqual([{
      to: 'user', target: 'u2', platform: 'console',
      text: '提醒：您在名册中的身份（张三）刚刚绑定了新账号 console:u9。如果不是您本人操作，请立即联系管理员，由管理员发送 /绑定 解除 console:u9。',
    }]);
  });

  it('says which of name and phone did not match, revealing nobody else', async () => {
    await chat.says('u9', '/绑定 赵六 13800000009');
    expect(chat.lastReply).toContain('手机号不符：名册中「赵六」登记的手机号不是 138****0009');
    expect(chat.lastReply).not.toContain('0004');

    await chat.says('u9', '/绑定 赵七 13800000004');
    expect(chat.lastReply).toContain('姓名不符：名册中这个手机号登记的不是「赵七」');
    expect(chat.lastReply).not.toContain('赵六');

    await chat.says('u9', '/绑定 钱八 13800000099');
    expect(chat.lastReply).toContain('名册中既没有「钱八」，也没有手机号 138****0099');
    expect(chat.lastReply).toContain('联系管理员导入名册');

    await chat.says('u9', '/绑定 赵六');
    expect(chat.lastReply).toContain('请写您在干部名册中的姓名和手机号，例如 /绑定 张三 13800001111');

    await chat.says('u9', '/绑定 赵六 1380000');
    expect(chat.lastReply).toContain('看不懂');
    expect(await boundTo('console:u9')).toBeUndefined();
    expect(await chat.count('accounts')).toBe(3);
  });

  it('refuses an account already bound to someone else, and says so when it is the same person', async () => {
    await chat.says('u2', '/绑定 李四 13800000003');
    expect(chat.lastReply).toBe('您的账号（console:u2）已绑定为「张三」，不能再绑定到其他人。如需更换，请联系管理员发送 /绑定 解除 console:u2 后重新绑定。');
    // A bound account cannot probe the roster either.
    await chat.says('u2', '/绑定 无名 13800000099');
    expect(chat.lastReply).toContain('已绑定为「张三」');
    expect(await boundTo('console:u2')).toBe('张三');
    await chat.says('u2', '/绑定 张三 13800000002');
    expect(chat.lastReply).toBe('您的账号已绑定为 张三（石门镇），无需重复绑定。发送 /帮助 查看可用的命令。');
  });

  it('in a group, never shows the phone and suggests a direct chat', async () => {
    await chat.says('u9', '/绑定 赵六 13800000009', { group: true });
    expect(chat.lastReply).toContain('138****0009');
    expect(chat.lastReply).not.toMatch(/13800000009/);
    await chat.says('u9', '/绑定 赵六 13800000004', { group: true });
    expect(chat.lastReply).toContain('已绑定为 赵六（石门镇）');
    expect(chat.lastReply).toContain('今后请在与我的私聊中绑定');
  });
});

describe('/绑定 by an administrator', () => {
  it('binds another account by name, by name and phone, and through a platform mention', async () => {
    await chat.says('u1', '/绑定 @李四 账号:feishu:ou_abc');
    expect(chat.lastReply).toBe('已将账号 feishu:ou_abc 绑定到 李四（东关社区）。');
    expect(await boundTo('feishu:ou_abc')).toBe('李四');

    await chat.says('u1', '/绑定 李四 13800000003 账号:console:u9');
    expect(chat.lastReply).toBe('已将账号 console:u9 绑定到 李四（东关社区）。');
    await chat.says('u9', '/走访 今天 东关社区 2小时');
    expect(chat.lastReply).toContain('已记录走访');

    await chat.says('u1', '/绑定 赵六 账号:console:u9');
    expect(chat.lastReply).toBe('已将账号 console:u9 绑定到 赵六（石门镇）。（原先绑定的是 李四，已改绑。）');
    expect(await boundTo('console:u9')).toBe('赵六');

    await event('ou_admin', '/绑定 @赵六', { platform: 'feishu', mentions: [{ accountId: 'ou_zhao', name: '赵六' }] });
    expect(chat.lastReply).toContain('只有管理员可以为他人绑定账号');
    await chat.says('u1', '/绑定 王强 13800000001 账号:feishu:ou_admin');
    await event('ou_admin', '/绑定 @赵六', { platform: 'feishu', mentions: [{ accountId: 'ou_zhao', name: '赵六' }] });
    expect(chat.lastReply).toBe('已将账号 feishu:ou_zhao 绑定到 赵六（石门镇）。');
  });

  it('refuses a name and phone that do not belong together, an unknown name and a bad account', async () => {
    await chat.says('u1', '/绑定 李四 13800000002 账号:console:u9');
    expect(chat.lastReply).toContain('手机号 138****0002 在名册中登记的是「张三」，不是「李四」');
    await chat.says('u1', '/绑定 无名 账号:console:u9');
    expect(chat.lastReply).toContain('名册中没有「无名」');
    await chat.says('u1', '/绑定 李四 账号:u9');
    expect(chat.lastReply).toContain('不是账号（应为 平台:账号');
    await chat.says('u1', '/绑定 账号:console:u9');
    expect(chat.lastReply).toContain('请写要绑定的干部姓名');
    expect(await boundTo('console:u9')).toBeUndefined();
  });

  it('asks for the phone when two cadres share the name', async () => {
    await importRoster(chat.db, [{ 姓名: '李四', 手机: '13800000005', 单位: '石门镇', 上级单位: '', 职级: '', 驻村: '', 账号: '' }], Date.now());
    await chat.says('u1', '/绑定 李四 账号:console:u9');
    expect(chat.lastReply).toContain('名册中有 2 位「李四」，请加上手机号区分');
    await chat.says('u1', '/绑定 李四 13800000005 账号:console:u9');
    expect(chat.lastReply).toBe('已将账号 console:u9 绑定到 李四（石门镇）。');
  });

  it('unbinds an account; a cadre may unbind only their own', async () => {
    await chat.says('u1', '/绑定 李四 账号:console:u9');
    await chat.says('u3', '/绑定 解除 console:u9');
    expect(chat.lastReply).toContain('只有管理员可以解除他人的账号绑定');
    expect(await boundTo('console:u9')).toBe('李四');

    await chat.says('u1', '/绑定 解除 console:u9');
    expect(chat.lastReply).toBe('已解除账号 console:u9 与 李四（东关社区）的绑定。该干部的记录全部保留。');
    expect(await boundTo('console:u9')).toBeUndefined();
    expect(await boundTo('console:u3')).toBe('李四');
    await chat.says('u9', '/走访 今天 东关社区 2小时');
    expect(chat.lastReply).toContain('还没有绑定');

    await chat.says('u1', '/绑定 解除 console:u9');
    expect(chat.lastReply).toContain('账号 console:u9 没有绑定任何干部');

    await chat.says('u3', '/绑定 解除');
    expect(chat.lastReply).toContain('已解除账号 console:u3 与 李四（东关社区）的绑定');
    expect(await chat.count('cadres', { name: '李四' })).toBe(1);
  });

  it('rebinds an admin’s own account to someone else', async () => {
    await chat.says('u2', '/绑定 解除');
    await chat.says('u1', '/绑定 张三 13800000002 账号:console:u2');
    expect(chat.lastReply).toBe('已将账号 console:u2 绑定到 张三（石门镇）。');
  });
});

describe('/单位', () => {
  it('is refused to a cadre who is not an administrator', async () => {
    await chat.says('u2', '/单位 列表', { group: true });
    expect(chat.lastReply).toBe('/单位 只有管理员可以使用。如需操作，请联系管理员。');
    await chat.says('u2', '/单位 石门镇', { group: true });
    expect(chat.lastReply).toContain('只有管理员可以使用');
    expect(await chat.count('chatGroups')).toBe(0);
  });

  it('maps a group to a unit, and the group then stands for that unit', async () => {
    await chat.says('u1', '/单位', { group: 'g7' });
    expect(chat.lastReply).toContain('本群还没有对应单位');
    await chat.says('u1', '/单位 石门镇', { group: 'g7' });
    expect(chat.lastReply).toBe('已将本群对应到单位「石门镇」：群内的 /统计、/台账 等默认查看该单位。');
    expect(await groupUnits()).toEqual([{ platform: 'console', chat: 'g7', unit: '石门镇', committee: false }]);
    await chat.says('u1', '/单位', { group: 'g7' });
    expect(chat.lastReply).toContain('本群对应单位：石门镇（上级：示范县）。');
    await chat.says('u1', '/单位 列表', { group: 'g7' });
    expect(chat.lastReply).toContain('  石门镇（2人） ← 本群');
    await chat.says('u1', '/单位', { group: 'g8' });
    expect(chat.lastReply).toContain('本群还没有对应单位');
  });

  it('marks and unmarks the committee group', async () => {
    await chat.says('u1', '/单位 示范县 委员会', { group: 'g9' });
    expect(chat.lastReply).toContain('本群同时设为委员会群');
    expect((await oneWhere(chat.db, chatGroups))?.committee).toBe(true);
    await chat.says('u1', '/unit', { group: 'g9' });
    expect(chat.lastReply).toContain('本群是委员会群');
    await chat.says('u1', '/单位 示范县', { group: 'g9' });
    expect(chat.lastReply).toContain('本群不再是委员会群');
    expect((await oneWhere(chat.db, chatGroups))?.committee).toBe(false);
  });

  it('refuses to map a direct chat and explains why', async () => {
    await chat.says('u1', '/单位 石门镇');
    expect(chat.lastReply).toContain('私聊不能设置群对应的单位：请到要设置的群里发送 /单位 单位名称');
    expect(await chat.count('chatGroups')).toBe(0);
  });

  it('names the closest units when the name is unknown', async () => {
    await chat.says('u1', '/单位 石门', { group: true });
    expect(chat.lastReply).toContain('没有名为「石门」的单位。最接近的是：石门镇、');
    expect(chat.lastReply).toContain('发送 /单位 列表 查看全部单位');
  });

  it('lists the unit tree, indented', async () => {
    await chat.says('u1', '/单位 列表');
    expect(chat.lastReply).toBe('单位（共3个）：\n示范县（1人）\n  石门镇（2人）\n  东关社区（1人）');
  });

  it('creates a unit under a parent', async () => {
    await chat.says('u1', '/单位 新建 石门村 上级:石门镇');
    expect(chat.lastReply).toContain('已新建单位「石门村」，上级为「石门镇」');
    await chat.says('u1', '/单位 列表');
    expect(chat.lastReply).toBe('单位（共4个）：\n示范县（1人）\n  石门镇（2人）\n    石门村（0人）\n  东关社区（1人）');
    await chat.says('u1', '/单位 新建 石门村 上级:石门镇');
    expect(chat.lastReply).toContain('单位「石门村」已存在（上级：石门镇），无需新建');
    await chat.says('u1', '/单位 新建 孤岛村');
    expect(chat.lastReply).toContain('请写「孤岛村」的上级单位，例如 /单位 新建 孤岛村 上级:示范县');
    await chat.says('u1', '/单位 新建 西关村 上级:西关');
    expect(chat.lastReply).toContain('没有名为「西关」的单位');
    expect(await chat.count('units')).toBe(4);
  });

  it('refuses a second unit name outside 新建', async () => {
    await chat.says('u1', '/单位 石门镇 东关社区', { group: true });
    expect(chat.lastReply).toContain('看不懂「东关社区」：设置本群对应的单位只写一个单位名称，例如 /单位 石门镇');
    expect(await chat.count('chatGroups')).toBe(0);
  });
});

describe('/导入', () => {
  it('is refused to a cadre who is not an administrator', async () => {
    await chat.says('u3', '/导入');
    expect(chat.lastReply).toBe('/导入 只有管理员可以使用。如需操作，请联系管理员。');
  });

  it('tells the administrator the command line, the columns and an example row', async () => {
    await chat.says('u1', '/导入');
    expect(chat.lastReply).toContain('npx minqing import 名册.csv');
    expect(chat.lastReply).toContain('第1行为列名：姓名、手机、单位、上级单位、职级、驻村、账号');
    expect(chat.lastReply).toContain('张三,13800000002,石门镇,示范县,一般,是,console:u2');
  });

  const roster = '姓名,手机,单位,上级单位,职级,驻村,账号\n王五,13800000009,石门镇,示范县,一般,是,console:u9\n赵六,1380000,石门镇,示范县,一般,,\n';

  it('imports the file an administrator sends after /导入 and answers with the row report', async () => {
    const fetched: string[] = [];
    chat.app.deps.fetchAttachment = async (_p, _m, a) => { fetched.push(a.key); return Buffer.from(roster); };
    await chat.says('u1', '/导入');
    expect(chat.lastReply).toContain('请在 10 分钟内把名册文件');
    expect(chat.lastReply).not.toContain('即将提供');
    await event('u1', '', { attachments: [{ kind: 'file', key: 'file_v2_abc', name: '干部名册.csv' }] });
    expect(fetched).toEqual(['file_v2_abc']);
    expect(chat.lastReply).toContain('导入完成：新增 1 人');
    expect(chat.lastReply).toContain('第3行');
    expect(await chat.count('cadres')).toBe(5);
    // Without a /导入 before it, a file is not a roster (here: no record to attach it to).
    await event('u1', '', { attachments: [{ kind: 'file', key: 'file_v2_def', name: '干部名册.csv' }] });
    expect(chat.lastReply).not.toContain('导入完成');
    expect(fetched).toHaveLength(1);
  });

  it('imports a file that comes with /导入; refuses other kinds of file and a cadre who is not an administrator', async () => {
    chat.app.deps.fetchAttachment = async () => Buffer.from(roster);
    await event('u1', '/导入', { attachments: [{ kind: 'file', key: 'f1', name: '名册.csv' }] });
    expect(chat.lastReply).toContain('导入完成：新增 1 人');
    await event('u1', '/导入', { attachments: [{ kind: 'file', key: 'f2', name: '名册.docx' }] });
    expect(chat.lastReply).toContain('不是 .xlsx 或 .csv 文件');
    await event('u3', '/导入', { attachments: [{ kind: 'file', key: 'f3', name: '名册.csv' }] });
    expect(chat.lastReply).toBe('/导入 只有管理员可以使用。如需操作，请联系管理员。');
    expect(await chat.count('cadres')).toBe(5);
  });
});
