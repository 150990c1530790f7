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
import type { Outgoing } from '../../outgoing.js';
import type { Attachment } from '../../event.js';
import { splitText, TEXT_LIMITS } from '../../outgoing.js';
import { PlatformError } from '../../delivery.js';
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

const tokenStores = new WeakMap<lark.Client, Map<string, unknown>>();

/** Drops the client's cached tenant token, so the next call fetches a fresh one. */
export function forgetToken(client: lark.Client): void {
  tokenStores.get(client)?.clear();
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
  const client = new lark.Client({
    appId: o.appId,
    appSecret: o.appSecret,
    domain: o.domain ?? lark.Domain.Feishu,
    cache,
    logger: sdkLogger(o.log),
    loggerLevel: lark.LoggerLevel.warn,
  });
  tokenStores.set(client, store);
  return client;
}

/**
 * Codes that mean the tenant token is no longer good although its time has not run out
 * (https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code): 99991663
 * tenant token invalid, 99991664 app token invalid, 99991661 token missing or malformed,
 * 99991668 / 99991677 token expired. The SDK caches the token until its `expire` and never looks
 * at these, so we drop the cache and try once more.
 */
export const FEISHU_TOKEN_CODES = new Set([99991661, 99991663, 99991664, 99991668, 99991677]);

/**
 * Refusals a retry cannot cure (im.message.create's error table): 230001 bad parameters,
 * 230002 the bot is not in the chat, 230006 bot ability not enabled, 230013 the user is outside
 * the app's availability, 230027 not permitted, 99991672 a scope the app was not granted.
 */
export const FEISHU_PERMANENT_CODES = new Set([230001, 230002, 230006, 230013, 230027, 99991672]);

/**
 * Codes that may come with a 4xx but pass, so they are retried: 99991400 the request rate (older
 * APIs answer it with HTTP 400 — open.feishu.cn …/api-call-guide/frequency-control), 11232 the
 * limit under system load (same page), 1500/1503 internal errors (generic error codes); 230020,
 * the chat's message rate, from the message-create error table as remembered — unverified here.
 */
export const FEISHU_TRANSIENT_CODES = new Set([99991400, 11232, 230020, 1500, 1503]);

/** A failed SDK call (axios error, or a body with a non-zero code) as a typed PlatformError. */
export function feishuError(what: string, err: unknown, body?: ApiResult): PlatformError {
  const ax = err as { response?: { status?: number; data?: ApiResult; headers?: Record<string, unknown> }; code?: string; message?: string } | undefined;
  const status = ax?.response?.status;
  const data = body ?? ax?.response?.data;
  const code = data?.code;
  const reset = Number(ax?.response?.headers?.['x-ogw-ratelimit-reset']);
  const permanent = code !== undefined && !FEISHU_TOKEN_CODES.has(code) && !FEISHU_TRANSIENT_CODES.has(code)
    ? FEISHU_PERMANENT_CODES.has(code) || (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
    : false;
  return new PlatformError({
    platform: PLATFORM,
    message: `Feishu ${what} failed: ${status ?? ''} ${code ?? ax?.code ?? ''} ${data?.msg ?? ax?.message ?? ''}`.replace(/\s+/g, ' ').trim(),
    status, code, permanent, retryAfterMs: Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined, cause: err,
  });
}

const isTokenError = (e: PlatformError) => typeof e.code === 'number' && FEISHU_TOKEN_CODES.has(e.code);

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
  if (!res || (res.code !== undefined && res.code !== 0)) throw feishuError(what, undefined, res ?? { msg: 'no answer' });
  return res.data ?? {};
}

export class FeishuSender implements Sender {
  readonly platform = PLATFORM;

  constructor(private client: lark.Client, private o: { forms: Forms; isDirectChat: (chatId: string) => boolean; log: Logger }) {}

  async send(reply: Outgoing, key: string): Promise<void> {
    const receive = reply.to === 'user'
      ? { type: 'open_id' as const, id: reply.target }
      : { type: 'chat_id' as const, id: reply.target };
    const direct = reply.direct || this.o.isDirectChat(reply.target);
    const parts: Array<{ msg_type: string; content: string }> = [];
    if (reply.card || reply.actions?.length) {
      parts.push({ msg_type: 'interactive', content: JSON.stringify(replyCard(reply, { forms: this.o.forms, direct })) });
    } else if (reply.text) {
      for (const t of splitText(reply.text, TEXT_LIMITS.feishu)) parts.push({ msg_type: 'text', content: JSON.stringify({ text: t }) });
    }
    if (reply.image) parts.push({ msg_type: 'image', content: JSON.stringify({ image_key: await this.uploadImage(reply.image) }) });
    if (reply.file) parts.push({ msg_type: 'file', content: JSON.stringify({ file_key: await this.uploadFile(reply.file) }) });
    // Each part has its own uuid: a retry of the whole reply re-sends only what Feishu has not taken.
    for (const [i, p] of parts.entries()) {
      await this.call('message send', () => this.client.im.message.create({
        params: { receive_id_type: receive.type },
        data: { receive_id: receive.id, msg_type: p.msg_type, content: p.content, uuid: feishuUuid(key, i) },
      }) as Promise<ApiResult>);
    }
  }

  /** One API call; on a token invalidated early, the token is dropped and the call made once more. */
  private async call(what: string, fn: () => Promise<ApiResult>): Promise<Record<string, any>> {
    for (let attempt = 0; ; attempt++) {
      let err: PlatformError;
      try {
        return check(await fn(), what);
      } catch (e) {
        err = e instanceof PlatformError ? e : feishuError(what, e);
      }
      if (attempt > 0 || !isTokenError(err)) throw err;
      this.o.log.warn({ code: err.code }, 'Feishu token invalidated early: fetching a new one');
      forgetToken(this.client);
    }
  }

  /**
   * An image, file, voice or video a user sent: im.messageResource.get with the message id and
   * the file key (https://open.feishu.cn/document/server-docs/im-v1/message/get-2); `type` is
   * `image` for images, `file` for everything else.
   */
  async download(messageId: string | undefined, a: Attachment): Promise<Buffer> {
    if (!messageId) throw new Error('Feishu resource download needs the message id');
    const res = await this.client.im.messageResource.get({ path: { message_id: messageId, file_key: a.key }, params: { type: a.kind === 'image' ? 'image' : 'file' } });
    const chunks: Buffer[] = [];
    for await (const c of res.getReadableStream()) chunks.push(Buffer.from(c as Buffer));
    return Buffer.concat(chunks);
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
