/**
 * The citizen's link (docs/rules.md#citizens): registering an issue, or `/民情码 #12`, gives the cadre
 * an unguessable link and its QR code to hand to the citizen; `/民情码 #12 撤销` stops every link
 * of the issue. The page itself is handlers/citizen-pages.ts.
 *
 * Decisions:
 * - The token is 16 random bytes (128 bits, base64url, 22 characters: a small QR). Only its
 *   SHA-256 is stored, so a link cannot be shown again: `/民情码` makes a new one each time, and
 *   the earlier ones keep working until revoked — a cadre who lost the image does not break the
 *   link a citizen already has.
 * - A link works for a year from its making, and for 90 days after the issue is 销号 (whichever
 *   ends first); then it answers 410.
 * - In a group the link goes to the cadre by direct message, not into the group: whoever holds it
 *   can rate the issue as the citizen, so as few people as possible should see it.
 * - The responsible cadre, the reporter, and the issue's leads may make or revoke links.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { defineCommand, type Ctx } from '../bot/command.js';
import { choiceArg, issueRefArg, optional } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { toCadre, toChat, type Reply } from '../bot/reply.js';
import { qrPng } from '../bot/web/qr.js';
import { addIssueEvent, issueById } from '../storage/issues.js';
import { insertLink, revokeIssueLinks } from '../storage/public-links.js';
import { unitById } from '../storage/units.js';
import type { Issue } from '../storage/types.js';
import { leads } from './policy.js';
import { exportDir, reportFile } from './report-files.js';

export const LINK_DAYS = 365;
export const AFTER_CLOSE_DAYS = 90;
const DAY = 86_400_000;

/** Where the citizens' pages live under MINQING_PUBLIC_URL. */
export const ISSUE_PAGE = '/c/';
export const BOARD_PAGE = '/g/';

const T = {
  link: (i: Issue, url: string) => `群众查看链接（问题 #${i.id}）：${url}\n请把链接或下面的二维码交给反映问题的群众：可随时查看办理进展，办结后可直接评价。链接请勿转发到群里；停用发送 /民情码 #${i.id} 撤销。`,
  sentDirect: (i: Issue) => `问题 #${i.id} 的群众查看链接和二维码已私信发给您。`,
  noPublicUrl: '本部署未开启群众查看页面（管理员需设置 MINQING_PUBLIC_URL，见 README）。',
  notFound: (id: number) => `没有找到问题 #${id}。请核对编号，或发送 /台账 查看在办问题。`,
  notAllowed: (i: Issue) => `只有问题 #${i.id} 的责任人、登记人或单位领导可以生成或停用群众查看链接。`,
  revoked: (i: Issue, n: number) => n ? `已停用问题 #${i.id} 的 ${n} 个群众查看链接，打开时将提示链接已停用。需要时可再发送 /民情码 #${i.id} 生成新链接。`
    : `问题 #${i.id} 没有在用的群众查看链接。`,
};

/** 16 random bytes as base64url: 22 characters. */
export const newToken = (): string => randomBytes(16).toString('base64url');
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{22}$/;

/**
 * Writes the QR code of `url` as a PNG among the exports; returns its path. Synchronously, and
 * not awaited: it runs inside write commands (/民情, /民情码), which await nothing but the database.
 */
export function writeQr(ctx: Ctx, what: string, subject: string, url: string): string {
  const file = reportFile(exportDir(ctx.deps.config), what, subject, 'qr', ctx.now, ctx.tz, 'png');
  writeFileSync(file, qrPng(url));
  return file;
}

/**
 * A new link for the issue with its QR image, addressed to the acting cadre (by direct message
 * when the command came from a group; `quiet`: without a line in the group saying so); null when
 * the deployment has no public pages.
 */
export async function issueLinkReplies(ctx: Ctx, i: Issue, o: { quiet?: boolean } = {}): Promise<Reply[] | null> {
  const base = ctx.deps.config.MINQING_PUBLIC_URL;
  if (!base) return null;
  const token = newToken();
  const at = ctx.now.getTime();
  await insertLink(ctx.db, { kind: 'issue', token, issueId: i.id, createdBy: ctx.cadre.id, createdAt: at, expiresAt: at + LINK_DAYS * DAY });
  await addIssueEvent(ctx.db, { issueId: i.id, at: ctx.now, date: ctx.today, actorCadreId: ctx.cadre.id, action: 'link', fromState: i.state, toState: i.state, note: '生成群众查看链接' });
  const url = `${base}${ISSUE_PAGE}${token}`;
  const image = writeQr(ctx, '民情码', `#${i.id}`, url);
  if (ctx.event.direct) return [toChat(T.link(i, url), { image })];
  return [toCadre(ctx.cadre.id, T.link(i, url), { image }), ...(o.quiet ? [] : [toChat(T.sentDirect(i))])];
}

async function mayHandOut(ctx: Ctx, i: Issue): Promise<boolean> {
  if ([i.responsibleCadreId, i.reporterCadreId].includes(ctx.cadre.id)) return true;
  if (i.leadCadreId === ctx.cadre.id && ctx.cadre.rank === 'leader') return true;
  const unit = await unitById(ctx.db, i.unitId);
  return !!unit && (await leads(ctx, unit));
}

export const citizenLinkCommand = defineCommand({
  name: '民情码', aliases: ['citizenlink', '群众码', '查看码'], group: 'issue', mode: 'write',
  summary: '生成问题的群众查看链接和二维码（群众可看进展、办结后评价）；撤销 停用链接',
  args: {
    issue: issueRefArg(),
    revoke: optional(choiceArg('撤销', { 撤销: 'revoke', 停用: 'revoke', 作废: 'revoke', revoke: 'revoke' }, '撤销（可省略）')),
  },
  examples: ['/民情码 #12', '/民情码 #12 撤销'],
  notes: ['每次生成一个新链接，旧链接仍可用，直到撤销；链接自生成起一年内有效，销号90天后失效。', '在群里发送时，链接私信发给您，不发到群里。'],
  async handle(ctx, a) {
    const i = await issueById(ctx.db, a.issue);
    if (!i || i.voidedAt) throw new UserError(T.notFound(a.issue));
    if (!(await mayHandOut(ctx, i))) throw new UserError(T.notAllowed(i));
    if (a.revoke) {
      const n = await revokeIssueLinks(ctx.db, i.id, ctx.cadre.id, ctx.now.getTime());
      if (n) await addIssueEvent(ctx.db, { issueId: i.id, at: ctx.now, date: ctx.today, actorCadreId: ctx.cadre.id, action: 'link_revoke', fromState: i.state, toState: i.state, note: `停用群众查看链接 ${n} 个` });
      return T.revoked(i, n);
    }
    const out = await issueLinkReplies(ctx, i);
    if (!out) throw new UserError(T.noPublicUrl);
    return out;
  },
});

/** Whether a link to this issue has ended (the issue's own end, beside the link's `expiresAt`). */
export function issueLinkEnded(i: Pick<Issue, 'state' | 'closedAt'>, now: number): boolean {
  return i.state === 'closed' && i.closedAt !== null && now > i.closedAt + AFTER_CLOSE_DAYS * DAY;
}
