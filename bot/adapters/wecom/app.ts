/**
 * WeCom self-built app (自建应用) over its HTTP callback — the server-API alternative to wechaty.
 * Members chat one-to-one with the app; messages arrive encrypted at `/wecom/callback`, replies
 * go out through `message/send`. Without `enable_duplicate_check`: WeCom compares the request's
 * content, not our key, so a second identical reply (the same `/我的`, the same error) within the
 * interval would be dropped; the outbox already keeps a reply from being sent twice.
 *
 * Callback: https://developer.work.weixin.qq.com/document/path/90930
 * Send: https://developer.work.weixin.qq.com/document/path/90236
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { Sender } from '../../outbound.js';
import { splitText, TEXT_LIMITS, type Outgoing } from '../../outgoing.js';
import { networkError, PlatformError } from '../../delivery.js';
import { makeEvent, type Attachment, type BotEvent } from '../../event.js';
import { instant, safeEqual, type AdapterDeps, type Forms } from '../common.js';
import { Intake } from '../intake.js';
import { decryptWecom, verifyWecomSignature, xmlField } from './crypto.js';
import { replyText } from './wechaty.js';

/** Each call to WeCom gives up after this long; the outbox retries it. */
const TIMEOUT_MS = 20_000;

/**
 * errcodes of a token that died before `expires_in` (https://developer.work.weixin.qq.com/document/path/90313):
 * 40014 invalid access_token, 42001 access_token expired, 40001 invalid credential (a secret or
 * token no longer valid), 41001 access_token missing. A new token is fetched and the call made once more.
 */
export const WECOM_TOKEN_CODES = new Set([40001, 40014, 41001, 42001]);

/**
 * Refusals a retry cannot cure (same table): 81013 no valid receiver (unknown or out of the app's
 * scope), 60011 no permission, 60111 unknown userid, 40003 invalid userid, 48002 API forbidden,
 * 301002 no permission for the member, 44004 empty text, 40058 bad parameter. Others
 * (-1 system busy, 45009 frequency limit, …) are retried.
 */
export const WECOM_PERMANENT_CODES = new Set([81013, 60011, 60111, 40003, 48002, 301002, 44004, 40058]);

export interface WecomAppOptions {
  corpId: string;
  agentId: string;
  /** The app's Secret (for access tokens). */
  secret: string;
  /** Token and EncodingAESKey of the app's "接收消息" settings. */
  token: string;
  encodingAESKey: string;
  /** https://qyapi.weixin.qq.com (default) or a test server. */
  apiBase?: string;
  /** Account platform name; `wecom` unless wechaty runs too. */
  platform?: string;
  forms?: Forms;
  maxSkewMs?: number;
  ackWithinMs?: number;
  path?: string;
  now?: () => number;
}

export interface WecomAppAdapter {
  platform: string;
  sender: Sender;
  routes(): RouteDef[];
  idle(): Promise<void>;
}

export function createWecomAppAdapter(o: WecomAppOptions, deps: AdapterDeps): WecomAppAdapter {
  const platform = o.platform ?? 'wecom';
  const log = deps.log.child({ adapter: `${platform}-app` });
  const now = o.now ?? Date.now;
  const maxSkew = o.maxSkewMs ?? 5 * 60_000;
  const apiBase = (o.apiBase ?? 'https://qyapi.weixin.qq.com').replace(/\/$/, '');
  const intake = new Intake(deps, platform, { ackWithinMs: o.ackWithinMs, now });
  let token: { value: string; expires: number } | undefined;

  const refuse = (status: number, refusal: string): HttpResponse => ({ status, body: 'unauthorized', refusal });

  /** Signature, age and corp id: what every callback must show before it is believed. */
  function open(q: URLSearchParams, encrypted: string | undefined): { message: string } | HttpResponse {
    const sig = q.get('msg_signature');
    const ts = q.get('timestamp');
    const nonce = q.get('nonce');
    if (!encrypted || !sig || !ts || !nonce) return refuse(401, 'missing msg_signature, timestamp, nonce or payload');
    if (!verifyWecomSignature(o.token, ts, nonce, encrypted, sig)) return refuse(401, 'bad msg_signature');
    if (!Number.isFinite(Number(ts)) || Math.abs(now() - Number(ts) * 1000) > maxSkew) return refuse(403, `stale or replayed request (timestamp ${ts})`);
    let plain: { message: string; receiveId: string };
    try { plain = decryptWecom(o.encodingAESKey, encrypted); } catch { return refuse(401, 'payload does not decrypt with the EncodingAESKey'); }
    if (!safeEqual(plain.receiveId, o.corpId)) return refuse(401, 'payload is for another corp');
    return { message: plain.message };
  }

  async function verifyUrl(req: HttpRequest): Promise<HttpResponse> {
    const r = open(req.query, req.query.get('echostr') ?? undefined);
    return 'status' in r ? r : { status: 200, body: r.message };
  }

  /**
   * Text, and the evidence kinds (接收消息: https://developer.work.weixin.qq.com/document/path/90239):
   * image (MediaId, PicUrl), voice (MediaId, Format), video (MediaId), location (Location_X =
   * latitude, Location_Y = longitude, Scale, Label), and file (MediaId, FileName) should WeCom send it.
   */
  function decode(xml: string): BotEvent | null {
    const type = xmlField(xml, 'MsgType');
    const from = xmlField(xml, 'FromUserName');
    const msgId = xmlField(xml, 'MsgId');
    if (!from || !msgId) return null;
    const media = xmlField(xml, 'MediaId');
    const attachments: Attachment[] = [];
    let text = '';
    if (type === 'text') text = (xmlField(xml, 'Content') ?? '').trim();
    else if (type === 'image' && media) attachments.push({ kind: 'image', key: media, meta: { picUrl: xmlField(xml, 'PicUrl') } });
    else if (type === 'voice' && media) attachments.push({ kind: 'audio', key: media, meta: { format: xmlField(xml, 'Format') } });
    else if (type === 'video' && media) attachments.push({ kind: 'video', key: media });
    else if (type === 'file' && media) attachments.push({ kind: 'file', key: media, name: xmlField(xml, 'FileName') });
    else if (type === 'location') {
      const lat = Number(xmlField(xml, 'Location_X'));
      const lng = Number(xmlField(xml, 'Location_Y'));
      if (!Number.isFinite(lat) || !Number.isFinite(lng)) return null;
      attachments.push({ kind: 'location', key: `${lat},${lng}`, name: xmlField(xml, 'Label'), meta: { latitude: lat, longitude: lng, scale: xmlField(xml, 'Scale') } });
    } else return null;
    return makeEvent({
      platform, chatId: from, direct: true, senderId: from, messageId: msgId,
      at: instant(Number(xmlField(xml, 'CreateTime')) * 1000, now()), text, attachments,
    }, log);
  }

  async function receive(req: HttpRequest): Promise<HttpResponse> {
    const r = open(req.query, xmlField(req.body.toString('utf8'), 'Encrypt'));
    if ('status' in r) return r;
    const event = decode(r.message);
    if (!event) return { status: 200, body: '' };
    if (!intake.accept(event.messageId!)) { event.log.info('redelivered message dropped'); return { status: 200, body: '' }; }
    await intake.take(event);
    return { status: 200, body: '' };
  }

  async function accessToken(): Promise<string> {
    if (token && token.expires - 300_000 > now()) return token.value;
    let res: Response;
    try {
      res = await fetch(`${apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(o.corpId)}&corpsecret=${encodeURIComponent(o.secret)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) { throw networkError(platform, 'WeCom gettoken', err); }
    const out = await res.json().catch(() => ({})) as { errcode?: number; errmsg?: string; access_token?: string; expires_in?: number };
    if (!out.access_token) throw new PlatformError({ platform, message: `WeCom access token refused: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim(), status: res.status, code: out.errcode });
    token = { value: out.access_token, expires: now() + (out.expires_in ?? 7200) * 1000 };
    return token.value;
  }

  /** One API call; on a token invalidated early (WECOM_TOKEN_CODES) a new token and one more try. */
  async function call(path: string, init: () => RequestInit): Promise<Record<string, any>> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${apiBase}${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(await accessToken())}`, { ...init(), signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        throw networkError(platform, `WeCom ${path}`, err);
      }
      const out = await res.json().catch(() => ({})) as Record<string, any>;
      if (res.ok && !out.errcode) return out;
      if (attempt === 0 && WECOM_TOKEN_CODES.has(out.errcode)) {
        log.warn({ errcode: out.errcode }, 'WeCom token invalidated early: fetching a new one');
        token = undefined;
        continue;
      }
      const transient = !res.ok ? res.status === 429 || res.status >= 500 : !WECOM_PERMANENT_CODES.has(out.errcode);
      throw new PlatformError({
        platform, message: `WeCom ${path.split('?')[0]} failed: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim(),
        status: res.status, code: out.errcode, permanent: !transient,
      });
    }
  }

  async function post(msg: Record<string, unknown>, touser: string): Promise<void> {
    await call('/cgi-bin/message/send', () => ({
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ touser, agentid: Number(o.agentId), ...msg }),
    }));
  }

  async function upload(path: string, type: 'image' | 'file'): Promise<string> {
    const bytes = await readFile(path);
    return (await call(`/cgi-bin/media/upload?type=${type}`, () => {
      const form = new FormData();
      form.append('media', new Blob([bytes]), basename(path));
      return { method: 'POST', body: form };
    })).media_id as string;
  }

  const sender: Sender = {
    platform,
    /** An image, voice, video or file a member sent: GET /cgi-bin/media/get?media_id (path/90254). */
    async download(_messageId, a) {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${apiBase}/cgi-bin/media/get?access_token=${encodeURIComponent(await accessToken())}&media_id=${encodeURIComponent(a.key)}`, { signal: AbortSignal.timeout(TIMEOUT_MS * 3) });
        const bytes = Buffer.from(await res.arrayBuffer());
        // Errors come back as JSON; media as anything else.
        if (res.ok && !String(res.headers.get('content-type') ?? '').includes('json')) return bytes;
        const out = (() => { try { return JSON.parse(bytes.toString('utf8')) as { errcode?: number; errmsg?: string }; } catch { return {}; } })();
        if (attempt === 0 && WECOM_TOKEN_CODES.has(out.errcode ?? 0)) { token = undefined; continue; }
        throw new PlatformError({ platform, message: `WeCom media/get failed: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim(), status: res.status, code: out.errcode });
      }
    },
    async send(reply: Outgoing) {
      // App messages are one-to-one, so a chat target is the member's userid.
      const text = replyText(reply, o.forms ?? {});
      for (const part of text ? splitText(text, TEXT_LIMITS.wecom) : []) await post({ msgtype: 'text', text: { content: part } }, reply.target);
      if (reply.image) await post({ msgtype: 'image', image: { media_id: await upload(reply.image, 'image') } }, reply.target);
      if (reply.file) await post({ msgtype: 'file', file: { media_id: await upload(reply.file, 'file') } }, reply.target);
    },
  };

  return {
    platform,
    sender,
    routes: () => [
      { method: 'GET', path: o.path ?? '/wecom/callback', handler: verifyUrl },
      { method: 'POST', path: o.path ?? '/wecom/callback', handler: receive },
    ],
    idle: () => intake.idle(),
  };
}
