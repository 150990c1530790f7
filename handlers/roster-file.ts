/**
 * A roster file sent in chat (`/导入`, then the .xlsx/.csv): fetched from the platform into
 * `imports/` beside the database and imported the way `minqing import` does, answered with the
 * row report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Ctx } from '../bot/command.js';
import { dataDir } from '../bot/config.js';
import type { Attachment } from '../bot/event.js';
import { UserError } from '../bot/errors.js';
import { expectRoster, takeExpectedRoster } from '../storage/roster-await.js';

/** How long after `/导入` the file is taken as the roster. */
export const ROSTER_WAIT_MS = 10 * 60_000;

const T = {
  wrongKind: (name: string) => `「${name}」不是 .xlsx 或 .csv 文件，没有导入。请在 Excel 中另存为 .xlsx 或「CSV UTF-8（逗号分隔）」后，发送 /导入 再发文件。`,
  cannotFetch: '这个平台上我无法下载文件。请由管理员在服务器上运行 npx minqing import 名册.xlsx。',
  tooBig: (mb: number) => `名册文件超过 ${mb} MB，没有导入。`,
};

export const isRosterFile = (a: Attachment): boolean => a.kind === 'file' && /\.(xlsx|csv)$/i.test(a.name ?? '');

/** Whether in-chat import can work here (a platform that fetches files, an importer). */
export const canImportInChat = (ctx: Ctx): boolean => !!ctx.deps.fetchAttachment && !!ctx.deps.importRoster;

/**
 * `/导入` without a file: the administrator's next roster file within 10 minutes is imported.
 * /导入 is a read command (it may import at once, which is slow), so this one write is a
 * transaction of its own.
 */
export async function awaitRoster(ctx: Ctx): Promise<void> {
  await ctx.db.withWrite((tx) => expectRoster(tx, ctx.event.platform, ctx.event.senderId, ctx.now.getTime() + ROSTER_WAIT_MS));
}

/** A file from an administrator who sent `/导入` just before (the expectation is used up: one file is the roster). */
export async function isAwaitedRoster(ctx: Ctx, a: Attachment): Promise<boolean> {
  return ctx.isAdmin && a.kind === 'file'
    && (await ctx.db.withWrite((tx) => takeExpectedRoster(tx, ctx.event.platform, ctx.event.senderId, ctx.now.getTime())));
}

export async function importAttached(ctx: Ctx, a: Attachment): Promise<string> {
  const { fetchAttachment, importRoster, config } = ctx.deps;
  const name = a.name ?? a.key;
  if (!isRosterFile(a)) throw new UserError(T.wrongKind(name));
  if (!fetchAttachment || !importRoster) throw new UserError(T.cannotFetch);
  const bytes = await fetchAttachment(ctx.event.platform, ctx.event.messageId, a);
  if (bytes.length > config.MINQING_EVIDENCE_MAX_BYTES) throw new UserError(T.tooBig(Math.round(config.MINQING_EVIDENCE_MAX_BYTES / 1048576)));
  // One folder per import, the file under its own name: the import report names the file.
  const dir = join(dataDir(config), 'imports', `${ctx.now.getTime()}-${ctx.event.senderId.replace(/[^\w-]+/g, '_').slice(0, 40)}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, name.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(-120) || `roster${extname(name)}`);
  await writeFile(file, bytes);
  return importRoster(file);
}
