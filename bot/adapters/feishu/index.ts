/**
 * The Feishu/Lark adapter: HTTP event callback or long connection in, `im.message.create` out.
 *
 * Inbound checks the SDK does not do (docs/platforms.md#feishu-sdk-gaps, the SDK's `dispatcher/request-handle.ts`): the
 * signature over the raw body, the verification token, the request's age (5 minutes), and
 * deduplication of `event_id` and `message_id`. The SDK's `EventDispatcher` then routes the
 * decrypted event to our handlers — the same dispatcher serves the long connection (`WSClient`).
 *
 * Card clicks (`card.action.trigger`) go through the same dispatcher rather than the SDK's
 * `CardActionHandler`: that class always re-checks the signature over `JSON.stringify` of the
 * parsed body, which fails for a body with other spacing, and our raw-body check is stricter.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { BotEvent } from '../../event.js';
import type { Reply } from '../../reply.js';
import { deliver, safeEqual, type AdapterDeps, type Forms } from '../common.js';
import { Intake, TIMED_OUT } from '../intake.js';
import { stackMentions, type PlatformAdapter } from '../adapter.js';
import { Backoff, HealthCell, pause } from '../health.js';
import { decryptFeishu, verifyFeishuSignature } from './crypto.js';
import { decodeCardAction, decodeMessage, PLATFORM, type FlatCardAction, type FlatMessageEvent } from './decode.js';
import { formInDirect, openFormResponse, sentToDirectResponse, submitResponse } from './card.js';
import { feishuClient, FeishuSender, sdkLogger } from './sender.js';
import { FEISHU_APP_ID_PATTERN } from './platform.js';

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
  /** 'ws' (default): the long connection; 'http': Feishu POSTs to our routes. */
  mode?: 'ws' | 'http';
  /** Long connection: back-off after the SDK gives up, handshake deadline, liveness watchdog. */
  ws?: { minDelayMs?: number; maxDelayMs?: number; handshakeTimeoutMs?: number; pingTimeoutSec?: number; watchEveryMs?: number };
  now?: () => number;
}

export interface FeishuAdapter extends PlatformAdapter {
  platform: typeof PLATFORM;
  sender: FeishuSender;
  dispatcher: lark.EventDispatcher;
  /** HTTP mode: POST routes for the callback (events and card clicks); throws when the keys are missing. */
  routes(): RouteDef[];
  handleCallback(req: HttpRequest): Promise<HttpResponse>;
}

/** What the long connection needs of `lark.WSClient` (a real one, or one pointed at a test server). */
type WsCallbacks = { onReady(): void; onError(err: Error): void; onReconnecting(): void; onReconnected(): void };

/**
 * Feishu's long connection, kept up. `WSClient.start()` returns before the socket is open and
 * its own retry loop is not awaited (docs/platforms.md#feishu-long-connection), so its callbacks are the only news: onReady
 * and onReconnected → ready; onReconnecting → reconnecting; onError (a refused endpoint, e.g.
 * a wrong secret or the 50-connection limit; or its retries exhausted) → the client is closed
 * and a fresh one started after a back-off of 1 s, 2 s … up to 5 minutes. While the SDK retries
 * on its own (its interval comes from the server, 2 minutes by default), a watcher reads
 * `getConnectionStatus()` and logs each new attempt, so an outage is never silent.
 */
function superviseWs(o: FeishuOptions, dispatcher: lark.EventDispatcher, health: HealthCell, log: Logger): { stop(): Promise<void> } {
  const backoff = new Backoff(o.ws?.minDelayMs ?? 1_000, o.ws?.maxDelayMs ?? 300_000);
  let stopped = false;
  let client: lark.WSClient | undefined;
  let wait: ReturnType<typeof pause> | undefined;
  let failures = 0;
  let lastAttempts = 0;

  const open = (): void => {
    if (stopped) return;
    const cb: WsCallbacks = {
      onReady: () => { failures = 0; backoff.reset(); health.set('ready'); log.info('Feishu long connection ready'); },
      onReconnected: () => { failures = 0; health.set('ready'); log.info('Feishu long connection reconnected'); },
      onReconnecting: () => { health.set('reconnecting', '连接已断开，SDK 正在重连'); log.warn('Feishu long connection dropped: reconnecting'); },
      onError: (err) => {
        if (client === c) client = undefined;
        c.close({ force: true });
        if (stopped) return;
        failures++;
        const ms = backoff.next();
        health.set('reconnecting', `${err.message}；${Math.round(ms / 1000)} 秒后重试`, failures);
        log.warn({ err: err.message, failures, retryInMs: ms }, 'Feishu long connection failed: retrying with a new client');
        wait = pause(ms);
        void wait.done.then((go) => { wait = undefined; if (go) open(); });
      },
    };
    const c = new lark.WSClient({
      appId: o.appId, appSecret: o.appSecret, domain: o.domain ?? lark.Domain.Feishu, logger: sdkLogger(log), loggerLevel: lark.LoggerLevel.warn,
      handshakeTimeoutMs: o.ws?.handshakeTimeoutMs ?? 15_000, wsConfig: { pingTimeout: o.ws?.pingTimeoutSec ?? 0 },
      ...cb,
    });
    client = c;
    lastAttempts = 0;
    void c.start({ eventDispatcher: dispatcher }).catch((err: Error) => cb.onError(err));
  };

  const watch = setInterval(() => {
    const st = client?.getConnectionStatus();
    if (!st || st.reconnectAttempts === lastAttempts) return;
    lastAttempts = st.reconnectAttempts;
    if (st.state === 'connected') return;
    const next = st.nextConnectTime ? Math.max(0, Math.round((st.nextConnectTime - Date.now()) / 1000)) : undefined;
    health.set('reconnecting', `第 ${st.reconnectAttempts} 次重连未成功${next !== undefined ? `；约 ${next} 秒后再试` : ''}`, st.reconnectAttempts);
    log.warn({ attempts: st.reconnectAttempts, nextInSec: next }, 'Feishu long connection still down');
  }, o.ws?.watchEveryMs ?? 5_000);
  watch.unref();

  open();
  return {
    async stop() {
      stopped = true;
      clearInterval(watch);
      wait?.cancel();
      client?.close({ force: true });
      client = undefined;
    },
  };
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
  const maxSkew = o.maxSkewMs ?? 5 * 60_000;
  // Feishu may resend one message under a new event id: both ids are remembered.
  const intake = new Intake(deps, PLATFORM, { ackWithinMs: o.ackWithinMs, now });
  const chats = new ChatKinds();
  const decodeOpts = { botOpenId: o.botOpenId, botName: o.botName, log, now };
  const client = feishuClient({ appId: o.appId, appSecret: o.appSecret, domain: o.domain, log });
  const mode = o.mode ?? 'ws';
  const health = new HealthCell(PLATFORM, mode);
  let ws: { stop(): Promise<void> } | undefined;
  const sender = new FeishuSender(client, { forms, isDirectChat: chats.isDirect, log });

  /** True for an event id this process has taken already (a resend). */
  const resent = (eventId: unknown): boolean => {
    if (typeof eventId !== 'string' || intake.accept(`event:${eventId}`)) return false;
    log.info({ event_id: eventId }, 'redelivered event dropped');
    return true;
  };
  /** The ids a failure forgets, so Feishu's resend is taken again. */
  const ids = (event: BotEvent, eventId: unknown): string[] => [`message:${event.messageId}`, ...(typeof eventId === 'string' ? [`event:${eventId}`] : [])];

  const dispatcher = new lark.EventDispatcher({
    encryptKey: o.encryptKey, verificationToken: o.verificationToken, logger: sdkLogger(log), loggerLevel: lark.LoggerLevel.warn,
  }).register({
    'im.message.receive_v1': async (flat: FlatMessageEvent) => {
      if (resent(flat.event_id)) return {};
      const event = decodeMessage(flat, decodeOpts);
      if (!event) return {};
      chats.set(event.chatId, event.direct);
      if (!intake.accept(`message:${event.messageId}`)) {
        event.log.info('redelivered message dropped');
        return {};
      }
      await intake.take(event, ids(event, flat.event_id));
      return {};
    },
    'card.action.trigger': async (flat: FlatCardAction) => {
      if (resent(flat.event_id)) return {};
      const d = decodeCardAction(flat, { ...decodeOpts, isDirectChat: chats.isDirect });
      if (d.kind === 'ignored') { log.debug({ reason: d.reason }, 'card callback ignored'); return {}; }
      if (d.kind === 'open') {
        if (d.direct) return openFormResponse(forms, d.form, true, d.values);
        const dm = formInDirect(forms, d.form, d.operator, PLATFORM, d.values);
        if (!dm) return openFormResponse(forms, d.form, false, d.values);
        void intake.track(deliver([dm], deps, PLATFORM, `card-open:${flat.context?.open_message_id ?? flat.open_message_id}:${d.operator}:${d.form}`, log));
        return sentToDirectResponse();
      }
      if (!intake.accept(`message:${d.event.messageId}`)) {
        d.event.log.info('card submitted again: dropped');
        return submitResponse(undefined);
      }
      const r = await intake.take(d.event, ids(d.event, flat.event_id));
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
    // The app an event is for (docs/platforms.md#feishu-events): one Encrypt Key shared by two apps must not let the
    // other app's events in. v2 events carry it in the header, old card callbacks at the top.
    const appId = payload.header?.app_id ?? payload.app_id;
    if (appId !== undefined && (typeof appId !== 'string' || !safeEqual(appId, o.appId))) return refuse(401, `event for another app (${String(appId)})`);
    if (appId === undefined && payload.schema === '2.0') return refuse(401, 'event without app_id');
    const result = await dispatcher.invoke(payload, { needCheck: false });
    return { status: 200, body: result && typeof result === 'object' ? result : {} };
  }

  return {
    platform: PLATFORM,
    transport: mode,
    sender,
    dispatcher,
    handleCallback,
    routes() {
      if (mode !== 'http') return [];
      if (!o.encryptKey || !o.verificationToken) {
        throw new Error('飞书 HTTP 回调需要 FEISHU_ENCRYPT_KEY 和 FEISHU_VERIFICATION_TOKEN（开发者后台 → 事件与回调 → 加密策略）；或改用长连接 FEISHU_MODE=ws');
      }
      const handler = (req: HttpRequest) => handleCallback(req);
      return [
        { method: 'POST', path: o.paths?.events ?? '/feishu/events', handler },
        { method: 'POST', path: o.paths?.cards ?? '/feishu/cards', handler },
      ];
    },
    async start() {
      if (mode === 'http') { health.set('ready'); return; }
      // The SDK's start() logs and returns, connecting nothing, for an id of another shape.
      if (!FEISHU_APP_ID_PATTERN.test(o.appId)) throw new Error(`FEISHU_APP_ID「${o.appId}」不是飞书应用 ID（应为 cli_ 加 16 位十六进制，见开发者后台 → 凭证与基础信息）`);
      if (ws) return;
      health.set('starting');
      ws = superviseWs(o, dispatcher, health, log);
    },
    async stop() {
      const w = ws;
      ws = undefined;
      if (w) await w.stop();
      health.set('stopped');
    },
    health: () => health.get(),
    owns: (err) => stackMentions(err, 'node_modules/@larksuiteoapi/', 'adapters/feishu/'),
    idle: () => intake.idle(),
  };
}
