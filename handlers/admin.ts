/**
 * Administration: /绑定 (chat account ↔ roster cadre), /单位 (group ↔ unit, in admin-units.ts)
 * and /导入 (how to import the roster).
 *
 * Decisions: self-service binding needs the roster name AND phone; a mismatch says which of the
 * two did not match but never shows anything of another person's entry. An account already bound
 * to someone is refused unless an administrator does it. When a cadre who already has accounts
 * gets a new one by self-service, the old accounts are told at once (a phone number is a weak
 * secret; this is the cheap alarm). `/绑定 解除` without an account unbinds the sender's own.
 */
import { z } from 'zod';
import { defineCommand, type CommandDef, type Ctx } from '../bot/command.js';
import { choiceArg, optional, restArg, textArg, type ArgDef } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { maskPhones, type Reply } from '../bot/reply.js';
import { accountOwner, accountsOf, bindAccount, cadreById, cadreByPhone, cadresByName, unbindAccount } from '../storage/identity.js';
import { unitById } from '../storage/units.js';
import { normalizePhone, ROSTER_COLUMNS } from '../storage/roster.js';
import type { Cadre } from '../storage/types.js';
import { unitCommand } from './admin-units.js';
import { awaitRoster, canImportInChat, importAttached } from './roster-file.js';

interface Account { platform: string; accountId: string }

const T = {
  selfForm: '请写您在干部名册中的姓名和手机号，例如 /绑定 张三 13800001111',
  adminForm: '请写要绑定的干部姓名（重名时再加手机号），例如 /绑定 李四 账号:feishu:ou_abc 或 /绑定 李四 13800000003 账号:console:u9',
  notOnRoster: (name: string, phone: string) =>
    `名册中既没有「${name}」，也没有手机号 ${maskPhones(phone)}。请核对姓名和手机号后重发，例如 /绑定 张三 13800001111；如果您还不在名册中，请联系管理员导入名册。`,
  phoneWrong: (name: string, phone: string) =>
    `手机号不符：名册中「${name}」登记的手机号不是 ${maskPhones(phone)}。请用名册登记的手机号，例如 /绑定 ${name} 13800001111；换过号的请联系管理员更新名册。`,
  nameWrong: (name: string) =>
    `姓名不符：名册中这个手机号登记的不是「${name}」。请核对姓名（须与名册一致，包括同音字）后重发，例如 /绑定 张三 13800001111；名册有误请联系管理员。`,
  inactive: (name: string) => `「${name}」在名册中已停用，不能绑定。如有误请联系管理员重新导入名册。`,
  ambiguous: (name: string, n: number) =>
    `名册中有 ${n} 位「${name}」，请加上手机号区分，例如 /绑定 ${name} 13800001111 账号:feishu:ou_abc`,
  noSuchCadre: (name: string) => `名册中没有「${name}」。请写名册中的姓名，例如 /绑定 李四 账号:feishu:ou_abc；名册里没有此人时请先 /导入 名册。`,
  adminPhoneWrong: (name: string, phone: string, other?: string) => other
    ? `姓名与手机号不符：手机号 ${maskPhones(phone)} 在名册中登记的是「${other}」，不是「${name}」。请核对后重发，例如 /绑定 ${name} 13800001111 账号:console:u9`
    : `名册中没有手机号 ${maskPhones(phone)}。请核对后重发，或只写姓名，例如 /绑定 ${name} 账号:console:u9`,
  boundToOther: (acc: string, current: string) =>
    `您的账号（${acc}）已绑定为「${current}」，不能再绑定到其他人。如需更换，请联系管理员发送 /绑定 解除 ${acc} 后重新绑定。`,
  alreadySelf: (name: string, unit: string) => `您的账号已绑定为 ${name}（${unit}），无需重复绑定。发送 /帮助 查看可用的命令。`,
  alreadyOther: (acc: string, name: string, unit: string) => `账号 ${acc} 已绑定为 ${name}（${unit}），无需重复绑定。`,
  boundSelf: (name: string, unit: string, acc: string) =>
    `绑定成功：您的账号（${acc}）已绑定为 ${name}（${unit}）。现在可以发送 /走访、/志愿、/我的 等命令；发送 /帮助 查看全部命令。`,
  boundOther: (acc: string, name: string, unit: string, previous?: string) =>
    `已将账号 ${acc} 绑定到 ${name}（${unit}）。${previous ? `（原先绑定的是 ${previous}，已改绑。）` : ''}`,
  groupHint: '提示：手机号属于个人信息，今后请在与我的私聊中绑定。',
  newAccountAlarm: (name: string, acc: string) =>
    `提醒：您在名册中的身份（${name}）刚刚绑定了新账号 ${acc}。如果不是您本人操作，请立即联系管理员，由管理员发送 /绑定 解除 ${acc}。`,
  othersNeedAdmin: '只有管理员可以为他人绑定账号。绑定您自己的账号请发送：/绑定 姓名 手机号，例如 /绑定 张三 13800001111',
  unbindNeedAdmin: (acc: string) => `只有管理员可以解除他人的账号绑定。解除您自己的绑定请发送 /绑定 解除（不写账号），或请管理员发送 /绑定 解除 ${acc}。`,
  unbindWhich: '请写要解除绑定的账号，例如 /绑定 解除 console:u9',
  notBoundAcc: (acc: string) => `账号 ${acc} 没有绑定任何干部，无需解除。请核对账号（格式 平台:账号），例如 /绑定 解除 console:u9`,
  unbound: (acc: string, name: string, unit: string) => `已解除账号 ${acc} 与 ${name}（${unit}）的绑定。该干部的记录全部保留。`,
  unbindNameMismatch: (acc: string, name: string) => `账号 ${acc} 绑定的不是「${name}」，没有解除。请只写账号，例如 /绑定 解除 ${acc}`,
  importSend: '请在 10 分钟内把名册文件（.xlsx 或 .csv）发给我，收到后立即导入并回复结果。也可以由管理员在服务器上（项目目录中）运行：',
  importHow: '导入名册请由管理员在服务器上（项目目录中）运行：',
  importCli: (file: string) => `  npx minqing import ${file}`,
  importColumns: `名册为 .xlsx（第一个工作表）或 UTF-8 编码的 .csv，第1行为列名：${ROSTER_COLUMNS.join('、')}。`,
  importRules: '姓名、手机、单位必填；职级填“领导”或“一般”；驻村填“是”或留空；账号为 平台:账号，多个用英文分号隔开。重复导入只更新，不会重复建人。',
  importExample: `例如一行：张三,13800000002,石门镇,示范县,一般,是,console:u2;feishu:ou_abc`,
};

const accountText = (a: Account) => `${a.platform}:${a.accountId}`;

const PHONE = /^1[3-9]\d{9}$/;

const phoneArg: ArgDef<string> = {
  ...textArg('手机', 20, '11位手机号，如 13800001111'),
  keys: ['手机号', '电话', 'phone'],
  read: (s) => { const p = normalizePhone(s); return PHONE.test(p) ? p : null; },
  bad: (s) => `「${s}」不是11位手机号`,
  match: (t) => PHONE.test(normalizePhone(t)),
};

const ACCOUNT = /^([A-Za-z]+)[:：](\S+)$/;
const accountArg: ArgDef<Account> = {
  ...textArg('账号', 200, '平台:账号，如 feishu:ou_abc、console:u9'),
  keys: ['帐号', 'account'],
  read: (s) => { const m = ACCOUNT.exec(s.trim()); return m ? { platform: m[1].toLowerCase(), accountId: m[2] } : null; },
  bad: (s) => `「${s}」不是账号（应为 平台:账号，如 feishu:ou_abc）`,
  match: (t) => ACCOUNT.test(t),
};

async function unitName(ctx: Ctx, c: Cadre): Promise<string> {
  return (await unitById(ctx.db, c.unitId))?.name ?? '未知单位';
}

/** A platform @-mention standing for the person named, when the adapter delivered one. */
function mentionedAccount(ctx: Ctx, rawName: string | undefined): Account | undefined {
  if (!rawName || !/^[@＠]/.test(rawName)) return undefined;
  const name = rawName.slice(1);
  const ms = ctx.event.mentions;
  const m = ms.find((x) => x.name === name) ?? (ms.length === 1 ? ms[0] : undefined);
  return m ? { platform: ctx.event.platform, accountId: m.accountId } : undefined;
}

/** The roster entry for a name and phone typed by the person themselves, or a refusal. */
async function matchSelf(ctx: Ctx, name: string, phone: string): Promise<Cadre> {
  const byPhone = await cadreByPhone(ctx.db, phone);
  if (byPhone && byPhone.name === name) {
    if (!byPhone.active) throw new UserError(T.inactive(name));
    return byPhone;
  }
  if (byPhone) throw new UserError(T.nameWrong(name));
  if ((await cadresByName(ctx.db, name)).length) throw new UserError(T.phoneWrong(name, phone));
  throw new UserError(T.notOnRoster(name, phone));
}

async function selfBind(ctx: Ctx, name: string | undefined, phone: string | undefined): Promise<HandlerReplies> {
  const { db, event } = ctx;
  if (!name || !phone) throw new UserError(T.selfForm);
  const me: Account = { platform: event.platform, accountId: event.senderId };
  const currentId = await accountOwner(db, me.platform, me.accountId);
  const current = currentId === undefined ? undefined : await cadreById(db, currentId);
  // A bound non-admin learns nothing about the roster from here: the check comes first.
  if (current && !ctx.isAdmin && !(current.name === name && current.phone === phone)) {
    throw new UserError(T.boundToOther(accountText(me), current.name));
  }
  const cadre = await matchSelf(ctx, name, phone);
  const unit = await unitName(ctx, cadre);
  if (current?.id === cadre.id) return T.alreadySelf(cadre.name, unit);
  const others = await accountsOf(db, cadre.id);
  await bindAccount(db, me.platform, me.accountId, cadre.id, ctx.now.getTime());
  const text = [T.boundSelf(cadre.name, unit, accountText(me)), ...(event.direct ? [] : [T.groupHint])].join('\n');
  const alarms: Reply[] = others.map((a) => ({ to: 'user', target: a.accountId, platform: a.platform, text: T.newAccountAlarm(cadre.name, accountText(me)) }));
  return [{ to: 'chat', text }, ...alarms];
}

async function adminBind(ctx: Ctx, acc: Account, name: string | undefined, phone: string | undefined): Promise<string> {
  const { db } = ctx;
  if (!name) throw new UserError(T.adminForm);
  let cadre: Cadre;
  if (phone) {
    const byPhone = await cadreByPhone(db, phone);
    if (!byPhone || byPhone.name !== name) throw new UserError(T.adminPhoneWrong(name, phone, byPhone?.name));
    if (!byPhone.active) throw new UserError(T.inactive(name));
    cadre = byPhone;
  } else {
    const found = await cadresByName(db, name);
    if (found.length === 0) throw new UserError(T.noSuchCadre(name));
    if (found.length > 1) throw new UserError(T.ambiguous(name, found.length));
    cadre = found[0];
  }
  const unit = await unitName(ctx, cadre);
  const previousId = await accountOwner(db, acc.platform, acc.accountId);
  if (previousId === cadre.id) return T.alreadyOther(accountText(acc), cadre.name, unit);
  const previous = previousId === undefined ? undefined : await cadreById(db, previousId);
  await bindAccount(db, acc.platform, acc.accountId, cadre.id, ctx.now.getTime());
  return T.boundOther(accountText(acc), cadre.name, unit, previous?.name);
}

async function unbind(ctx: Ctx, given: Account | undefined, name: string | undefined): Promise<string> {
  const { db, event } = ctx;
  const own = !given || (given.platform === event.platform && given.accountId === event.senderId);
  const acc: Account = given ?? { platform: event.platform, accountId: event.senderId };
  if (!own && !ctx.isAdmin) throw new UserError(T.unbindNeedAdmin(accountText(acc)));
  const ownerId = await accountOwner(db, acc.platform, acc.accountId);
  if (ownerId === undefined) throw new UserError(given ? T.notBoundAcc(accountText(acc)) : T.unbindWhich);
  const owner = (await cadreById(db, ownerId))!;
  if (name && owner.name !== name) throw new UserError(T.unbindNameMismatch(accountText(acc), name));
  await unbindAccount(db, acc.platform, acc.accountId);
  return T.unbound(accountText(acc), owner.name, await unitName(ctx, owner));
}

type HandlerReplies = string | Reply[];

export const bindCommand = defineCommand({
  name: '绑定', aliases: ['bind'], group: 'admin', mode: 'write', anyone: true,
  summary: '把聊天账号绑定到干部名册（本人：姓名+手机号）',
  args: {
    action: optional(choiceArg('操作', { 解除: 'unbind', 解绑: 'unbind', 取消绑定: 'unbind', unbind: 'unbind' }, '操作：解除（解除绑定，管理员）')),
    name: optional(textArg('姓名', 30, '姓名，如 张三 或 @张三')),
    phone: optional(phoneArg),
    account: optional(accountArg),
  },
  examples: ['/绑定 张三 13800001111', '/绑定 @李四 账号:feishu:ou_abc', '/绑定 李四 13800000003 账号:console:u9', '/绑定 解除 console:u9'],
  notes: [
    '本人绑定：写名册中的姓名和手机号，两者都须与名册一致。手机号属于个人信息，建议私聊绑定。',
    '管理员：加 账号:平台:账号 为他人绑定或改绑；/绑定 解除 平台:账号 解除绑定。',
  ],
  async handle(ctx, a) {
    const name = a.name?.replace(/^[@＠]/, '').trim() || undefined;
    if (a.action === 'unbind') return unbind(ctx, a.account, name);
    const mentioned = a.account ? undefined : mentionedAccount(ctx, a.name);
    const target = a.account ?? mentioned;
    const isSelf = target && target.platform === ctx.event.platform && target.accountId === ctx.event.senderId;
    if (!target || (isSelf && !ctx.isAdmin)) return selfBind(ctx, name, a.phone);
    if (!ctx.isAdmin) throw new UserError(T.othersNeedAdmin);
    return adminBind(ctx, target, name, a.phone);
  },
});

export const importCommand = defineCommand({
  name: '导入', aliases: ['import', '导入名册'], group: 'admin', mode: 'read', adminOnly: true,
  summary: '导入干部名册（.xlsx / .csv）',
  args: { file: optional(restArg('文件', 200, '名册文件名，如 名册.xlsx')) },
  examples: ['/导入', 'npx minqing import 名册.csv'],
  notes: [T.importColumns, T.importRules, T.importExample],
  async handle(ctx, a) {
    // A file that came with the command is imported at once; otherwise the next file the
    // administrator sends is (messengers send files as messages of their own).
    const attached = ctx.event.attachments.find((x) => x.kind === 'file');
    if (attached) return importAttached(ctx, attached);
    const inChat = canImportInChat(ctx);
    if (inChat) await awaitRoster(ctx);
    const file = a.file?.trim() || '名册.csv';
    const cliFile = /\s/.test(file) ? `"${file}"` : file;
    return [
      inChat ? T.importSend : T.importHow,
      T.importCli(cliFile),
      T.importColumns,
      T.importRules,
      T.importExample,
    ].join('\n');
  },
});

export const adminCommands: CommandDef<any>[] = [bindCommand, unitCommand, importCommand];
