/**
 * WeCom self-built app (自建应用) over its HTTP callback — the server-API alternative to wechaty.
 * Members chat one-to-one with the app; messages arrive encrypted at `/wecom/callback`, replies
 * go out through `message/send` with `enable_duplicate_check`.
 *
 * Callback: https://developer.work.weixin.qq.com/document/path/90930
 * Send: https://developer.work.weixin.qq.com/document/path/90236
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { Sender } from '../../outbound.js';
import type { Reply } from '../../reply.js';
import { makeEvent, type BotEvent } from '../../event.js';
import { handleAndDeliver, InFlight, instant, safeEqual, SeenIds, within, type AdapterDeps, type Forms } from '../common.js';
import { decryptWecom, verifyWecomSignature, xmlField } from './crypto.js';
import { replyText } from './wechaty.js';

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
  const seen = new SeenIds(20_000, 24 * 3_600_000, now);
  const inflight = new InFlight();
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

  function decode(xml: string): BotEvent | null {
    if (xmlField(xml, 'MsgType') !== 'text') return null;
    const from = xmlField(xml, 'FromUserName');
    const msgId = xmlField(xml, 'MsgId');
    if (!from || !msgId) return null;
    return makeEvent({
      platform, chatId: from, direct: true, senderId: from, messageId: msgId,
      at: instant(Number(xmlField(xml, 'CreateTime')) * 1000, now()),
      text: (xmlField(xml, 'Content') ?? '').trim(),
    }, log);
  }

  async function receive(req: HttpRequest): Promise<HttpResponse> {
    const r = open(req.query, xmlField(req.body.toString('utf8'), 'Encrypt'));
    if ('status' in r) return r;
    const event = decode(r.message);
    if (!event) return { status: 200, body: '' };
    if (seen.check(event.messageId!)) { event.log.info('redelivered message dropped'); return { status: 200, body: '' }; }
    const work = inflight.track(handleAndDeliver(event, deps, platform).then((replies) => {
      if (!replies) seen.forget(event.messageId!);
    }));
    await within(work, o.ackWithinMs ?? 2_500);
    return { status: 200, body: '' };
  }

  async function accessToken(): Promise<string> {
    if (token && token.expires - 300_000 > now()) return token.value;
    const res = await fetch(`${apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(o.corpId)}&corpsecret=${encodeURIComponent(o.secret)}`);
    const out = await res.json().catch(() => ({})) as { errcode?: number; errmsg?: string; access_token?: string; expires_in?: number };
    if (!out.access_token) throw new Error(`WeCom access token refused: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim());
    token = { value: out.access_token, expires: now() + (out.expires_in ?? 7200) * 1000 };
    return token.value;
  }

  async function call(path: string, init: RequestInit): Promise<Record<string, any>> {
    const res = await fetch(`${apiBase}${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(await accessToken())}`, init);
    const out = await res.json().catch(() => ({})) as Record<string, any>;
    if (!res.ok || out.errcode) throw new Error(`WeCom ${path} failed: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim());
    return out;
  }

  async function post(msg: Record<string, unknown>, touser: string): Promise<void> {
    await call('/cgi-bin/message/send', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ touser, agentid: Number(o.agentId), enable_duplicate_check: 1, duplicate_check_interval: 1800, ...msg }),
    });
  }

  async function upload(path: string, type: 'image' | 'file'): Promise<string> {
    const form = new FormData();
    form.append('media', new Blob([await readFile(path)]), basename(path));
    return (await call(`/cgi-bin/media/upload?type=${type}`, { method: 'POST', body: form })).media_id as string;
  }

  const sender: Sender = {
    platform,
    async send(reply: Reply) {
      // App messages are one-to-one, so a chat target is the member's userid.
      if (!reply.target) throw new Error('WeCom reply without a target');
      const text = replyText(reply, o.forms ?? {});
      if (text) await post({ msgtype: 'text', text: { content: text } }, reply.target);
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
    idle: () => inflight.idle(),
  };
}
