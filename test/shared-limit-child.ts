/**
 * One bot process for test/shared-limit.test.ts: its own Outbound (shared limits through Redis, or
 * in-process when SHARED=0) whose Feishu sender posts each message to the test's loopback sink.
 * Says "ready" over IPC, sends when told "go" (after DELAY_MS), says "done" and exits.
 * PARALLEL=1 hands all messages to the Outbound at once; otherwise one after another, like a delivery loop.
 *
 * Env: SINK (url), NAME, TARGET, COUNT, MAX, WINDOW_MS, PREFIX (Redis keys), REDIS_URL, MARGIN_MS, SHARED, DELAY_MS,
 * PARALLEL.
 */
import { request } from 'node:http';
import { Outbound } from '../bot/outbound.js';
import { createLogger } from '../bot/logger.js';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const post = (url: string, body: object) => new Promise<void>((done, fail) => {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`sink said ${res.statusCode}`))));
  });
  req.on('error', fail);
  req.end(JSON.stringify(body));
});

const name = env('NAME');
const sink = env('SINK');
const target = env('TARGET');
const count = Number(env('COUNT'));
const outbound = new Outbound({
  log: createLogger('warn'),
  limits: { feishu: [{ max: Number(env('MAX')), ms: Number(env('WINDOW_MS')) }] },
  ...(env('SHARED', '1') === '1' ? { redis: { url: env('REDIS_URL', 'redis://127.0.0.1:6379'), prefix: env('PREFIX'), marginMs: Number(env('MARGIN_MS', '100')) } } : {}),
});
outbound.register({ platform: 'feishu', send: async (msg, key) => post(sink, { key, target: msg.target, from: name, sentAt: Date.now() }) });

process.once('message', async () => {
  try {
    await new Promise((r) => setTimeout(r, Number(env('DELAY_MS', '0'))));
    const send = (i: number) => outbound.send({ platform: 'feishu', to: 'user', target, text: `${name} ${i}` }, `${name}-${i}`);
    if (env('PARALLEL', '0') === '1') await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
    else for (let i = 0; i < count; i++) await send(i);
    await outbound.close();
    process.send!('done', () => process.disconnect());
  } catch (e) {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  }
});
process.send!('ready');
