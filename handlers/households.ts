/**
 * /联系户: registers or updates a contact household of the 民情记录表 (《文旅局“联户联情”工作方案》, docs/rules.md#households: 姓名、电话、
 * 家庭人口数、经济来源、存在困难、群众意见), or lists mine. The export is /导出 民情表.
 *
 * Decisions: a household belongs to the group's unit, else the sender's; the sender becomes the
 * cadre looking after it. The same head's name in the same unit is the same household unless the
 * phone numbers differ (namesakes); an update changes only the fields written. 地点 is the
 * household's village or community: it becomes a contact point of the unit (created on first
 * use), so the 空间全覆盖 check knows the place. Phone numbers in replies are masked in groups by
 * the router, shown in full in a direct chat.
 *
 * Citizens' data kept to those who need it (docs/rules.md#households-access): a household is seen only by the
 * cadre looking after it and the leads of its unit. Another cadre who types the same name and
 * phone learns only that a colleague looks after it — no field of it — and cannot update or take
 * it; namesakes they cannot see are not offered to them either. Who looks after a household
 * changes only by a lead's `/联系户 转交 #12 @李四`, with a row in household_transfers.
 */
import { z } from 'zod';
import { defineCommand, type Ctx } from '../bot/command.js';
import { cadreRefArg, choiceArg, customArg, optional, textArg, withKeys, type ArgDef } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { maskPhones, toCadre, toChat, type Reply } from '../bot/reply.js';
import {
  contactPointById, ensureContactPoint, householdById, householdsByHead, householdsOfCadre, insertHousehold, transferHousehold, updateHousehold,
  type Household, type HouseholdFields, type HouseholdRow,
} from '../storage/households.js';
import { cadreById } from '../storage/identity.js';
import { unitById } from '../storage/units.js';
import type { Cadre } from '../storage/types.js';
import { leads, nameHere, namesHere, resolveCadre, unitOf, type CadreRefTexts } from './policy.js';

const LIST_CAP = 30;
const EXAMPLE = '/联系户 王大爷 13912345678 人口:4 收入:务农 困难:就医难 意见:希望修路 地点:石门村';

const T = {
  saved: (h: Household, place: string | null, created: boolean) =>
    `${created ? '已登记' : '已更新'}联系户 #${h.id}：${describe(h, place)}。`,
  issueHint: '群众反映的问题可用 /民情 登记进台账，例如 /民情 石门村 王大爷反映就医难 类别:医疗 时限:30天',
  listTitle: (n: number) => `我的联系户（共 ${n} 户）：`,
  listMore: (n: number) => `…共 ${n} 户，仅列前 ${LIST_CAP} 户；完整的民情记录表请发送 /导出 民情表`,
  none: `您还没有登记联系户。登记：${EXAMPLE}`,
  needName: `请先写户主姓名，例如 ${EXAMPLE}`,
  nameIsPhone: (s: string) => `「${maskPhones(s)}」像是电话号码，不是姓名。请先写户主姓名，例如 ${EXAMPLE}`,
  heldByOther: (name: string) =>
    `本单位户主「${name}」、电话相同的联系户由其他干部联系，您不能查看或更改。如需改由您联系，请本单位领导发送 /联系户 转交 #编号 @您的姓名。`,
  transferHow: '转交联系户：/联系户 转交 #编号 @干部，例如 /联系户 转交 #12 @李四（由本单位领导操作）。',
  notFound: (id: number) => `没有您可以查看的联系户 #${id}。发送 /联系户 查看您联系的户。`,
  notLead: (id: number, unit: string) => `联系户 #${id} 属于${unit}，只有${unit}（或上级单位）的领导可以转交。`,
  noCadre: (ref: string) => `名册中没有「${ref}」。请写名册中的姓名，例如 /联系户 转交 #12 @李四；同名时写 @李四（石门镇）`,
  manyCadres: (ref: string, opts: string[]) => `名册中有 ${opts.length} 位「${ref}」：${opts.join('、')}。请写明单位，例如 /联系户 转交 #12 @${opts[0]}`,
  manyCadresHidden: '名册中有多位同名干部，群内不显示干部姓名和单位。请改写其 11 位手机号，例如 /联系户 转交 #12 @手机号，或私聊我转交。',
  notActive: (name: string) => `${name} 不在名册中或已停用，不能接收联系户。`,
  sameCadre: (id: number, name: string) => `联系户 #${id} 已由 ${name} 联系，无需转交。`,
  otherUnit: (name: string, unit: string) => `${name} 不属于${unit}或其下级单位，不能接收本单位的联系户。`,
  transferred: (h: Household, from: string | null, to: string) =>
    `已将联系户 #${h.id} ${h.headName} ${from ? `由 ${from} ` : ''}转交给 ${to} 联系（已记录转交人和时间）。`,
  transferredHidden: (h: Household) =>
    `已转交联系户 #${h.id} ${h.headName}（已记录转交人和时间）。群内不显示干部姓名，新、原联系干部已收到私信通知。`,
  toNew: (h: Household, by: string) => `${by} 将联系户 #${h.id} ${h.headName}${h.phone ? ` ${h.phone}` : ''} 转交给您联系。发送 /联系户 查看您联系的户。`,
  toOld: (h: Household, by: string, to: string) => `${by} 将您联系的联系户 #${h.id} ${h.headName} 转交给 ${to} 联系。`,
  ambiguous: (name: string, xs: HouseholdRow[] | Household[]) =>
    `本单位有 ${xs.length} 户户主叫「${name}」：${xs.map((h) => `#${h.id}${h.phone ? ' ' + h.phone : ''}`).join('、')}。请写上电话以区分，例如 /联系户 ${name} 13912345678 意见:希望修路`,
};

function describe(h: Household, place: string | null): string {
  return [
    h.headName,
    h.phone && `电话 ${h.phone}`,
    h.size != null && `${h.size}口人`,
    h.incomeSource && `经济来源：${h.incomeSource}`,
    h.difficulties && `困难：${h.difficulties}`,
    h.opinions && `意见：${h.opinions}`,
    place,
  ].filter(Boolean).join('，');
}

const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;
const phoneArg: ArgDef<string> = {
  label: '电话', keys: ['手机', '联系电话', '电话号码', 'phone'], optional: false,
  hint: '电话，如 13912345678 或 0715-1234567',
  match: (t) => PHONE.test(t.normalize('NFKC').replace(/\s/g, '')),
  read: (s) => { const v = s.normalize('NFKC').replace(/[\s]/g, '').replace(/^\+?86-?/, ''); return PHONE.test(v) ? v : null; },
  bad: (s) => `「${s}」不是电话号码（如 13912345678 或 0715-1234567）`,
};

const SIZE = /^(\d{1,2})(口人|口|人)?$/;
const sizeArg: ArgDef<number> = {
  label: '人口', keys: ['家庭人口', '家庭人口数', '人口数', '人数', 'size'], optional: false,
  hint: '家庭人口数，如 人口:4 或 4口人',
  match: (t) => /^\d{1,2}(口人|口|人)$/.test(t.normalize('NFKC')),
  read: (s) => { const m = SIZE.exec(s.normalize('NFKC').trim()); const n = m ? Number(m[1]) : NaN; return n >= 1 && n <= 50 ? n : null; },
  bad: (s) => `「${s}」不是家庭人口数（1–50，如 人口:4）`,
};
/** Only as `键:值`: free words of a message must not land in these. */
const keyed = <V>(a: ArgDef<V>): ArgDef<V> => ({ ...a, match: undefined, find: undefined, keyedOnly: true });

export const householdCommand = defineCommand({
  name: '联系户', aliases: ['household', '民情记录'], group: 'record', mode: 'write',
  summary: '登记或更新联系户（民情记录表）；不带参数时列出我的联系户',
  args: {
    action: optional(choiceArg('操作', { 转交: 'transfer', 移交: 'transfer', transfer: 'transfer' } as const, '操作：转交')),
    ref: optional(customArg('编号', '联系户编号，如 #12', (s) => { const m = /^[#＃](\d{1,9})$/.exec(s.normalize('NFKC').trim()); return m ? Number(m[1]) : null; },
      (s) => `「${s}」不是联系户编号（如 #12）`, ['id'])),
    to: optional(withKeys(cadreRefArg('接收干部'), '转交给', 'to')),
    name: optional(withKeys(textArg('姓名', 20, '户主姓名，如 王大爷'), '户主', 'name')),
    phone: optional(phoneArg),
    size: optional(sizeArg),
    place: optional(withKeys(textArg('地点', 60, '所在村或社区，如 石门村'), '村', '社区', '联系点', 'place')),
    income: optional(keyed(withKeys(textArg('收入', 100, '经济来源，如 收入:务农'), '经济来源', '收入来源', 'income'))),
    difficulties: optional(keyed(withKeys(textArg('困难', 300, '存在困难，如 困难:就医难'), '存在困难', 'difficulties'))),
    opinions: optional(keyed(withKeys(textArg('意见', 500, '群众意见，如 意见:希望修路'), '群众意见', '诉求', 'opinions'))),
  },
  examples: [EXAMPLE, '/联系户 王大爷 意见:路已修好，很满意', '/联系户', '/联系户 转交 #12 @李四'],
  notes: ['同一单位、同名同电话即同一户：再次发送只更新所写的项目。',
    '联系户只有联系它的干部和本单位领导可以查看；改由别的干部联系，由领导发送 /联系户 转交 #编号 @干部。', '内容里有空格时，每项单独一行，例如：\n/联系户 王大爷\n困难：孩子上学远 就医难'],
  async handle(ctx, a) {
    if (a.action === 'transfer') return transfer(ctx, a.ref, a.to);
    if (!a.name) {
      if (a.phone || a.size || a.place || a.income || a.difficulties || a.opinions) throw new UserError(T.needName);
      const mine = await householdsOfCadre(ctx.db, ctx.cadre.id);
      if (!mine.length) return T.none;
      return [T.listTitle(mine.length), ...mine.slice(0, LIST_CAP).map((h, k) => `${k + 1}. #${h.id} ${describe(h, h.place)}`),
        ...(mine.length > LIST_CAP ? [T.listMore(mine.length)] : [])].join('\n');
    }
    const name = a.name.trim();
    if (PHONE.test(name.replace(/\s/g, ''))) throw new UserError(T.nameIsPhone(name));
    const unit = ctx.chatUnit ?? (await unitOf(ctx));
    const at = ctx.now.getTime();
    const point = a.place ? await ensureContactPoint(ctx.db, { unitId: unit.id, name: a.place, kind: /(企业|公司|厂)$/.test(a.place) ? 'enterprise' : 'village', cadreId: ctx.cadre.id, at }) : undefined;
    const fields: Partial<HouseholdFields> = {
      phone: a.phone, size: a.size, incomeSource: a.income, difficulties: a.difficulties, opinions: a.opinions, contactPointId: point?.id,
    };
    const same = await householdsByHead(ctx.db, unit.id, name);
    const visible: Household[] = [];
    for (const h of same) if (await sees(ctx, h)) visible.push(h);
    let found: Household | undefined;
    if (a.phone) {
      const hit = same.find((h) => h.phone === a.phone);
      if (hit && !(await sees(ctx, hit))) throw new UserError(T.heldByOther(name));
      found = hit ?? (visible.length === 1 && !visible[0].phone ? visible[0] : undefined);
    } else if (visible.length > 1) throw new UserError(T.ambiguous(name, visible));
    else found = visible[0];
    const h = found ? await updateHousehold(ctx.db, found.id, fields, ctx.cadre.id) : await insertHousehold(ctx.db, { ...fields, unitId: unit.id, cadreId: ctx.cadre.id, headName: name, at });
    const place = point?.name ?? (h.contactPointId ? (await contactPointById(ctx.db, h.contactPointId))?.name ?? null : null);
    return [T.saved(h, place, !found), ...(a.difficulties || a.opinions ? [T.issueHint] : [])].join('\n');
  },
});

/** The cadre looking after it, a lead of its unit (or above), or an administrator. */
async function sees(ctx: Ctx, h: Household): Promise<boolean> {
  if (h.cadreId === ctx.cadre.id) return true;
  const unit = await unitById(ctx.db, h.unitId);
  return !!unit && (await leads(ctx, unit));
}

async function transfer(ctx: Ctx, id: number | undefined, to: string | undefined): Promise<Reply[]> {
  if (id === undefined || !to) throw new UserError(T.transferHow);
  const h = await householdById(ctx.db, id);
  // Someone who may not see it learns nothing, not even that it exists.
  if (!h || !(await sees(ctx, h))) throw new UserError(T.notFound(id));
  const unit = (await unitById(ctx.db, h.unitId))!;
  if (!(await leads(ctx, unit))) throw new UserError(T.notLead(id, unit.name));
  const target: Cadre = await resolveCadre(ctx, to, TRANSFER_CADRE_TEXTS);
  // Found by a phone number, the roster name is news to a group that may not see names.
  const named = nameHere(ctx, target.name, '该干部');
  if (!target.active) throw new UserError(T.notActive(named));
  if (target.id === h.cadreId) throw new UserError(T.sameCadre(id, named));
  if (!(await unitById(ctx.db, target.unitId))?.path.startsWith(unit.path)) throw new UserError(T.otherUnit(named, unit.name));
  const from = h.cadreId == null ? undefined : await cadreById(ctx.db, h.cadreId);
  const r = await transferHousehold(ctx.db, { householdId: h.id, toCadreId: target.id, byCadreId: ctx.cadre.id, at: ctx.now.getTime() });
  const by = ctx.cadre.name;
  return [
    toChat(namesHere(ctx) ? T.transferred(r.household, from?.name ?? null, target.name) : T.transferredHidden(r.household)),
    ...(target.id === ctx.cadre.id ? [] : [toCadre(target.id, T.toNew(r.household, by))]),
    ...(from && from.id !== ctx.cadre.id ? [toCadre(from.id, T.toOld(r.household, by, target.name))] : []),
  ];
}

/** resolveCadre's refusals for the cadre a household is handed to. */
const TRANSFER_CADRE_TEXTS: CadreRefTexts = {
  unknown: (ref) => T.noCadre(ref),
  ambiguous: (ref, _name, options) => T.manyCadres(ref, options),
  hidden: T.manyCadresHidden,
};

export const householdCommands = [householdCommand];
