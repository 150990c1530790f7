/**
 * A loopback HTTP server standing in for a messenger's open platform: each route answers with
 * canned JSON and every request is recorded, so tests fake the platform only at the wire.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json?: any;
}

/** `body` (with its `contentType`) answers with raw bytes instead of JSON, e.g. a media download. */
export type Answer = { status?: number; json?: unknown; body?: Buffer | string; contentType?: string } | undefined;
export type Routes = Record<string, (c: Call) => Answer | Promise<Answer>>;

export interface Fake {
  url: string;
  calls: Call[];
  to(path: string): Call[];
  close(): Promise<void>;
}

export async function fakeServer(routes: Routes): Promise<Fake> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // The emitter drops a listener's promise: a route that throws is logged and answered 500 instead of hanging the request.
    req.on('end', () => void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = Buffer.concat(chunks);
      let json: unknown;
      try { json = JSON.parse(body.toString('utf8')); } catch { json = undefined; }
      const call: Call = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json };
      calls.push(call);
      const route = routes[`${call.method} ${call.path}`];
      const answer = route ? await route(call) : { status: 404, json: { error: 'no such route in the fake' } };
      if (answer?.body !== undefined) {
        res.writeHead(answer.status ?? 200, { 'Content-Type': answer.contentType ?? 'application/octet-stream' });
        res.end(answer.body);
        return;
      }
      res.writeHead(answer?.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer?.json ?? {}));
    })().catch((err: unknown) => {
      console.error('fake server: route failed', err);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: String(err) }));
    }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    to: (path) => calls.filter((c) => c.path === path),
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** A platform payload fixture from test/fixtures/<platform>/<name>.json. */
export function fixture<T = any>(platform: string, name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/${platform}/${name}.json`, import.meta.url)), 'utf8')) as T;
}

/** POSTs to one of our routes and returns status and parsed body. */
export async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}
