/**
 * Loopback stand-ins for the two long-connection gateways, speaking their documented shapes so
 * the real SDKs connect to them:
 *
 * - DingTalk Stream: `POST /v1.0/gateway/connections/open` → `{endpoint, ticket}`, then a
 *   WebSocket carrying JSON frames `{specVersion, type, headers: {topic, messageId, …}, data}`;
 *   SYSTEM `disconnect` announces that the gateway will close the connection.
 * - Feishu: `POST /callback/ws/endpoint` → `{code, data: {URL, ClientConfig}}`, then a WebSocket
 *   of protobuf frames (ignored here: the tests look at connections, not events).
 *
 * Each counts what a leak would show: sockets open at once, connections made, pings received.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WsGateway {
  url: string;
  /** Sockets open now, and the most ever open at once. */
  open(): number;
  maxOpen: number;
  connections: number;
  /** WebSocket pings received, over all sockets. */
  pings: number;
  /** Endpoint requests, with their JSON bodies. */
  endpointCalls: any[];
  /** Frames received from clients (JSON-parsed where possible). */
  received: any[];
  sockets(): WebSocket[];
  /** Delay before a WebSocket upgrade is accepted (the socket stays CONNECTING meanwhile). */
  upgradeDelayMs: number;
  /** The next endpoint answers, in order; afterwards the default. */
  endpointAnswers: Array<{ status?: number; json: unknown }>;
  dropAll(): void;
  close(): Promise<void>;
}

async function gateway(endpointPath: string, defaultAnswer: (base: string, n: number) => unknown): Promise<WsGateway> {
  const wss = new WebSocketServer({ noServer: true });
  let base = '';
  const g: WsGateway = {
    url: '', maxOpen: 0, connections: 0, pings: 0, endpointCalls: [], received: [], upgradeDelayMs: 0, endpointAnswers: [],
    open: () => [...wss.clients].filter((s) => s.readyState === 1).length,
    sockets: () => [...wss.clients],
    dropAll: () => { for (const s of wss.clients) s.terminate(); },
    close: () => new Promise<void>((r) => { for (const s of wss.clients) s.terminate(); wss.close(); server.close(() => r()); server.closeAllConnections(); }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== endpointPath) { res.writeHead(404).end(); return; }
      let body: unknown;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = undefined; }
      g.endpointCalls.push(body);
      const a = g.endpointAnswers.shift() ?? { json: defaultAnswer(base, g.endpointCalls.length) };
      res.writeHead(a.status ?? 200, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.json));
    });
  });
  server.on('upgrade', (req, socket, head) => {
    setTimeout(() => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        g.connections++;
        ws.on('ping', () => { g.pings++; });
        ws.on('message', (d: Buffer) => { try { g.received.push(JSON.parse(d.toString('utf8'))); } catch { g.received.push(d); } });
        g.maxOpen = Math.max(g.maxOpen, g.open());
      });
    }, g.upgradeDelayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  g.url = `http://${base}`;
  return g;
}

/** A DingTalk Stream gateway. */
export function dingtalkGateway(): Promise<WsGateway> {
  return gateway('/v1.0/gateway/connections/open', (base, n) => ({ endpoint: `ws://${base}/connect`, ticket: `ticket-${n}` }));
}

/** A DingTalk downstream frame. */
export function streamFrame(type: 'SYSTEM' | 'CALLBACK', topic: string, messageId: string, data: unknown = ''): string {
  return JSON.stringify({
    specVersion: '1.0', type, data: typeof data === 'string' ? data : JSON.stringify(data),
    headers: { appId: 'app', connectionId: 'conn', contentType: 'application/json', messageId, time: String(Date.now()), topic },
  });
}

/** A Feishu long-connection endpoint; reconnect settings small so the SDK retries within a test. */
export function feishuGateway(): Promise<WsGateway> {
  return gateway('/callback/ws/endpoint', (base, n) => ({
    code: 0, msg: 'ok',
    data: { URL: `ws://${base}/ws?device_id=dev${n}&service_id=7`, ClientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 0.05, ReconnectNonce: 0 } },
  }));
}

/** Polls until `f()` holds (or fails the test after `ms`). */
export async function until(f: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
