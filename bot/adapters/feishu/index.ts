/**
 * The Feishu/Lark adapter: HTTP event callback or long connection in, `im.message.create` out.
 *
 * Inbound checks the SDK does not do (PLATFORMS.md, `dispatcher/request-handle.ts`): the
 * signature over the raw body, the verification token, the request's age (5 minutes), and
 * deduplication of `event_id` and `message_id`. The SDK's `EventDispatcher` then routes the
 * decrypted event to our handlers — the same dispatcher serves the long connection (`WSClient`).
 *
 * Card clicks (`card.action.trigger`) go through the same dispatcher rather than the SDK's
 * `CardActionHandler`: that class always re-checks the signature over `JSON.stringify` of the
 * parsed body, which fails for a body with other spacing, and our raw-body check is stricter.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { BotEvent } from '../../event.js';
import type { Reply } from '../../reply.js';
import { handleAndDeliver, InFlight, safeEqual, SeenIds, TIMED_OUT, within, type AdapterDeps, type Forms } from '../common.js';
import { decryptFeishu, verifyFeishuSignature } from './crypto.js';
import { decodeCardAction, decodeMessage, PLATFORM, type FlatCardAction, type FlatMessageEvent } from './decode.js';
import { openFormResponse, submitResponse } from './card.js';
import { feishuClient, FeishuSender, sdkLogger } from './sender.js';

export { PLATFORM } from './decode.js';
export { signedCallback, signedMessageCallback, messageEvent } from './crypto.js';

export interface FeishuOptions {
  appId: string;
  appSecret: string;
  /** Encrypt Key of the app's event subscription; required for the HTTP callback. */
  encryptKey?: string;
  /** Verification Token of the app's event subscription; required for the HTTP callback. */
  verificationToken?: string;
  /** The bot's open_id, to recognise a mention of the bot (else matched by `botName`). */
  botOpenId?: string;
  botName: string;
  /** Open platform base URL: https://open.feishu.cn (default) or https://open.larksuite.com. */
  domain?: string;
  /** Card forms by name (see `formsFromCommands`). */
  forms?: Forms;
  /** Answer a callback after this long even if the work is not done (Feishu resends after ~3 s). */
  ackWithinMs?: number;
  /** Oldest acceptable `X-Lark-Request-Timestamp`, and how far in the future. */
  maxSkewMs?: number;
  paths?: { events?: string; cards?: string };
  now?: () => number;
}

export interface FeishuAdapter {
  platform: typeof PLATFORM;
  sender: FeishuSender;
  dispatcher: lark.EventDispatcher;
  /** POST routes for the HTTP callback (events and card clicks); throws when the keys are missing. */
  routes(): RouteDef[];
  handleCallback(req: HttpRequest): Promise<HttpResponse>;
  /** Starts the long connection; events arrive through the same dispatcher. */
  startLongConnection(): Promise<{ close(): void }>;
  /** Resolves when every event taken so far has been answered. */
  idle(): Promise<void>;
}

const refuse = (status: number, refusal: string): HttpResponse => ({ status, body: { error: status === 400 ? 'bad request' : 'unauthorized' }, refusal });

/** Remembers which chats are one-to-one, so cards and replies there may show personal data. */
class ChatKinds {
  private m = new Map<string, boolean>();
  set(id: string, direct: boolean): void {
    this.m.delete(id);
    this.m.set(id, direct);
    if (this.m.size > 50_000) this.m.delete(this.m.keys().next().value as string);
  }
  isDirect = (id: string): boolean => this.m.get(id) ?? false;
}

export function createFeishuAdapter(o: FeishuOptions, deps: AdapterDeps): FeishuAdapter {
  const log = deps.log.child({ adapter: PLATFORM });
  const now = o.now ?? Date.now;
  const forms = o.forms ?? {};
  const ackWithin = o.ackWithinMs ?? 2_500;
  const maxSkew = o.maxSkewMs ?? 5 * 60_000;
  const seenEvents = new SeenIds(20_000, 24 * 3_600_000, now);
  const seenMessages = new SeenIds(20_000, 24 * 3_600_000, now);
  const chats = new ChatKinds();
  const inflight = new InFlight();
  const decodeOpts = { botOpenId: o.botOpenId, botName: o.botName, log, now };
  const client = feishuClient({ appId: o.appId, appSecret: o.appSecret, domain: o.domain, log });
  const sender = new FeishuSender(client, { forms, isDirectChat: chats.isDirect, log });

  /** Handles and replies; on failure forgets the delivery so Feishu's resend is taken again. */
  const run = (event: BotEvent, eventId: unknown): Promise<Reply[] | undefined> => inflight.track(handleAndDeliver(event, deps, PLATFORM).then((replies) => {
    if (!replies) {
      seenMessages.forget(event.messageId!);
      if (typeof eventId === 'string') seenEvents.forget(eventId);
    }
    return replies;
  }));

  /** True for an event id this process has taken already (a resend). */
  const resent = (eventId: unknown): boolean => {
    if (typeof eventId !== 'string' || !seenEvents.check(eventId)) return false;
    log.info({ event_id: eventId }, 'redelivered event dropped');
    return true;
  };

  const dispatcher = new lark.EventDispatcher({
    encryptKey: o.encryptKey, verificationToken: o.verificationToken, logger: sdkLogger(log), loggerLevel: lark.LoggerLevel.warn,
  }).register({
    'im.message.receive_v1': async (flat: FlatMessageEvent) => {
      if (resent(flat.event_id)) return {};
      const event = decodeMessage(flat, decodeOpts);
      if (!event) return {};
      chats.set(event.chatId, event.direct);
      if (seenMessages.check(event.messageId!)) {
        event.log.info('redelivered message dropped');
        return {};
      }
      await within(run(event, flat.event_id), ackWithin);
      return {};
    },
    'card.action.trigger': async (flat: FlatCardAction) => {
      if (resent(flat.event_id)) return {};
      const d = decodeCardAction(flat, { ...decodeOpts, isDirectChat: chats.isDirect });
      if (d.kind === 'ignored') { log.debug({ reason: d.reason }, 'card callback ignored'); return {}; }
      if (d.kind === 'open') return openFormResponse(forms, d.form, d.direct);
      if (seenMessages.check(d.event.messageId!)) {
        d.event.log.info('card submitted again: dropped');
        return submitResponse(undefined);
      }
      const r = await within(run(d.event, flat.event_id), ackWithin);
      return submitResponse(r === TIMED_OUT ? undefined : r);
    },
  });

  async function handleCallback(req: HttpRequest): Promise<HttpResponse> {
    const encryptKey = o.encryptKey!;
    const token = o.verificationToken!;
    let outer: { encrypt?: unknown };
    try { outer = JSON.parse(req.body.toString('utf8')); } catch { return refuse(400, 'body is not JSON'); }
    if (!outer || typeof outer.encrypt !== 'string') return refuse(401, 'unencrypted callback: set the Encrypt Key in the developer console');
    const h = (n: string) => { const v = req.headers[n]; return Array.isArray(v) ? v[0] : v; };
    const ts = h('x-lark-request-timestamp');
    const nonce = h('x-lark-request-nonce');
    const signature = h('x-lark-signature');
    if (signature !== undefined) {
      if (!ts || !nonce || !verifyFeishuSignature(ts, nonce, encryptKey, req.body, signature)) return refuse(401, 'bad signature');
      const age = now() - Number(ts) * 1000;
      if (!Number.isFinite(age) || Math.abs(age) > maxSkew) return refuse(403, `stale or replayed request (timestamp ${ts})`);
    }
    let payload: Record<string, any>;
    try { payload = JSON.parse(decryptFeishu(encryptKey, outer.encrypt)); } catch { return refuse(401, 'payload does not decrypt with the Encrypt Key'); }
    const sent = payload?.header?.token ?? payload?.token;
    if (typeof sent !== 'string' || !safeEqual(sent, token)) return refuse(401, 'verification token mismatch');
    if (payload.type === 'url_verification') return { status: 200, body: { challenge: payload.challenge } };
    // Only the URL check comes unsigned; an unsigned event could be a replay of any old body.
    if (signature === undefined) return refuse(401, 'unsigned event');
    // The app an event is for (PLATFORMS.md): one Encrypt Key shared by two apps must not let the
    // other app's events in. v2 events carry it in the header, old card callbacks at the top.
    const appId = payload.header?.app_id ?? payload.app_id;
    if (appId !== undefined && (typeof appId !== 'string' || !safeEqual(appId, o.appId))) return refuse(401, `event for another app (${String(appId)})`);
    if (appId === undefined && payload.schema === '2.0') return refuse(401, 'event without app_id');
    const result = await dispatcher.invoke(payload, { needCheck: false });
    return { status: 200, body: result && typeof result === 'object' ? result : {} };
  }

  return {
    platform: PLATFORM,
    sender,
    dispatcher,
    handleCallback,
    routes() {
      if (!o.encryptKey || !o.verificationToken) {
        throw new Error('飞书 HTTP 回调需要 FEISHU_ENCRYPT_KEY 和 FEISHU_VERIFICATION_TOKEN（开发者后台 → 事件与回调 → 加密策略）；或改用长连接 FEISHU_MODE=ws');
      }
      const handler = (req: HttpRequest) => handleCallback(req);
      return [
        { method: 'POST', path: o.paths?.events ?? '/feishu/events', handler },
        { method: 'POST', path: o.paths?.cards ?? '/feishu/cards', handler },
      ];
    },
    async startLongConnection() {
      const ws = new lark.WSClient({ appId: o.appId, appSecret: o.appSecret, domain: o.domain ?? lark.Domain.Feishu, logger: sdkLogger(log), loggerLevel: lark.LoggerLevel.warn });
      await ws.start({ eventDispatcher: dispatcher });
      return { close: () => ws.close() };
    },
    idle: () => inflight.idle(),
  };
}
