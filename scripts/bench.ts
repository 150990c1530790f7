/**
 * `minqing bench`: figures, not tests. Each part builds its own database — a SQLite file under a
 * temp folder, or, when the bot's `MINQING_DB` is a PostgreSQL URL, a schema of its own in that
 * database (scripts/bench-seed.ts openBenchDb) —, shows progress on a terminal and prints what it
 * measured.
 *   commands — 20,000 `/走访` from 2,000 cadres through parse → validate → store → reply
 *   stats    — `/统计 本月` for the root unit over 1,000,000 visits, 50,000 cadres, 500 units
 *   reminders — a month-end quota pass for 100,000 cadres in 1,000 units (9 preset rules):
 *              evaluation + record, enqueue on BullMQ, delivery by a worker into a counting sink
 *   feishu   — signed+encrypted Feishu callbacks over loopback through the real HTTP server
 *   reports  — the ledger export of 100,000 issues and the month's three lists of the root unit
 *              (seconds and peak RSS; run it alone, `--only reports`, for a clean RSS figure)
 *   faults   — 10,000 replies through the outbox into a platform refusing 10% of sends, with a
 *              restart half-way and redeliveries: lost and duplicated replies (scripts/bench-faults.ts)
 */
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
import { localDate } from '../bot/time.js';
import { createApp } from './app.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';
import { openBenchDb, optimize, percentile, progressBar, seedRoster, seedVisits } from './bench-seed.js';

export interface BenchOptions {
  visits: string; cadres: string; bigVisits: string; bigCadres: string; bigUnits: string; concurrency?: string; remindCadres?: string; remindUnits?: string; feishuRequests?: string; faultReplies?: string; only?: string;
  /** The bot's `MINQING_DB`: a PostgreSQL URL runs every part there; otherwise SQLite files. */
  target?: string;
}

const log = createLogger('silent');

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function benchCommands(o: BenchOptions): Promise<void> {
  const n = Number(o.visits);
  const cadres = Number(o.cadres);
  const bench = await openBenchDb(o.target, 'commands');
  const { db } = bench;
  await seedRoster(db, 20, cadres);
  const app = createApp(testConfig(), { db, log });
  const places = ['石门村', '东关社区', '西河村', '南山村', '北街社区'];
  const kinds = ['入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心'];
  const lat: number[] = [];
  const b = progressBar('(a) /走访', n);
  const at = new Date();
  const lanes = Number(o.concurrency ?? 32);
  let ok = 0, next = 0;
  const t0 = performance.now();
  // `lanes` cadres talk at once (each waits for its answer before its next message), as in a
  // deployment where many chats are active; their writes share commits on SQLite and run on
  // pooled connections on PostgreSQL (storage/db.ts).
  const lane = async () => {
    for (let i = next++; i < n; i = next++) {
      const event = makeEvent({
        platform: 'console', chatId: `c${1 + (i % cadres)}`, direct: true, senderId: `c${1 + (i % cadres)}`,
        messageId: `bench-${i}`, at, text: `/走访 昨天 ${places[i % 5]} ${kinds[i % 7]} ${1 + (i % 3)}小时 走访困难户${i % 4}户，了解就医难`,
      }, log);
      const s = performance.now();
      const replies = await app.handle(event);
      lat.push(performance.now() - s);
      if (replies[0]?.text.startsWith('已记录走访')) ok++;
      if (i % 500 === 0) b.update(i);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const total = performance.now() - t0;
  b.update(n); b.stop();
  lat.sort((x, y) => x - y);
  const rows = (await db.value<number>('SELECT count(*) FROM visits'))!;
  console.log(`(a) ${n} 条 /走访，${cadres} 名干部，${lanes} 路并发：${(n / (total / 1000)).toFixed(0)} 条/秒；p50 ${fmt(percentile(lat, 50))}，p99 ${fmt(percentile(lat, 99))}，最大 ${fmt(lat[lat.length - 1])}；成功 ${ok}，入库 ${rows} 行`);
  await app.close();
  await bench.dispose();
}

async function benchStats(o: BenchOptions): Promise<void> {
  const visits = Number(o.bigVisits), cadres = Number(o.bigCadres), units = Number(o.bigUnits);
  const bench = await openBenchDb(o.target, 'stats');
  const { db } = bench;
  const today = localDate(new Date());
  await seedRoster(db, units, cadres);
  await installPresets(db, Date.now(), ALL_PRESET_SETS);
  const b = progressBar('(b) 生成走访记录', visits);
  await seedVisits(db, visits, cadres, units, today, b);
  b.stop();
  await optimize(db);
  const app = createApp(testConfig(), { db, log });
  const lat: number[] = [];
  // CPU time too: on a machine shared with other work, wall-clock time mostly measures the queue.
  const cpu: number[] = [];
  let text = '';
  for (let i = 0; i < 20; i++) {
    const s = performance.now(), c = process.cpuUsage();
    const r = await app.handle(makeEvent({ platform: 'console', chatId: 'c1', direct: true, senderId: 'c1', text: '/统计 本月 基准县', at: new Date() }, log));
    lat.push(performance.now() - s);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
    text = r[0]?.text ?? '';
  }
  const first = lat[0], firstCpu = cpu[0];
  lat.sort((x, y) => x - y);
  cpu.sort((x, y) => x - y);
  console.log(`(b) /统计 本月（根单位；${visits} 条走访、${cadres} 名干部、${units} 个单位）：首次 ${fmt(first)}（CPU ${fmt(firstCpu)}），中位 ${fmt(percentile(lat, 50))}（CPU ${fmt(percentile(cpu, 50))}），最慢 ${fmt(lat[lat.length - 1])}`);
  console.log('    回复开头：' + text.split('\n').slice(0, 3).join(' / '));
  await app.close();
  await bench.dispose();
}

async function benchReminders(o: BenchOptions): Promise<void> {
  const cadres = Number(o.remindCadres ?? 100_000), units = Number(o.remindUnits ?? 1000);
  const bench = await openBenchDb(o.target, 'reminders');
  const { db } = bench;
  const at = new Date('2026-11-27T09:00:00+08:00'); // a Friday, the month's second nudge day
  await seedRoster(db, units, cadres);
  await installPresets(db, Date.now(), ALL_PRESET_SETS);
  const b = progressBar('(c) 生成本月走访记录', cadres * 2);
  await seedVisits(db, cadres * 2, cadres, units, '2026-11-27', b, 30);
  b.stop();
  const { Outbound } = await import('../bot/outbound.js');
  const { Scheduler } = await import('../jobs/scheduler.js');
  const { runPass } = await import('../jobs/pass.js');
  const { loadReminderSettings } = await import('../storage/reminder-settings.js');
  const { ensureRedis } = await import('../jobs/redis.js');
  const redis = await ensureRedis({ url: process.env.REDIS_URL, log });
  let delivered = 0;
  const outbound = new Outbound({ log, limits: {} });
  outbound.register({ platform: 'console', send: async () => { delivered++; } });
  const scheduler = new Scheduler({ db, redisUrl: redis.url, outbound, log, tz: 'Asia/Shanghai', queueName: `bench-${process.pid}`, concurrency: 8 });
  const t0 = performance.now();
  const pass = await runPass(db, { kind: 'quota', at, tz: 'Asia/Shanghai', settings: await loadReminderSettings(db) });
  const t1 = performance.now();
  const queued = await scheduler.enqueueUndelivered();
  const jobs = await scheduler.queue.count();
  const t2 = performance.now();
  const d = progressBar('(c) 投递', queued);
  scheduler.startWorker();
  while (delivered < queued) { await new Promise((r) => setTimeout(r, 100)); d.update(delivered); }
  const t3 = performance.now();
  d.update(delivered); d.stop();
  console.log(`(c) 月末配额提醒（${cadres} 名干部、${units} 个单位、9 条预设规则）：评估+记录 ${((t1 - t0) / 1000).toFixed(2)} s（${pass.fresh.length} 条提醒），入队 ${((t2 - t1) / 1000).toFixed(2)} s（${jobs} 个作业），投递 ${((t3 - t2) / 1000).toFixed(2)} s（${(delivered / ((t3 - t2) / 1000)).toFixed(0)} 条/秒，${(jobs / ((t3 - t2) / 1000)).toFixed(0)} 作业/秒）；合计 ${((t3 - t0) / 1000).toFixed(2)} s`);
  await scheduler.queue.obliterate({ force: true });
  await scheduler.close();
  await redis.stop();
  await bench.dispose();
}

export async function runBench(o: BenchOptions): Promise<void> {
  const parts = (o.only ?? 'commands,stats,reminders,feishu,reports,faults').split(',');
  console.log(`minqing bench — Node ${process.version}，${new Date().toISOString()}`);
  if (parts.includes('commands')) await benchCommands(o);
  if (parts.includes('stats')) await benchStats(o);
  if (parts.includes('reminders')) await benchReminders(o);
  if (parts.includes('feishu')) {
    const { benchFeishu } = await import('./bench-feishu.js');
    await benchFeishu({ requests: Number(o.feishuRequests ?? 20_000), cadres: 2000, connections: 50, log, target: o.target });
  }
  if (parts.includes('reports')) {
    const { benchReports } = await import('./bench-reports.js');
    await benchReports({ target: o.target });
  }
  if (parts.includes('faults')) {
    const { benchFaults, describeFaults } = await import('./bench-faults.js');
    console.log(describeFaults(await benchFaults({ replies: Number(o.faultReplies ?? 10_000), log, target: o.target })));
  }
}
