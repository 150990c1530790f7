/**
 * The DingTalk adapter: robot messages in over Stream mode or the outgoing-robot HTTP callback,
 * replies out through the session webhook or the robot API (see `sender.ts`).
 *
 * Card clicks come back the way the card says (`callbackType`): over the Stream connection
 * (topic `/v1.0/card/instances/callback`), or in HTTP mode as a POST to the URL registered for
 * the route key (https://open.dingtalk.com/document/orgapp/event-callback-card) — here
 * `/dingtalk/card`, guarded by a secret in its query because that POST carries no signature we
 * could check.
 */
import type { DWClientDownStream } from 'dingtalk-stream';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { Reply } from '../../reply.js';
import { deliver, memoryProofs, safeEqual, type AdapterDeps, type Forms } from '../common.js';
import { Intake } from '../intake.js';
import { stackMentions, type PlatformAdapter } from '../adapter.js';
import { HealthCell } from '../health.js';
import { decodeCardCallback, decodeRobotMessage, PLATFORM, type CardCallback, type RobotMessage } from './decode.js';
import { DingtalkSender } from './sender.js';
import { MAX_SKEW_MS, verifyDingtalkRequest } from './sign.js';
import { dwLink, superviseStream, type Ack, type StreamLink } from './stream.js';
import { formGuide } from './card.js';

export { PLATFORM } from './decode.js';
export { dingtalkSign } from './sign.js';
export { superviseStream, dwLink, type StreamLink } from './stream.js';

export interface DingtalkOptions {
  /** AppKey / Client ID of the enterprise-internal app that owns the robot. */
  clientId: string;
  /** AppSecret / Client Secret: signs HTTP callbacks and gets access tokens. */
  clientSecret: string;
  /** Defaults to the client id (enterprise-internal robots). */
  robotCode?: string;
  botName: string;
  apiBase?: string;
  oapiBase?: string;
  forms?: Forms;
  ackWithinMs?: number;
  /** 'stream' (default): the bot opens the connection; 'http': DingTalk POSTs to our routes. */
  mode?: 'stream' | 'http';
  /** HTTP mode: the route key our card callback URL is registered under, and the secret in its query. */
  cardRouteKey?: string;
  cardSecret?: string;
  path?: string;
  cardPath?: string;
  /** Stream mode: supervision timings and the connection factory (tests). */
  stream?: { minDelayMs?: number; maxDelayMs?: number; heartbeatMs?: number; gatewayBase?: string; link?: () => StreamLink };
  now?: () => number;
}

export interface DingtalkAdapter extends PlatformAdapter {
  platform: typeof PLATFORM;
  sender: DingtalkSender;
  /** HTTP mode: POST /dingtalk/robot (outgoing robot) and POST /dingtalk/card (card clicks). */
  routes(): RouteDef[];
  handleCallback(req: HttpRequest): Promise<HttpResponse>;
  handleCardCallback(req: HttpRequest): Promise<HttpResponse>;
  /** Stream mode: the handler for topic `/v1.0/im/bot/messages/get`; always acknowledges. */
  onRobotMessage(res: DWClientDownStream, ack: Ack): Promise<void>;
  /** Stream mode: the handler for topic `/v1.0/card/instances/callback`. */
  onCardCallback(res: DWClientDownStream, ack: Ack): Promise<void>;
}

export function createDingtalkAdapter(o: DingtalkOptions, deps: AdapterDeps): DingtalkAdapter {
  const log = deps.log.child({ adapter: PLATFORM });
  const now = o.now ?? Date.now;
  const forms = o.forms ?? {};
  const intake = new Intake(deps, PLATFORM, { ackWithinMs: o.ackWithinMs, now });
  const decodeOpts = { botName: o.botName, log, now };
  // Durable when the composition root provides it (across restarts); otherwise this process only.
  const firstSeen = deps.firstSeen ?? memoryProofs(now);
  const mode = o.mode ?? 'stream';
  const health = new HealthCell(PLATFORM, mode);
  const cardCallback = mode === 'stream' ? { callbackType: 'STREAM' as const }
    : o.cardRouteKey ? { callbackType: 'HTTP' as const, callbackRouteKey: o.cardRouteKey } : undefined;
  if (!cardCallback) log.warn('DINGTALK_CARD_ROUTE_KEY is not set: in HTTP mode clicks on 填报 cards reach nobody');
  const sender = new DingtalkSender({
    clientId: o.clientId, clientSecret: o.clientSecret, robotCode: o.robotCode ?? o.clientId,
    apiBase: o.apiBase, oapiBase: o.oapiBase, forms, log, now, cardCallback,
  });
  let stream: { stop(): Promise<void> } | undefined;


  /** Takes one robot message; resolves when answered or when the ack window closes. */
  async function take(m: RobotMessage): Promise<void> {
    const event = decodeRobotMessage(m, decodeOpts);
    if (!event) { log.warn({ msgId: m?.msgId }, 'robot message without id, conversation or sender: ignored'); return; }
    sender.remember(m);
    if (!intake.accept(event.messageId!)) { event.log.info('redelivered message dropped'); return; }
    await intake.take(event);
  }

  async function takeCard(d: CardCallback): Promise<void> {
    const c = decodeCardCallback(d, decodeOpts);
    if (c.kind === 'ignored') { log.debug({ reason: c.reason }, 'card callback ignored'); return; }
    if (c.kind === 'open') {
      sender.rememberDirect(c.userId);
      const guide: Reply = { to: 'user', target: c.userId, platform: PLATFORM, text: formGuide(forms, c.form) };
      await deliver([guide], deps, PLATFORM, `card-open:${d.outTrackId}:${c.userId}:${c.form}`, log);
      return;
    }
    if (c.event.direct) sender.rememberDirect(c.event.chatId);
    if (!intake.accept(c.event.messageId!)) { c.event.log.info('card submitted again: dropped'); return; }
    await intake.take(c.event);
  }

  const parse = <T>(data: string): T | undefined => { try { return JSON.parse(data) as T; } catch { return undefined; } };

  async function handleCallback(req: HttpRequest): Promise<HttpResponse> {
    const v = verifyDingtalkRequest(req.headers, o.clientSecret, now());
    if (!v.ok) return { status: v.status, body: { error: 'unauthorized' }, refusal: v.reason };
    // The sign covers only the timestamp (it is a function of it), so the timestamp is the proof:
    // accepted once while it would be accepted at all, or a captured pair could carry any body.
    const ts = String(req.headers.timestamp);
    if (!(await firstSeen('dingtalk-http-sign', ts, Number(ts) + MAX_SKEW_MS))) {
      return { status: 403, body: { error: 'unauthorized' }, refusal: `replayed request (timestamp ${ts} already used)` };
    }
    const m = parse<RobotMessage>(req.body.toString('utf8'));
    if (!m || typeof m !== 'object') return { status: 400, body: { error: 'bad request' }, refusal: 'body is not JSON' };
    await take(m);
    return { status: 200, body: {} };
  }

  async function handleCardCallback(req: HttpRequest): Promise<HttpResponse> {
    const secret = req.query.get('secret') ?? '';
    if (!o.cardSecret || !safeEqual(secret, o.cardSecret)) return { status: 401, body: { error: 'unauthorized' }, refusal: 'card callback without the secret of its registered URL' };
    const d = parse<CardCallback>(req.body.toString('utf8'));
    if (!d || typeof d !== 'object') return { status: 400, body: { error: 'bad request' }, refusal: 'body is not JSON' };
    await takeCard(d);
    return { status: 200, body: {} };
  }

  const adapter: DingtalkAdapter = {
    platform: PLATFORM,
    transport: mode,
    sender,
    handleCallback,
    handleCardCallback,
    routes: () => (mode === 'http' ? [
      { method: 'POST', path: o.path ?? '/dingtalk/robot', handler: handleCallback },
      ...(o.cardSecret ? [{ method: 'POST' as const, path: o.cardPath ?? '/dingtalk/card', handler: handleCardCallback }] : []),
    ] : []),
    async onRobotMessage(res, ack) {
      try {
        const m = parse<RobotMessage>(res.data);
        if (m) await take(m);
        else log.warn('stream robot message is not JSON: ignored');
      } catch (err) {
        // The SDK calls this without awaiting: a rejection here would end the process.
        log.error({ err }, 'stream robot message could not be taken');
      } finally {
        ack(res.headers.messageId, {});
      }
    },
    async onCardCallback(res, ack) {
      try {
        const d = parse<CardCallback>(res.data);
        if (d) await takeCard(d);
      } catch (err) {
        log.error({ err }, 'stream card callback could not be taken');
      } finally {
        ack(res.headers.messageId, {});
      }
    },
    async start() {
      if (mode === 'http') { health.set('ready'); return; }
      if (stream) return;
      const link = o.stream?.link ?? (() => dwLink({ clientId: o.clientId, clientSecret: o.clientSecret, apiBase: o.stream?.gatewayBase ?? o.apiBase, heartbeatMs: o.stream?.heartbeatMs }, adapter, log));
      health.set('starting');
      stream = superviseStream(link, { log, minDelayMs: o.stream?.minDelayMs, maxDelayMs: o.stream?.maxDelayMs, report: (s, detail, attempts) => health.set(s, detail, attempts) });
    },
    async stop() {
      const s = stream;
      stream = undefined;
      if (s) await s.stop();
      health.set('stopped');
    },
    health: () => health.get(),
    // 2.1.5's heartbeat interval is the known thrower ("WebSocket is not open").
    owns: (err) => stackMentions(err, 'node_modules/dingtalk-stream/', 'adapters/dingtalk/'),
    idle: () => intake.idle(),
  };
  return adapter;
}
