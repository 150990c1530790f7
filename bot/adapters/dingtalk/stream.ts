/**
 * Stream mode (`dingtalk-stream`): robot messages and card callbacks arrive over a WebSocket the
 * bot opens, so no public URL is needed. Two gaps of npm 2.1.5 (PLATFORMS.md) are closed here:
 * robot callbacks are acknowledged explicitly (`socketCallBackResponse`, else the server resends
 * after about 60 s), and the connection is supervised with exponential back-off instead of the
 * SDK's fixed one-second retry.
 */
import { DWClient, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from 'pino';

/** What the supervisor needs of a client (a `DWClient`, or a fake in tests). */
export interface Connectable {
  connected: boolean;
  connect(): Promise<void>;
  disconnect(): void;
}

export interface SuperviseOptions {
  log: Logger;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How often a live connection is checked. */
  checkEveryMs?: number;
  /** Scheduling, replaceable in tests. */
  schedule?: (fn: () => void, ms: number) => { cancel(): void };
  /** 0..1 → jitter factor; tests pass () => 0.5 for none. */
  random?: () => number;
}

/** Keeps `client` connected: reconnects at 1 s, 2 s, 4 s … up to a minute, with jitter. */
export function superviseStream(client: Connectable, o: SuperviseOptions): { stop(): void } {
  const min = o.minDelayMs ?? 1_000;
  const max = o.maxDelayMs ?? 60_000;
  const every = o.checkEveryMs ?? 5_000;
  const schedule = o.schedule ?? ((fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return { cancel: () => clearTimeout(t) }; });
  const random = o.random ?? Math.random;
  let delay = min;
  let stopped = false;
  let pending: { cancel(): void } | undefined;
  let failures = 0;

  const tick = async (): Promise<void> => {
    if (stopped) return;
    let next = every;
    if (!client.connected) {
      try { await client.connect(); } catch (err) { o.log.debug({ err }, 'DingTalk stream connect threw'); }
      if (stopped) return;
      if (client.connected) {
        if (failures) o.log.info({ failures }, 'DingTalk stream reconnected');
        failures = 0;
        delay = min;
      } else {
        failures++;
        next = Math.round(delay * (0.75 + random() * 0.5));
        o.log.warn({ failures, retryInMs: next }, 'DingTalk stream not connected: retrying');
        delay = Math.min(delay * 2, max);
      }
    }
    pending = schedule(() => { void tick(); }, next);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      pending?.cancel();
      client.disconnect();
    },
  };
}

export type Ack = (messageId: string, result: unknown) => void;

export interface StreamHandlers {
  onRobotMessage(res: DWClientDownStream, ack: Ack): Promise<void>;
  onCardCallback(res: DWClientDownStream, ack: Ack): Promise<void>;
}

/** Opens the stream with our handlers and supervises it; `stop()` closes it. */
export function startStream(o: { clientId: string; clientSecret: string; log: Logger }, h: StreamHandlers): { stop(): void } {
  const client = new DWClient({ clientId: o.clientId, clientSecret: o.clientSecret, keepAlive: true });
  // The supervisor reconnects (with back-off); the SDK's own loop would retry every second.
  client.config.autoReconnect = false;
  const ack: Ack = (id, result) => client.socketCallBackResponse(id, result);
  client.registerCallbackListener(TOPIC_ROBOT, (res) => { void h.onRobotMessage(res, ack); });
  client.registerCallbackListener(TOPIC_CARD, (res) => { void h.onCardCallback(res, ack); });
  return superviseStream(client, { log: o.log });
}
