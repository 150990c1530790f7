/**
 * The one HTTP server for platform callbacks (Feishu events and cards, DingTalk outgoing robot,
 * WeCom app callback) plus `/healthz`, which reports each adapter's state (503 while one is not
 * ready), and `/metrics` in the Prometheus text format (bot/metrics.ts).
 *
 * Plain `node:http` rather than a framework: it is one dependency fewer, and every platform signs
 * the exact bytes it sent, so routes must receive the raw body untouched — body parsers in
 * frameworks re-serialise or consume it (the Feishu SDK's own check hashes `JSON.stringify` of the
 * parsed body, which is why it fails on bodies with other spacing).
 *
 * A route answers with a status and a body; a refusal (401/403) carries a reason that is logged
 * here and nowhere else changes anything.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface HttpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body exactly as received: signatures are computed over these bytes. */
  body: Buffer;
  remote?: string;
}

export interface HttpResponse {
  status: number;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Why the request was refused (401/403/400): logged, never sent to the caller. */
  refusal?: string;
}

export type RouteHandler = (req: HttpRequest) => Promise<HttpResponse>;

export interface RouteDef {
  method: 'GET' | 'POST';
  /** An exact path, or a prefix ending in `/*` (`/c/*`: the public pages, the token after it). */
  path: string;
  handler: RouteHandler;
}

export interface HttpServerOptions {
  log: Logger;
  /** Largest body accepted; a larger one is answered 413 without being read to the end. */
  bodyLimit?: number;
  /** Whole-request deadline (slow senders are cut off). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** Deadline for a route's answer; platforms resend after a few seconds anyway. */
  handlerTimeoutMs?: number;
  /** What `/healthz` answers (each adapter's state); without it, 200 `{ok: true}`. */
  health?: () => { status: number; body: unknown };
  /** What `GET /metrics` answers (bot/metrics.ts `Metrics.scrape`); without it, 404. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

class TooLarge extends Error {}

/** Whether a route key (`METHOD /path`, or `METHOD /prefix/*`) serves `path`, whatever the method. */
function servesPath(key: string, path: string): boolean {
  const p = key.slice(key.indexOf(' ') + 1);
  if (!p.endsWith('/*')) return p === path;
  const prefix = p.slice(0, -1);
  return path.startsWith(prefix) && path.length > prefix.length;
}

export class HttpServer {
  private routes = new Map<string, RouteHandler>();
  private server?: Server;

  constructor(private opts: HttpServerOptions) {}

  /** Registers a route; the same method and path twice is a wiring mistake and throws at start-up. */
  route(def: RouteDef): this {
    const key = `${def.method} ${def.path}`;
    if (this.routes.has(key) || def.path === '/healthz' || (def.path === '/metrics' && this.opts.metrics)) throw new Error(`HTTP route ${key} is registered twice`);
    this.routes.set(key, def.handler);
    return this;
  }

  private prefixRoute(method: string, path: string): RouteHandler | undefined {
    for (const [k, h] of this.routes) if (k.startsWith(`${method} `) && servesPath(k, path)) return h;
    return undefined;
  }

  get paths(): string[] {
    return [...this.routes.keys()];
  }

  /** Starts listening; resolves with the port actually bound (pass 0 in tests). */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    // Not awaited: node ignores a listener's promise. serve() answers its routes' failures; what
    // still escapes (a throwing health() or send) is logged and answered 500 instead of left unhandled.
    const server = createServer((req, res) => {
      void this.serve(req, res).catch((err: unknown) => {
        this.opts.log.error({ err, path: req.url }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.requestTimeout = this.opts.requestTimeoutMs ?? 15_000;
    server.headersTimeout = this.opts.headersTimeoutMs ?? 10_000;
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    const bound = (server.address() as AddressInfo).port;
    this.opts.log.info({ port: bound, routes: this.paths }, 'HTTP server listening');
    return bound;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log = this.opts.log;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const remote = req.socket.remoteAddress;
    if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      return send(res, this.opts.health?.() ?? { status: 200, body: { ok: true } });
    }
    if (url.pathname === '/metrics' && method === 'GET' && this.opts.metrics) {
      try {
        const m = await this.opts.metrics();
        return send(res, { status: 200, body: m.body, headers: { 'Content-Type': m.contentType } });
      } catch (err) {
        log.error({ err }, 'metrics could not be collected');
        return send(res, { status: 500, body: { error: 'metrics unavailable' } });
      }
    }
    const handler = this.routes.get(`${method} ${url.pathname}`) ?? this.prefixRoute(method, url.pathname);
    if (!handler) {
      const known = [...this.routes.keys()].some((k) => servesPath(k, url.pathname));
      req.resume();
      return send(res, known ? { status: 405, body: { error: 'method not allowed' } } : { status: 404, body: { error: 'not found' } });
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT);
    } catch (e) {
      if (e instanceof TooLarge) {
        log.warn({ path: url.pathname, remote }, 'HTTP request refused: body over the limit');
        res.setHeader('Connection', 'close');
        return send(res, { status: 413, body: { error: 'payload too large' } });
      }
      log.warn({ err: e, path: url.pathname, remote }, 'HTTP request body could not be read');
      return;
    }
    let out: HttpResponse;
    try {
      const timeout = this.opts.handlerTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      out = await Promise.race([
        handler({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body, remote }),
        new Promise<HttpResponse>((r) => { timer = setTimeout(() => r({ status: 503, body: { error: 'timeout' }, refusal: 'route timed out' }), timeout); }),
      ]).finally(() => clearTimeout(timer));
    } catch (err) {
      log.error({ err, path: url.pathname }, 'HTTP route failed');
      out = { status: 500, body: { error: 'internal error' } };
    }
    if (out.refusal) log.warn({ path: url.pathname, status: out.status, remote, reason: out.refusal }, 'HTTP request refused');
    send(res, out);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, out: HttpResponse): void {
  if (res.headersSent) return;
  let payload: Buffer | string = '';
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  if (Buffer.isBuffer(out.body) || typeof out.body === 'string') {
    payload = out.body;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else if (out.body !== undefined) {
    payload = JSON.stringify(out.body);
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(out.status, { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}
