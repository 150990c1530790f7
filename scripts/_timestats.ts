import { openDb } from '../storage/db.js';
import { createApp } from './app.js';
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
const log = createLogger('silent');
const db = openDb(process.argv[2] ?? '/tmp/qb/stats.db');
const app = createApp(testConfig(), { db, log });
const N = Number(process.argv[3] ?? 20);
const wall: number[] = [], cpu: number[] = [];
let text = '';
for (let i = 0; i < N; i++) {
  const c0 = process.cpuUsage(); const s = performance.now();
  const r = await app.handle(makeEvent({ platform: 'console', chatId: 'c1', direct: true, senderId: 'c1', text: '/统计 本月 基准县', at: new Date() }, log));
  wall.push(performance.now() - s); const c = process.cpuUsage(c0); cpu.push((c.user + c.system) / 1000);
  text = r[0]?.text ?? '';
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(1);
console.log(`first ${wall[0].toFixed(1)} / cpu ${cpu[0].toFixed(1)}; median wall ${med(wall)} cpu ${med(cpu)}; min wall ${Math.min(...wall).toFixed(1)}`);
console.log(text);
app.close(); db.$client.close();
