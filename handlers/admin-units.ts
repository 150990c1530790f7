/**
 * /单位: which unit a group chat stands for (its members' /统计 and /台账 default to it), the
 * committee group that receives digests, the unit tree, and new units.
 *
 * Decisions: `/单位 名称` without 委员会 clears the committee flag (the command states the whole
 * mapping, and the reply says when the flag went away); a new unit needs a parent once any unit
 * exists, so a forgotten 上级 cannot start a second tree.
 */
import { distance } from 'fastest-levenshtein';
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, optional, textArg, withKeys, unitNameArg } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { normalize } from '../bot/normalize.js';
import { chatGroupOf, mapChat } from '../storage/identity.js';
import { cadreCountsByUnit } from '../storage/roster.js';
import { allUnits, ensureUnit, parentOf, rootUnits, unitById, unitByName } from '../storage/units.js';
import type { Unit } from '../storage/types.js';

const T = {
  directMap: '私聊不能设置群对应的单位：请到要设置的群里发送 /单位 单位名称，例如 /单位 石门镇。发送 /单位 列表 查看全部单位。',
  directShow: '这是私聊，不对应任何单位。在群里发送 /单位 单位名称 可把该群对应到单位，例如 /单位 石门镇；/单位 列表 查看全部单位；/单位 新建 石门村 上级:石门镇 新建单位。',
  shown: (unit: string, parent: string | undefined, committee: boolean) =>
    `本群对应单位：${unit}${parent ? `（上级：${parent}）` : ''}。${committee ? '本群是委员会群，接收每周汇总和督办通知。' : ''}\n更改请发送 /单位 单位名称，例如 /单位 ${unit}${committee ? ' 委员会' : ''}`,
  unmapped: '本群还没有对应单位。请发送 /单位 单位名称 设置，例如 /单位 石门镇；设为接收汇总的委员会群：/单位 示范县 委员会。',
  mapped: (unit: string) => `已将本群对应到单位「${unit}」：群内的 /统计、/台账 等默认查看该单位。`,
  committeeOn: '本群同时设为委员会群：每周汇总和超期督办通知将发到本群。',
  committeeOff: '本群不再是委员会群（如需保留，请发送 /单位 单位名称 委员会）。',
  unknown: (name: string, near: string[]) =>
    `没有名为「${name}」的单位。${near.length ? `最接近的是：${near.join('、')}。` : ''}请写单位全称，例如 /单位 ${near[0] ?? '石门镇'}；发送 /单位 列表 查看全部单位。`,
  listTitle: (n: number) => `单位（共${n}个）：`,
  people: (n: number) => `（${n}人）`,
  here: ' ← 本群',
  noUnits: '还没有任何单位。请先导入名册（发送 /导入 查看方法），或发送 /单位 新建 示范县。',
  createNeedsName: '请写新单位的名称，例如 /单位 新建 石门村 上级:石门镇',
  createNeedsParent: (name: string, root: string) => `请写「${name}」的上级单位，例如 /单位 新建 ${name} 上级:${root}`,
  createWithFlag: '新建单位时不能同时设委员会群：请先新建，再在群里发送 /单位 单位名称 委员会。',
  exists: (name: string, parent?: string) => `单位「${name}」已存在${parent ? `（上级：${parent}）` : ''}，无需新建。`,
  created: (name: string, parent?: string) => `已新建单位「${name}」${parent ? `，上级为「${parent}」` : '（最上级单位）'}。在群里发送 /单位 ${name} 可把该群对应到它。`,
  parentOnlyOnCreate: (extra: string) =>
    `看不懂「${extra}」：设置本群对应的单位只写一个单位名称，例如 /单位 石门镇；上级单位只在新建时写，例如 /单位 新建 石门村 上级:石门镇`,
  listTakesNoName: '/单位 列表 不需要其他参数。查看某群对应的单位，请在该群发送 /单位。',
  committeeNeedsUnit: '请写委员会群对应的单位，例如 /单位 示范县 委员会',
};

/** Up to five unit names nearest to what was typed: containing it first, then by edit distance. */
export function closestUnitNames(units: Unit[], name: string, n = 5): string[] {
  const key = normalize(name);
  return units
    .map((u) => {
      const k = normalize(u.name);
      return { name: u.name, contains: k.includes(key) || key.includes(k) ? 0 : 1, d: distance(k, key) };
    })
    .sort((a, b) => a.contains - b.contains || a.d - b.d)
    .slice(0, n)
    .map((x) => x.name);
}

async function findUnit(ctx: Ctx, name: string): Promise<Unit> {
  const u = await unitByName(ctx.db, name.trim());
  if (u) return u;
  throw new UserError(T.unknown(name, closestUnitNames(await allUnits(ctx.db), name)));
}

/** The unit tree, indented two spaces a level, each with its own head count. */
async function unitTree(ctx: Ctx): Promise<string> {
  const units = await allUnits(ctx.db);
  if (!units.length) return T.noUnits;
  const counts = await cadreCountsByUnit(ctx.db);
  const here = ctx.event.direct ? undefined : ctx.chatUnit?.id;
  const children = new Map<number | null, Unit[]>();
  const ids = new Set(units.map((u) => u.id));
  for (const u of [...units].sort((a, b) => a.id - b.id)) {
    const p = u.parentId !== null && ids.has(u.parentId) ? u.parentId : null;
    children.set(p, [...(children.get(p) ?? []), u]);
  }
  const lines = [T.listTitle(units.length)];
  const walk = (parent: number | null, depth: number) => {
    for (const u of children.get(parent) ?? []) {
      lines.push(`${'  '.repeat(depth)}${u.name}${T.people(counts.get(u.id) ?? 0)}${u.id === here ? T.here : ''}`);
      walk(u.id, depth + 1);
    }
  };
  walk(null, 0);
  return lines.join('\n');
}

async function showMapping(ctx: Ctx): Promise<string> {
  if (ctx.event.direct) return T.directShow;
  const m = await chatGroupOf(ctx.db, ctx.event.platform, ctx.event.chatId);
  const unit = m && (await unitById(ctx.db, m.unitId));
  if (!m || !unit) return T.unmapped;
  return T.shown(unit.name, (await parentOf(ctx.db, unit))?.name, !!m.committee);
}

async function createUnit(ctx: Ctx, name: string | undefined, parentName: string | undefined): Promise<string> {
  if (!name) throw new UserError(T.createNeedsName);
  const existing = await unitByName(ctx.db, name.trim());
  if (existing) throw new UserError(T.exists(existing.name, (await parentOf(ctx.db, existing))?.name));
  const roots = await rootUnits(ctx.db);
  if (!parentName && roots.length) throw new UserError(T.createNeedsParent(name, roots[0].name));
  const parent = parentName ? await findUnit(ctx, parentName) : undefined;
  const u = await ensureUnit(ctx.db, name.trim(), parent, ctx.now.getTime());
  return T.created(u.name, parent?.name);
}

export const unitCommand = defineCommand({
  name: '单位', aliases: ['unit'], group: 'admin', mode: 'write', adminOnly: true,
  summary: '查看或设置本群对应的单位；单位列表；新建单位',
  args: {
    action: optional(choiceArg('操作', {
      列表: 'list', 列出: 'list', 全部: 'list', list: 'list',
      新建: 'create', 创建: 'create', 新增: 'create', 添加: 'create', create: 'create', new: 'create', add: 'create',
    }, '操作：列表、新建')),
    committee: optional(choiceArg('委员会', { 委员会: 'yes', 委员会群: 'yes', 领导小组: 'yes', committee: 'yes' },
      '写“委员会”把本群设为接收每周汇总的委员会群')),
    name: optional(unitNameArg()),
    parent: optional(withKeys(textArg('上级', 60, '上级单位名称，如 示范县（只在新建时用）'), '上级单位', 'parent')),
  },
  examples: ['/单位 石门镇', '/单位', '/单位 示范县 委员会', '/单位 列表', '/单位 新建 石门村 上级:石门镇'],
  notes: ['在群里发送：/单位 查看本群对应的单位，/单位 单位名称 设置。群成员的 /统计、/台账 默认查看该单位。', '委员会群接收每周汇总和超期督办通知。'],
  async handle(ctx, a) {
    if (a.action === 'list') {
      if (a.name || a.parent || a.committee) throw new UserError(T.listTakesNoName);
      return unitTree(ctx);
    }
    if (a.action === 'create') {
      if (a.committee) throw new UserError(T.createWithFlag);
      return createUnit(ctx, a.name, a.parent);
    }
    if (a.parent) throw new UserError(T.parentOnlyOnCreate(a.parent));
    if (!a.name) {
      if (a.committee) throw new UserError(ctx.event.direct ? T.directMap : T.committeeNeedsUnit);
      return showMapping(ctx);
    }
    if (ctx.event.direct) throw new UserError(T.directMap);
    const unit = await findUnit(ctx, a.name);
    const before = await chatGroupOf(ctx.db, ctx.event.platform, ctx.event.chatId);
    const committee = a.committee === 'yes';
    await mapChat(ctx.db, ctx.event.platform, ctx.event.chatId, unit.id, committee, ctx.now.getTime());
    const lines = [T.mapped(unit.name)];
    if (committee) lines.push(T.committeeOn);
    else if (before?.committee) lines.push(T.committeeOff);
    return lines.join('\n');
  },
});
