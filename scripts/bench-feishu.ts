/**
 * (d) Signed and encrypted Feishu message callbacks, posted over loopback by autocannon (a separate process) into the
 * real HTTP server → Feishu adapter (verify, decrypt, dedupe) → core → the database. Every tenth
 * request is a redelivery of an earlier event; afterwards rows are counted: each distinct message
 * must be recorded exactly once. Replies go to a counting sink instead of Feishu's servers.
 */
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { testConfig } from '../bot/config.js';
import { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import { createFeishuAdapter, signedMessageCallback } from '../bot/adapters/feishu/index.js';
import { createApp } from './app.js';
import { openBenchDb, seedRoster } from './bench-seed.js';

const here = dirname(fileURLToPath(import.meta.url));
const ENCRYPT_KEY = 'bench-encrypt-key', TOKEN = 'bench-verification-token';

/** `target`: a PostgreSQL URL runs it there (a schema of its own); otherwise a SQLite file. `label` names the database in the figures. */
export async function benchFeishu(o: { requests: number; cadres: number; connections: number; log: Logger; target?: string; label?: string }): Promise<void> {
  const bench = await openBenchDb(o.target, 'feishu');
  const { db, dir } = bench;
  await seedRoster(db, 20, o.cadres);
  await db.run("INSERT INTO accounts (platform, account_id, cadre_id, created_at) SELECT 'feishu', 'ou_c' || id, id, 0 FROM cadres");
  const app = createApp(testConfig(), { db, log: o.log });
  let replies = 0;
  const outbound = new Outbound({ log: o.log, limits: {} });
  outbound.register({ platform: 'feishu', send: async () => { replies++; } });
  const adapter = createFeishuAdapter({ appId: 'cli_a1b2c3d4e5f6a7b8', appSecret: 'x', encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, botName: '民情', mode: 'http' },
    { handle: app.handle, log: o.log, send: (r, k) => outbound.send(r, k) });
  const http = new HttpServer({ log: o.log });
  for (const r of adapter.routes()) http.route(r);
  const port = await http.listen(0, '127.0.0.1');

  const unique = Math.ceil(o.requests * 0.9);
  const bodies = Array.from({ length: o.requests }, (_, i) => {
    const n = i % 10 === 9 ? (i * 7) % unique : Math.min(unique - 1, i - Math.floor(i / 10));
    const c = 1 + (n % o.cadres);
    return signedMessageCallback({
      encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, eventId: `ev_${n}`, messageId: `om_${n}`, chatId: `oc_p2p_${c}`,
      chatType: 'p2p', senderOpenId: `ou_c${c}`, text: `/走访 昨天 石门村 入户 ${1 + (n % 4)}小时 走访困难户${n % 5}户`,
    });
  });
  const distinct = new Set(bodies.map((_, i) => (i % 10 === 9 ? (i * 7) % unique : Math.min(unique - 1, i - Math.floor(i / 10))))).size;
  const file = join(dir, 'requests.json');
  writeFileSync(file, JSON.stringify(bodies));
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'bench-load.ts'), `http://127.0.0.1:${port}`, '/feishu/events', file, String(o.connections)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((res) => child.once('exit', res));
  const result = JSON.parse(out) as { startedAt: number; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  await adapter.idle();
  // From the first request (the load generator's own start-up is not the server's time) until
  // every callback was handled.
  const secs = (Date.now() - result.startedAt) / 1000;
  const rows = (await db.value<number>("SELECT count(*) FROM visits WHERE platform = 'feishu'"))!;
  const dupRows = (await db.value<number>('SELECT count(*) FROM (SELECT message_id FROM visits GROUP BY message_id HAVING count(*) > 1) AS d'))!;
  console.log(`(d) ${o.label ? `[${o.label}] ` : ''}飞书加密签名回调 ${o.requests} 个（${distinct} 条不同消息，其余为重投），${o.connections} 并发：${(o.requests / secs).toFixed(0)} 请求/秒，`
    + `p50 ${result.latency.p50} ms，p99 ${result.latency.p99} ms，非 2xx ${result.non2xx}，错误 ${result.errors}；`
    + `入库 ${rows} 行（应为 ${distinct}），重复 ${dupRows}，丢失 ${distinct - rows}，回复 ${replies}`);
  await http.close();
  await app.close();
  await bench.dispose();
}
