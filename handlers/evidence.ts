/**
 * Evidence (docs/rules.md#evidence): a photo, file, voice message or location sent by a cadre with a record, or
 * within 10 minutes after it, is attached to that record — kept as the platform's file key and
 * metadata, and the bytes fetched too when the deployment says `MINQING_EVIDENCE=store`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx, HandlerResult } from '../bot/command.js';
import { dataDir } from '../bot/config.js';
import type { Attachment } from '../bot/event.js';
import type { Db } from '../storage/db.js';
import type { Cadre } from '../storage/types.js';
import { addEvidence, latestRecordBy, recordOfMessage, setEvidenceFile, type RecordRef } from '../storage/evidence.js';
import { cadreByAccount } from '../storage/identity.js';
import { importAttached, isAwaitedRoster } from './roster-file.js';

/** Evidence sent this long after a record attaches to it. */
export const EVIDENCE_WINDOW_MS = 10 * 60_000;

const KIND_NAMES: Record<Attachment['kind'], string> = { image: '照片', file: '文件', audio: '语音', video: '视频', location: '位置' };
const UNITS: Record<Attachment['kind'], string> = { image: '张', file: '个', audio: '条', video: '段', location: '个' };

const T = {
  ref: (r: RecordRef) => (r.kind === 'visit' ? `走访 #V${r.id}` : r.kind === 'volunteer' ? `志愿服务 #Z${r.id}` : `问题 #${r.id}`),
  attached: (r: RecordRef, what: string) => `已附到${T.ref(r)}：${what}。`,
  already: (r: RecordRef) => `这些材料已附到${T.ref(r)}。`,
  how: '收到材料，但没有可附的记录。要给记录附上照片、文件、语音或位置：先发送 /走访、/志愿 或 /民情 登记，10 分钟内再发送材料；或与登记命令一起发送（如图文消息）。',
};

function describe(items: Attachment[]): string {
  const counts = new Map<Attachment['kind'], number>();
  for (const a of items) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${KIND_NAMES[k]} ${n} ${UNITS[k]}`).join('、');
}

/** `db`: the command's transaction, or one of its own for a message of attachments only. */
function attach(ctx: Ctx, db: Db, cadre: Cadre, record: RecordRef): Promise<number[]> {
  const e = ctx.event;
  return addEvidence(db, e.attachments.map((a) => ({
    recordKind: record.kind, recordId: record.id, cadreId: cadre.id, kind: a.kind, platform: e.platform,
    messageId: e.messageId, fileKey: a.key, name: a.name, meta: a.meta,
  })), ctx.now.getTime());
}

/**
 * Attachments that came with the write command that just recorded something: inside the
 * command's transaction (`ctx.db`), so the evidence is kept with the record or not at all.
 */
export async function withCommand(ctx: Ctx): Promise<string | undefined> {
  const e = ctx.event;
  if (!e.attachments?.length || !e.messageId) return undefined;
  const cadre = await cadreByAccount(ctx.db, e.platform, e.senderId);
  if (!cadre) return undefined;
  const record = await recordOfMessage(ctx.db, cadre.id, e.platform, e.messageId);
  if (!record) return undefined;
  const ids = await attach(ctx, ctx.db, cadre, record);
  storeBytes(ctx, ids);
  return ids.length ? T.attached(record, describe(e.attachments)) : undefined;
}

/**
 * A message of attachments only: the roster an administrator announced with `/导入`, or evidence
 * for the sender's record of the last 10 minutes.
 */
export async function alone(ctx: Ctx): Promise<HandlerResult> {
  const e = ctx.event;
  // One after the other: taking the roster expectation uses it up, so only the first file is the roster.
  for (const a of e.attachments) if (await isAwaitedRoster(ctx, a)) return importAttached(ctx, a);
  const addressed = e.direct || e.mentionsBot;
  const cadre = await cadreByAccount(ctx.db, e.platform, e.senderId);
  // In a group the bot sees every message on some platforms (wechaty): a photo not meant for it
  // gets no answer.
  if (!cadre && !addressed) return [];
  if (!cadre) return ctx.cadre.name; // the getter throws the "not bound" reply
  const record = await latestRecordBy(ctx.db, cadre.id, ctx.now.getTime() - EVIDENCE_WINDOW_MS);
  if (!record) return addressed ? T.how : [];
  // The pieces of one message attach together or not at all.
  const ids = await ctx.db.withWrite((tx) => attach(ctx, tx, cadre, record));
  if (!ids.length) return T.already(record);
  storeBytes(ctx, ids);
  return T.attached(record, describe(e.attachments));
}

/**
 * With `MINQING_EVIDENCE=store`: fetches each attachment from its platform into `evidence/`
 * beside the database, after the reply (the fetch is slow, the record is already safe). A file
 * over the size cap, or one the platform will not give, stays a key; the failure is logged.
 *
 * The download starts once the command's transaction has committed (`ctx.afterCommit`): a
 * command that rolled back fetches nothing, and the path is written through the handle itself.
 */
function storeBytes(ctx: Ctx, ids: number[]): void {
  const { config, fetchAttachment, db } = ctx.deps;
  if (config.MINQING_EVIDENCE !== 'store' || !ids.length) return;
  const e = ctx.event;
  const log = ctx.log;
  if (!fetchAttachment) { log.warn('MINQING_EVIDENCE=store but no platform can fetch attachments here'); return; }
  const dir = join(dataDir(config), 'evidence');
  const files = e.attachments.filter((a) => a.kind !== 'location');
  const pairs = files.map((a, i) => ({ a, id: ids[e.attachments.indexOf(a)] ?? ids[i] })).filter((p) => p.id !== undefined);
  ctx.afterCommit(async () => {
    for (const { a, id } of pairs) {
      try {
        const bytes = await fetchAttachment(e.platform, e.messageId, a);
        if (bytes.length > config.MINQING_EVIDENCE_MAX_BYTES) {
          log.warn({ id, bytes: bytes.length, max: config.MINQING_EVIDENCE_MAX_BYTES }, 'evidence over the size cap: kept as its key only');
          continue;
        }
        const path = join(dir, `${id}-${(a.name ?? a.kind).replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 80)}`);
        await mkdir(dir, { recursive: true });
        await writeFile(path, bytes);
        await db.withWrite((tx) => setEvidenceFile(tx, id, path, bytes.length));
      } catch (err) {
        log.warn({ err, id, kind: a.kind }, 'evidence bytes could not be fetched: kept as its key only');
      }
    }
  });
}

