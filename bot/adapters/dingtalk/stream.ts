/**
 * Stream mode (`dingtalk-stream`): robot messages and card callbacks arrive over a WebSocket the
 * bot opens, so no public URL is needed.
 *
 * npm 2.1.5 leaks on reconnect (docs/platforms.md#dingtalk-stream): each `connect()` of the same client starts one
 * more heartbeat interval that a server-side close never clears, so reusing a client leaves
 * orphan sockets and timers, and an orphan interval pinging a socket that is still connecting
 * throws "WebSocket is not open" out of the event loop. The SDK's upstream fix (a `cleanup()`
 * before every connect and on close) is not on npm. So here every connection is a fresh client,
 * disposed — interval cleared, socket terminated, listeners dropped — before the next one opens,
 * and the supervisor, not the SDK, decides when to reconnect.
 *
 * The SYSTEM `disconnect` message (the gateway is about to close this connection, e.g. for a
 * deploy) only flips flags in the SDK, upstream too; the Python SDK reconnects at once, and so
 * does this supervisor.
 *
 * Robot callbacks are acknowledged explicitly (`socketCallBackResponse`), else the server resends
 * after about 60 s.
 */
import { DWClient, TOPIC_CARD, TOPIC_ROBOT, type DWClientDownStream } from 'dingtalk-stream';
import type { Logger } from 'pino';
import { Backoff, pause, type AdapterState } from '../health.js';

export type Ack = (messageId: string, result: unknown) => void;

export interface StreamHandlers {
  onRobotMessage(res: DWClientDownStream, ack: Ack): Promise<void>;
  onCardCallback(res: DWClientDownStream, ack: Ack): Promise<void>;
}

/** Why a live connection ended. */
export type LinkEnd = 'disconnect' | 'closed';

/** One connection: opened once, ended once, then disposed. */
export interface StreamLink {
  /** Resolves when the socket is open; rejects when the endpoint or the handshake fails. */
  open(): Promise<void>;
  /** Resolves when the gateway asks to disconnect or the socket closes. */
  readonly ended: Promise<LinkEnd>;
  /** Clears every timer and socket of this connection; safe to call twice. */
  dispose(): void;
}

export interface StreamClientOptions {
  clientId: string;
  clientSecret: string;
  /** https://api.dingtalk.com (default) or a test gateway: the endpoint is POSTed here. */
  apiBase?: string;
  /** WebSocket ping interval; the SDK's is 8 s. */
  heartbeatMs?: number;
  /** Deadline of the endpoint request (the SDK's axios call has none). */
  endpointTimeoutMs?: number;
}

/** The parts of `DWClient` that TypeScript marks private and this file must reach. */
interface DWClientInternals {
  socket?: { readyState: number; terminate(): void; removeAllListeners(): void; on(ev: string, fn: (...a: any[]) => void): void; once(ev: string, fn: () => void): void };
  dw_url?: string;
  heartbeat_interval: number;
}

/**
 * A `DWClient` for exactly one connection: the SDK's own reconnect is off, the endpoint request
 * has a deadline and honours `apiBase`, and the SYSTEM `disconnect` topic ends the link.
 */
class OneShotClient extends DWClient {
  private endConn?: (why: LinkEnd) => void;
  private abortOpen?: (err: Error) => void;
  readonly ended: Promise<LinkEnd>;

  constructor(private o: StreamClientOptions, private log: Logger) {
    super({ clientId: o.clientId, clientSecret: o.clientSecret, keepAlive: true });
    this.config.autoReconnect = false;
    if (o.heartbeatMs) this.internals.heartbeat_interval = o.heartbeatMs;
    this.ended = new Promise((r) => { this.endConn = r; });
  }

  private get internals(): DWClientInternals {
    return this as unknown as DWClientInternals;
  }

  /** The SDK's request, with a deadline: POST {apiBase}/v1.0/gateway/connections/open. */
  override async getEndpoint(): Promise<this> {
    const base = (this.o.apiBase ?? 'https://api.dingtalk.com').replace(/\/$/, '');
    const res = await fetch(`${base}/v1.0/gateway/connections/open`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ clientId: this.config.clientId, clientSecret: this.config.clientSecret, ua: this.config.ua ?? '', subscriptions: this.config.subscriptions }),
      signal: AbortSignal.timeout(this.o.endpointTimeoutMs ?? 10_000),
    });
    const body = await res.json().catch(() => undefined) as { endpoint?: string; ticket?: string; code?: string; message?: string } | undefined;
    if (!res.ok || !body?.endpoint || !body.ticket) {
      throw new Error(`钉钉 Stream 网关拒绝连接：HTTP ${res.status} ${body?.code ?? ''} ${body?.message ?? ''}`.trim());
    }
    this.internals.dw_url = `${body.endpoint}?ticket=${encodeURIComponent(body.ticket)}`;
    return this;
  }

  /** Endpoint, then handshake; `dispose()` during either rejects it (the SDK's promise would hang). */
  open(): Promise<void> {
    const aborted = new Promise<never>((_, reject) => { this.abortOpen = reject; });
    const opening = (async () => {
      await this.getEndpoint();
      await this._connect();
      const socket = this.internals.socket;
      if (!socket) throw new Error('钉钉 Stream 连接未建立');
      socket.once('close', () => this.endConn?.('closed'));
    })();
    opening.catch(() => {});
    return Promise.race([opening, aborted]);
  }

  /** A frame that is not JSON would throw out of the socket's listener in the SDK. */
  override onDownStream(data: string): void {
    try {
      super.onDownStream(data);
    } catch (err) {
      this.log.warn({ err }, 'DingTalk stream frame could not be read: ignored');
    }
  }

  override onSystem(downstream: DWClientDownStream): void {
    super.onSystem(downstream);
    if (downstream.headers.topic === 'disconnect') this.endConn?.('disconnect');
  }

  dispose(): void {
    // `disconnect()` clears the heartbeat (keepAlive is on) and starts a polite close; the
    // terminate after it frees the socket now rather than after ws's 30 s close timeout.
    this.disconnect();
    const socket = this.internals.socket;
    if (socket) {
      socket.removeAllListeners();
      // ws reports the abort of a socket that is not open as an 'error' on a later tick; an
      // emitter without an 'error' listener would throw it out of the event loop.
      socket.on('error', () => {});
      if (socket.readyState !== 3) socket.terminate();
      this.internals.socket = undefined;
    }
    this.removeAllListeners();
    this.abortOpen?.(new Error('连接已关闭'));
    this.endConn?.('closed');
  }
}

/** A real connection: a fresh `DWClient` with our handlers on both topics. */
export function dwLink(o: StreamClientOptions, h: StreamHandlers, log: Logger): StreamLink {
  const client = new OneShotClient(o, log);
  const ack: Ack = (id, result) => {
    try { client.socketCallBackResponse(id, result); } catch (err) { log.warn({ err }, 'DingTalk stream ack could not be sent'); }
  };
  client.registerCallbackListener(TOPIC_ROBOT, (res) => { void h.onRobotMessage(res, ack); });
  client.registerCallbackListener(TOPIC_CARD, (res) => { void h.onCardCallback(res, ack); });
  return { open: () => client.open(), ended: client.ended, dispose: () => client.dispose() };
}

export interface SuperviseOptions {
  log: Logger;
  /** Told of every state change (the adapter's health). */
  report?: (state: AdapterState, detail?: string, attempts?: number) => void;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A connection that ends sooner than this counts as a failed attempt for the back-off. */
  stableAfterMs?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Keeps one connection open at a time: opens a fresh link, waits for it to end, disposes it, and
 * opens the next — at once after a gateway `disconnect`, otherwise after a back-off of 1 s, 2 s,
 * 4 s … up to a minute. `stop()` disposes the live link and cancels a pending retry.
 */
export function superviseStream(makeLink: () => StreamLink, o: SuperviseOptions): { stop(): Promise<void> } {
  const backoff = new Backoff(o.minDelayMs ?? 1_000, o.maxDelayMs ?? 60_000, o.random);
  const stableAfter = o.stableAfterMs ?? 30_000;
  const now = o.now ?? Date.now;
  const report = o.report ?? (() => {});
  let stopped = false;
  let link: StreamLink | undefined;
  let wait: ReturnType<typeof pause> | undefined;
  let failures = 0;
  let ended: () => void = () => {};

  const retryAfter = async (detail: string): Promise<void> => {
    failures++;
    const ms = backoff.next();
    report('reconnecting', `${detail}；${Math.round(ms / 1000)} 秒后重试`, failures);
    o.log.warn({ failures, retryInMs: ms, reason: detail }, 'DingTalk stream not connected: retrying');
    wait = pause(ms);
    await wait.done;
    wait = undefined;
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const l = makeLink();
      link = l;
      try {
        await l.open();
      } catch (err) {
        l.dispose();
        if (stopped) break;
        await retryAfter((err as Error)?.message ?? String(err));
        continue;
      }
      if (stopped) { l.dispose(); break; }
      const openedAt = now();
      if (failures) o.log.info({ failures }, 'DingTalk stream reconnected');
      failures = 0;
      report('ready');
      const why = await Promise.race([l.ended, new Promise<'stopped'>((r) => { ended = () => r('stopped'); })]);
      l.dispose();
      link = undefined;
      if (stopped || why === 'stopped') break;
      if (why === 'disconnect') {
        o.log.info('DingTalk stream: the gateway asked to disconnect; reconnecting now');
        report('reconnecting', '网关要求重连');
        backoff.reset();
        continue;
      }
      if (now() - openedAt >= stableAfter) backoff.reset();
      await retryAfter('连接已断开');
    }
  };
  const running = loop().catch((err) => { o.log.error({ err }, 'DingTalk stream supervisor failed'); report('failed', String(err)); });
  return {
    async stop() {
      stopped = true;
      wait?.cancel();
      ended();
      link?.dispose();
      await running;
      report('stopped');
    },
  };
}
