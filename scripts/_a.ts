import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { testConfig } from '../bot/config.js'; import { createLogger } from '../bot/logger.js'; import { makeEvent } from '../bot/event.js';
import { openDb } from '../storage/db.js'; import { seedRoster } from './bench-seed.js'; import { createApp } from './app.js';
const log = createLogger('silent');
const db = openDb(join(mkdtempSync(join(tmpdir(), 'mq-')), 'b.db'));
seedRoster(db, 20, 2000);
const app = createApp(testConfig(), { db, log });
const at = new Date(); const N = Number(process.argv[2] ?? 20000);
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const e = makeEvent({ platform: 'console', chatId: 'c' + (1 + i % 2000), direct: true, senderId: 'c' + (1 + i % 2000), messageId: 'b' + i, at, text: '/走访 昨天 石门村 入户 2小时 走访困难户3户，了解就医难' }, log);
  await app.handle(e);
}
const cpu = process.cpuUsage(c0); const wall = performance.now() - t0;
console.log(`wall ${(N / (wall / 1000)).toFixed(0)}/s, cpu ${((cpu.user + cpu.system) / N).toFixed(0)} µs/cmd (user ${(cpu.user / N).toFixed(0)}, sys ${(cpu.system / N).toFixed(0)})`);
