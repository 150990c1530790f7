/**
 * Reply → Feishu messages through the SDK's `Client` (`im.message.create`). Every message carries
 * a `uuid` derived from the reply's key, so a reply sent again (a redelivery after a restart, a
 * retry) is deduplicated by Feishu itself (within its one-hour window).
 *
 * Send: https://open.feishu.cn/document/server-docs/im-v1/message/create
 * Upload: im.image.create (≤10 MB) → image_key; im.file.create (≤30 MB) → file_key.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';
import type { Sender } from '../../outbound.js';
import type { Reply } from '../../reply.js';
import { sha256Hex, type Forms } from '../common.js';
import { replyCard } from './card.js';
import { PLATFORM } from './decode.js';

export interface FeishuClientOptions {
  appId: string;
  appSecret: string;
  /** Base URL of the open platform: https://open.feishu.cn (default), https://open.larksuite.com, or a test server. */
  domain?: string;
  log: Logger;
}

/** An SDK client with its own token cache (the SDK's default cache is shared by the whole process). */
export function feishuClient(o: FeishuClientOptions): lark.Client {
  const store = new Map<string, { value: unknown; expire?: number }>();
  const k = (key: string | symbol, ns?: string) => `${ns ?? ''}:${String(key)}`;
  const cache: lark.Cache = {
    async set(key, value, expire, opts) { store.set(k(key as symbol, opts?.namespace), { value, expire }); return true; },
    async get(key, opts) {
      const hit = store.get(k(key as symbol, opts?.namespace));
      if (!hit || (hit.expire !== undefined && hit.expire < Date.now())) return undefined;
      return hit.value;
    },
  };
  return new lark.Client({
    appId: o.appId,
    appSecret: o.appSecret,
    domain: o.domain ?? lark.Domain.Feishu,
    cache,
    logger: sdkLogger(o.log),
    loggerLevel: lark.LoggerLevel.warn,
  });
}

/** The SDK logs through pino, so its lines carry our fields and our phone masking. */
export function sdkLogger(log: Logger): lark.Logger {
  const child = log.child({ sdk: 'lark' });
  // The SDK's LoggerProxy hands its arguments over as one array.
  const fmt = (m: unknown[]) => m.flat().map((x) => (typeof x === 'string' ? x : x instanceof Error ? x.message : JSON.stringify(x))).join(' ');
  return {
    error: (...m) => child.error(fmt(m)),
    warn: (...m) => child.warn(fmt(m)),
    info: (...m) => child.info(fmt(m)),
    debug: (...m) => child.debug(fmt(m)),
    trace: (...m) => child.trace(fmt(m)),
  };
}

/** Feishu allows `uuid` up to 50 characters; the reply key can be longer. */
export function feishuUuid(key: string, part: number): string {
  return sha256Hex(`${key}#${part}`).slice(0, 40);
}

const FILE_TYPES: Record<string, string> = {
  '.xls': 'xls', '.xlsx': 'xls', '.csv': 'xls', '.doc': 'doc', '.docx': 'doc', '.ppt': 'ppt', '.pptx': 'ppt',
  '.pdf': 'pdf', '.mp4': 'mp4', '.opus': 'opus',
};

interface ApiResult { code?: number; msg?: string; data?: Record<string, any> }

function check(res: ApiResult | null | undefined, what: string): Record<string, any> {
  if (!res || (res.code !== undefined && res.code !== 0)) throw new Error(`Feishu ${what} failed: ${res?.code ?? 'no answer'} ${res?.msg ?? ''}`.trim());
  return res.data ?? {};
}

export class FeishuSender implements Sender {
  readonly platform = PLATFORM;

  constructor(private client: lark.Client, private o: { forms: Forms; isDirectChat: (chatId: string) => boolean; log: Logger }) {}

  async send(reply: Reply, key: string): Promise<void> {
    if (!reply.target) throw new Error('Feishu reply without a target');
    const receive = reply.to === 'user'
      ? { type: 'open_id' as const, id: reply.target }
      : { type: 'chat_id' as const, id: reply.target };
    const direct = reply.to === 'user' || this.o.isDirectChat(reply.target);
    const parts: Array<{ msg_type: string; content: string }> = [];
    if (reply.card || reply.actions?.length) {
      parts.push({ msg_type: 'interactive', content: JSON.stringify(replyCard(reply, { forms: this.o.forms, direct })) });
    } else if (reply.text) {
      parts.push({ msg_type: 'text', content: JSON.stringify({ text: reply.text }) });
    }
    if (reply.image) parts.push({ msg_type: 'image', content: JSON.stringify({ image_key: await this.uploadImage(reply.image) }) });
    if (reply.file) parts.push({ msg_type: 'file', content: JSON.stringify({ file_key: await this.uploadFile(reply.file) }) });
    for (const [i, p] of parts.entries()) {
      const res = await this.client.im.message.create({
        params: { receive_id_type: receive.type },
        data: { receive_id: receive.id, msg_type: p.msg_type, content: p.content, uuid: feishuUuid(key, i) },
      }) as ApiResult;
      check(res, 'message send');
    }
  }

  private async uploadImage(path: string): Promise<string> {
    const res = await this.client.im.image.create({ data: { image_type: 'message', image: createReadStream(path) } });
    const keyOut = (res as { image_key?: string } | null)?.image_key;
    if (!keyOut) throw new Error(`Feishu image upload failed for ${basename(path)}`);
    return keyOut;
  }

  private async uploadFile(path: string): Promise<string> {
    const fileType = FILE_TYPES[extname(path).toLowerCase()] ?? 'stream';
    const res = await this.client.im.file.create({
      data: { file_type: fileType as 'stream', file_name: basename(path), file: createReadStream(path) },
    });
    const keyOut = (res as { file_key?: string } | null)?.file_key;
    if (!keyOut) throw new Error(`Feishu file upload failed for ${basename(path)}`);
    return keyOut;
  }
}
