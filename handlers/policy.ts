/**
 * Who may do what. A lead is a cadre of rank `leader`; their authority covers their own unit
 * and every unit below it in the tree. Administrators may act everywhere.
 */
import type { Ctx } from '../bot/command.js';
import { UserError } from '../bot/errors.js';
import { nameInGroup } from '../bot/names.js';
import type { Db } from '../storage/db.js';
import { cadreByAccount, cadreByPhone, cadresByName } from '../storage/identity.js';
import { activeLeadersOf } from '../storage/public-links.js';
import { unitById, unitByName, isWithin, parentOf } from '../storage/units.js';
import type { Cadre, Unit } from '../storage/types.js';

export async function unitOf(ctx: Ctx, cadre: Cadre = ctx.cadre): Promise<Unit> {
  const u = await unitById(ctx.db, cadre.unitId);
  if (!u) throw new Error(`cadre ${cadre.id} has no unit ${cadre.unitId}`);
  return u;
}

/** True when the sender leads `unit` (or a unit above it), or is an administrator. */
export async function leads(ctx: Ctx, unit: Unit): Promise<boolean> {
  if (ctx.isAdmin) return true;
  const c = ctx.cadre;
  return c.rank === 'leader' && isWithin(unit, await unitOf(ctx, c));
}

/** The unit a query is about: named explicitly, else the group's unit, else the sender's. */
export async function resolveUnit(ctx: Ctx, name?: string): Promise<Unit> {
  if (name) {
    const u = await unitByName(ctx.db, name.trim());
    if (!u) throw new UserError(`没有名为「${name}」的单位。请写名册中的单位全称，例如 /统计 本月 ${(await unitOf(ctx)).name}`);
    return u;
  }
  return ctx.chatUnit ?? (await unitOf(ctx));
}

/** What {@link resolveCadre} says when a reference names nobody on the roster, or several people. */
export interface CadreRefTexts {
  unknown: (ref: string) => string;
  /** `name` is the roster name the namesakes share; `options` read '李四（东关社区）'. */
  ambiguous: (ref: string, name: string, options: string[]) => string;
  /** Said instead of listing the namesakes (with their units) where a group may not see names. */
  hidden: string;
}

/**
 * A roster person from `@李四`, a platform mention, `李四（东关社区）` or a phone number. Each
 * command words the refusals for its own argument (`say`).
 */
export async function resolveCadre(ctx: Ctx, ref: string, say: CadreRefTexts): Promise<Cadre> {
  const m = ctx.event.mentions.find((x) => x.name === ref || x.accountId === ref);
  const byAccount = m && (await cadreByAccount(ctx.db, ctx.event.platform, m.accountId));
  if (byAccount) return byAccount;
  if (/^1[3-9]\d{9}$/.test(ref)) {
    const c = await cadreByPhone(ctx.db, ref);
    if (c?.active) return c;
  }
  const paren = /^(.+?)[（(](.+?)[)）]$/.exec(ref);
  const unitName = async (c: Cadre) => (await unitById(ctx.db, c.unitId))?.name ?? '';
  let found = await cadresByName(ctx.db, paren ? paren[1].trim() : ref);
  if (paren) {
    const kept: Cadre[] = [];
    for (const c of found) if ((await unitName(c)) === paren[2].trim()) kept.push(c);
    found = kept;
  }
  if (found.length === 1) return found[0];
  if (!found.length) throw new UserError(say.unknown(ref));
  if (!namesHere(ctx)) throw new UserError(say.hidden);
  const options: string[] = [];
  for (const c of found) options.push(`${c.name}（${await unitName(c)}）`);
  throw new UserError(say.ambiguous(ref, found[0].name, options));
}

/** Anyone may see their own unit's numbers; leads also the units below; admins everything. */
export async function mayView(ctx: Ctx, unit: Unit): Promise<boolean> {
  if (ctx.isAdmin) return true;
  const own = await unitOf(ctx);
  return unit.id === own.id || (ctx.cadre.rank === 'leader' && isWithin(unit, own));
}

export async function requireView(ctx: Ctx, unit: Unit): Promise<void> {
  if (!(await mayView(ctx, unit))) throw new UserError(`您没有查看「${unit.name}」数据的权限：一般干部可查看本单位，领导可查看本单位及所辖下级单位。`);
}

/** The active leaders of `unit`, else of the nearest unit above it that has any. */
export async function nearestLeaders(db: Db, unit: Unit | undefined): Promise<number[]> {
  for (let u = unit; u; u = await parentOf(db, u)) {
    const ids = await activeLeadersOf(db, { unitId: u.id });
    if (ids.length) return ids;
  }
  return [];
}

/**
 * Whether the answer to this message may name cadres: always in a direct chat, in a group only
 * when the deployment allows it (MINQING_NAMES_IN_GROUPS). A reply sent on to another group
 * (`toChat(…, { target })`) is a group message whatever chat it answers: use `namesInGroups`.
 */
export const namesHere = (ctx: Ctx): boolean => ctx.event.direct || namesInGroups(ctx);
export const namesInGroups = (ctx: Ctx): boolean => ctx.deps.config.MINQING_NAMES_IN_GROUPS;

/** A cadre's name in this answer, or `role` where a group may not see it (bot/names.ts). */
export const nameHere = (ctx: Ctx, name: string, role?: string): string => nameInGroup(name, namesHere(ctx), role);
