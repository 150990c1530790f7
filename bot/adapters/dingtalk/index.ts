/**
 * The DingTalk adapter: robot messages in over Stream mode or the outgoing-robot HTTP callback,
 * replies out through the session webhook or the robot API (see `sender.ts`).
 */
import type { DWClientDownStream } from 'dingtalk-stream';
import type { HttpRequest, HttpResponse, RouteDef } from '../../http-server.js';
import type { BotEvent } from '../../event.js';
import type { Reply } from '../../reply.js';
import { deliver, handleAndDeliver, InFlight, SeenIds, within, type AdapterDeps, type Forms } from '../common.js';
import { decodeCardCallback, decodeRobotMessage, PLATFORM, type CardCallback, type RobotMessage } from './decode.js';
import { DingtalkSender } from './sender.js';
import { MAX_SKEW_MS, verifyDingtalkRequest } from './sign.js';
import { memoryProofs } from '../common.js';
import { startStream as openStream, type Ack } from './stream.js';
import { formGuide } from './card.js';

export { PLATFORM } from './decode.js';
export { dingtalkSign } from './sign.js';
export { superviseStream } from './stream.js';

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
  path?: string;
  now?: () => number;
}

export interface DingtalkAdapter {
  platform: typeof PLATFORM;
  sender: DingtalkSender;
  /** POST /dingtalk/robot, the outgoing-robot callback. */
  routes(): RouteDef[];
  handleCallback(req: HttpRequest): Promise<HttpResponse>;
  /** Stream mode: the handler for topic `/v1.0/im/bot/messages/get`; always acknowledges. */
  onRobotMessage(res: DWClientDownStream, ack: Ack): Promise<void>;
  /** Stream mode: the handler for topic `/v1.0/card/instances/callback`. */
  onCardCallback(res: DWClientDownStream, ack: Ack): Promise<void>;
  startStream(): { stop(): void };
  idle(): Promise<void>;
}

export function createDingtalkAdapter(o: DingtalkOptions, deps: AdapterDeps): DingtalkAdapter {
  const log = deps.log.child({ adapter: PLATFORM });
  const now = o.now ?? Date.now;
  const forms = o.forms ?? {};
  const ackWithin = o.ackWithinMs ?? 2_500;
  const seen = new SeenIds(20_000, 24 * 3_600_000, now);
  const inflight = new InFlight();
  const decodeOpts = { botName: o.botName, log, now };
  // Durable when the composition root provides it (across restarts); otherwise this process only.
  const firstSeen = deps.firstSeen ?? memoryProofs(now);
  const sender = new DingtalkSender({
    clientId: o.clientId, clientSecret: o.clientSecret, robotCode: o.robotCode ?? o.clientId,
    apiBase: o.apiBase, oapiBase: o.oapiBase, forms, log, now,
  });

  const run = (event: BotEvent): Promise<Reply[] | undefined> => inflight.track(handleAndDeliver(event, deps, PLATFORM).then((replies) => {
    if (!replies) seen.forget(event.messageId!);
    return replies;
  }));

  /** Takes one robot message; resolves when answered or when the ack window closes. */
  async function take(m: RobotMessage): Promise<void> {
    const event = decodeRobotMessage(m, decodeOpts);
    if (!event) { log.warn({ msgId: m?.msgId }, 'robot message without id, conversation or sender: ignored'); return; }
    sender.remember(m);
    if (seen.check(event.messageId!)) { event.log.info('redelivered message dropped'); return; }
    await within(run(event), ackWithin);
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
    if (seen.check(c.event.messageId!)) { c.event.log.info('card submitted again: dropped'); return; }
    await within(run(c.event), ackWithin);
  }

  const parse = <T>(data: string): T | undefined => { try { return JSON.parse(data) as T; } catch { return undefined; } };

  async function handleCallback(req: HttpRequest): Promise<HttpResponse> {
    const v = verifyDingtalkRequest(req.headers, o.clientSecret, now());
    if (!v.ok) return { status: v.status, body: { error: 'unauthorized' }, refusal: v.reason };
    // The sign covers only the timestamp (it is a function of it), so the timestamp is the proof:
    // accepted once while it would be accepted at all, or a captured pair could carry any body.
    const ts = String(req.headers.timestamp);
    if (!firstSeen('dingtalk-http-sign', ts, Number(ts) + MAX_SKEW_MS)) {
      return { status: 403, body: { error: 'unauthorized' }, refusal: `replayed request (timestamp ${ts} already used)` };
    }
    const m = parse<RobotMessage>(req.body.toString('utf8'));
    if (!m || typeof m !== 'object') return { status: 400, body: { error: 'bad request' }, refusal: 'body is not JSON' };
    await take(m);
    return { status: 200, body: {} };
  }

  const adapter: DingtalkAdapter = {
    platform: PLATFORM,
    sender,
    handleCallback,
    routes: () => [{ method: 'POST', path: o.path ?? '/dingtalk/robot', handler: handleCallback }],
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
    startStream: () => openStream({ clientId: o.clientId, clientSecret: o.clientSecret, log }, adapter),
    idle: () => inflight.idle(),
  };
  return adapter;
}
