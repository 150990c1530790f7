import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../bot/logger.js';
import { HttpServer, type HttpRequest } from '../../bot/http-server.js';
import { post } from './loopback.js';

let server: HttpServer;
let url: string;
let port: number;
let lines: Array<Record<string, unknown>>;
let seen: HttpRequest[];

beforeEach(async () => {
  lines = [];
  seen = [];
  const log = createLogger('info', { write: (s: string) => { lines.push(JSON.parse(s)); } });
  server = new HttpServer({ log, bodyLimit: 1024, handlerTimeoutMs: 200 });
  server.route({ method: 'POST', path: '/echo', handler: async (req) => { seen.push(req); return { status: 200, body: { got: req.body.toString('utf8'), q: req.query.get('q') } }; } });
  server.route({ method: 'POST', path: '/refuse', handler: async () => ({ status: 401, body: { error: 'unauthorized' }, refusal: 'bad signature' }) });
  server.route({ method: 'POST', path: '/boom', handler: async () => { throw new Error('kaput'); } });
  server.route({ method: 'POST', path: '/slow', handler: () => new Promise(() => {}) });
  server.route({ method: 'GET', path: '/text', handler: async () => ({ status: 200, body: '1616140317555161061' }) });
  port = await server.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${port}`;
});

afterEach(async () => { await server.close(); });

describe('HTTP server', () => {
  it('answers /healthz, 404 for unknown paths and 405 for a known path with another method', async () => {
    const health = await fetch(`${url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { ok: true }]);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/echo`)).status).toBe(405);
  });

  it('hands routes the raw body bytes and the query', async () => {
    const raw = '{ "encrypt" :  "民情" }';
    const res = await post(`${url}/echo?q=1`, raw);
    expect(res).toMatchObject({ status: 200, json: { got: raw, q: '1' } });
    expect(seen[0].body.equals(Buffer.from(raw))).toBe(true);
    const text = await fetch(`${url}/text`);
    expect([text.headers.get('content-type'), await text.text()]).toEqual(['text/plain; charset=utf-8', '1616140317555161061']);
  });

  it('refuses a body over the limit with 413, declared or streamed, without calling the route', async () => {
    expect((await post(`${url}/echo`, 'x'.repeat(1025))).status).toBe(413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.write('y'.repeat(800));
      req.end('y'.repeat(800));
    });
    expect(streamed).toBe(413);
    expect(seen).toHaveLength(0);
    expect(lines.filter((l) => l.msg === 'HTTP request refused: body over the limit')).toHaveLength(2);
  });

  it('logs refusals with their reason, never sends the reason, and turns route failures into 500 and 503', async () => {
    const refused = await post(`${url}/refuse`, '{}');
    expect(refused).toMatchObject({ status: 401, json: { error: 'unauthorized' } });
    expect(refused.text).not.toContain('signature');
    expect(lines.find((l) => l.msg === 'HTTP request refused')).toMatchObject({ path: '/refuse', status: 401, reason: 'bad signature' });
    expect((await post(`${url}/boom`, '{}')).status).toBe(500);
    expect(lines.find((l) => l.msg === 'HTTP route failed')).toMatchObject({ path: '/boom' });
    expect((await post(`${url}/slow`, '{}')).status).toBe(503);
  });

  it('refuses to register the same route twice', () => {
    expect(() => server.route({ method: 'POST', path: '/echo', handler: async () => ({ status: 200 }) })).toThrow('registered twice');
  });
});
