/**
 * The 公示 page of a unit's results list (docs/rules.md#citizens): `/清单 公示 网页` publishes it as a
 * public web page with its own QR code; `/清单 公示 网页 撤回` withdraws it.
 *
 * Decisions: nothing is public until a lead of the unit publishes; one page per unit. Calling the
 * command again while published answers with the same link and QR (a printed 公示栏 QR keeps
 * working), so withdrawing is its own word, 撤回 — a second call never silently unpublishes. After
 * a withdrawal the old link answers 410 and publishing again makes a new one. The page is drawn
 * from the database at each request: issues resolved in the unit and its sub-units in the current
 * month and the two before, so it follows issues as they close and reopen.
 */
import type { Ctx } from '../bot/command.js';
import { UserError } from '../bot/errors.js';
import { toChat, type Reply } from '../bot/reply.js';
import { insertLink, liveBoard, revokeBoard } from '../storage/public-links.js';
import type { Unit } from '../storage/types.js';
import { BOARD_PAGE, newToken, writeQr } from './citizen.js';
import { leads } from './policy.js';

const T = {
  notLead: (unit: string) => `只有「${unit}」的领导可以把效果清单公示到网页。请领导发送 /清单 公示 网页`,
  noPublicUrl: '本部署未开启公示网页（管理员需设置 MINQING_PUBLIC_URL，见 README）。',
  published: (unit: string, url: string, again: boolean) => `${again ? '「' + unit + '」的效果清单网页已在公示中' : '已把「' + unit + '」的效果清单公示到网页'}：${url}\n网页随问题办结实时更新，显示本月及前两个月办结的问题；群众电话已隐去，不显示干部姓名。二维码可张贴在公示栏。撤回发送 /清单 公示 网页 撤回`,
  withdrawn: (unit: string) => `已撤回「${unit}」的效果清单公示网页，原链接和二维码不再可用。`,
  nothingToWithdraw: (unit: string) => `「${unit}」没有在公示中的效果清单网页。`,
};

export async function boardReplies(ctx: Ctx, unit: Unit, withdraw: boolean): Promise<Reply[] | string> {
  if (!(await leads(ctx, unit))) throw new UserError(T.notLead(unit.name));
  const at = ctx.now.getTime();
  if (withdraw) return (await revokeBoard(ctx.db, unit.id, ctx.cadre.id, at)) ? T.withdrawn(unit.name) : T.nothingToWithdraw(unit.name);
  const base = ctx.deps.config.MINQING_PUBLIC_URL;
  if (!base) throw new UserError(T.noPublicUrl);
  const live = await liveBoard(ctx.db, unit.id);
  const token = live?.token ?? newToken();
  if (!live) await insertLink(ctx.db, { kind: 'board', token, keepToken: true, unitId: unit.id, createdBy: ctx.cadre.id, createdAt: at });
  const url = `${base}${BOARD_PAGE}${token}`;
  return [toChat(T.published(unit.name, url, !!live), { image: writeQr(ctx, '公示码', unit.name, url) })];
}
