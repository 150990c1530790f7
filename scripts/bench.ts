/**
 * `minqing bench`: figures, not tests. Every part runs on each database asked for (`--db`):
 * SQLite — a file under a temp folder — and PostgreSQL — a schema of its own in the database
 * MINQING_BENCH_PG names (scripts/bench-seed.ts openBenchDb) —, shows progress on a terminal
 * and prints what it measured, each line labelled with the database.
 *   commands — 20,000 `/走访` from 2,000 cadres through parse → validate → store → reply
 *   stats    — `/统计 本月` for the root unit over 1,000,000 visits, 50,000 cadres, 500 units, the
 *              clock pinned to the last afternoon of a month whose every day has visits
 *              (2026-11-30 15:00 Asia/Shanghai), so "本月" is always a full month of data
 *   reminders — a month-end quota pass for 100,000 cadres in 1,000 units (9 preset rules):
 *              evaluation + record, enqueue on BullMQ, delivery by a worker into a counting sink
 *   feishu   — signed+encrypted Feishu callbacks over loopback through the real HTTP server
 *   reports  — the ledger export of 100,000 issues and the month's three lists of the root unit
 *              (seconds and peak RSS; run it alone, `--only reports`, for a clean RSS figure), on
 *              the database of (b) with the issues added, at the same pinned clock
 *   faults   — 10,000 replies through the outbox into a platform refusing 10% of sends, with a
 *              restart half-way and redeliveries: lost and duplicated replies (scripts/bench-faults.ts)
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
import { createApp } from './app.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';
import { isPostgresUrl, type Db } from '../storage/db.js';
import { BENCH_AT, BENCH_TODAY, openBenchDb, optimize, percentile, progressBar, seedRoster, seedVisits, vacuum, type BenchDb } from './bench-seed.js';

/** Where PostgreSQL is looked for when MINQING_BENCH_PG is not set. */
export const DEFAULT_BENCH_PG = 'postgres://postgres@127.0.0.1:5432/test';

/** One database the parts run on: `url` a PostgreSQL URL, or undefined for SQLite temp files. */
export interface BenchTarget { label: string; url?: string }

export interface BenchOptions {
  visits: string; cadres: string; bigVisits: string; bigCadres: string; bigUnits: string; concurrency?: string; remindCadres?: string; remindUnits?: string; feishuRequests?: string; faultReplies?: string; only?: string;
  jsonlLines?: string; scaleMessages?: string;
  /** The databases to run every part on, in order (see {@link benchTargets}). */
  targets: BenchTarget[];
  /** Repetitions of `/统计 本月` (b). */
  statsRuns?: string;
}

const log = createLogger('silent');

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
const verdict = (ok: boolean) => (ok ? '达标' : '未达标');

/** A URL without its password, for printing. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** The server's version when a PostgreSQL answers at `url` within `timeoutMs`; else why not. */
export async function probePostgres(url: string, timeoutMs = 3000): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  const u = new URL(url);
  u.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return { ok: true, version: r.rows[0]?.v ?? '?' };
  } catch (e) {
    return { ok: false, error: (e as Error).message || String(e) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The databases of `--db sqlite|postgres|both`. PostgreSQL is the one MINQING_BENCH_PG names, else
 * the bot's MINQING_DB when that is a PostgreSQL URL, else {@link DEFAULT_BENCH_PG}. Unset, both
 * when a PostgreSQL answers there, otherwise SQLite alone with a note why. Asked for explicitly
 * and not answering: an error.
 */
export async function benchTargets(choice: string | undefined, env: { MINQING_BENCH_PG?: string; MINQING_DB?: string } = process.env): Promise<{ targets: BenchTarget[]; notes: string[] }> {
  const c = (choice ?? '').trim().toLowerCase();
  if (c && !['sqlite', 'postgres', 'pg', 'postgresql', 'both', 'all'].includes(c)) throw new Error(`--db 应为 sqlite、postgres 或 both，收到：${choice}`);
  const sqlite: BenchTarget = { label: 'SQLite' };
  if (c === 'sqlite') return { targets: [sqlite], notes: ['数据库：SQLite（临时文件）'] };
  const url = env.MINQING_BENCH_PG || (env.MINQING_DB && isPostgresUrl(env.MINQING_DB) ? env.MINQING_DB : DEFAULT_BENCH_PG);
  if (!isPostgresUrl(url)) throw new Error(`MINQING_BENCH_PG 应为 PostgreSQL 地址（postgres://…），收到：${url}`);
  const probe = await probePostgres(url);
  if (!probe.ok) {
    if (c) throw new Error(`PostgreSQL 不可达（${shownUrl(url)}：${probe.error}）；可用 --db sqlite 只测 SQLite`);
    return { targets: [sqlite], notes: [`注意：PostgreSQL 不可达（${shownUrl(url)}：${probe.error}），本次只测 SQLite；设置 MINQING_BENCH_PG 或用 --db 指定`] };
  }
  const postgres: BenchTarget = { label: 'PostgreSQL', url };
  const pgNote = `PostgreSQL ${probe.version}（${shownUrl(url)}，每项一个临时 schema）`;
  if (c === 'postgres' || c === 'pg' || c === 'postgresql') return { targets: [postgres], notes: [`数据库：${pgNote}`] };
  return { targets: [sqlite, postgres], notes: [`数据库：SQLite（临时文件）和 ${pgNote}`] };
}

async function benchCommands(o: BenchOptions, t: BenchTarget): Promise<void> {
  const n = Number(o.visits);
  const cadres = Number(o.cadres);
  const bench = await openBenchDb(t.url, 'commands');
  const { db } = bench;
  await seedRoster(db, 20, cadres);
  const app = createApp(testConfig(), { db, log });
  const places = ['石门村', '东关社区', '西河村', '南山村', '北街社区'];
  const kinds = ['入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心'];
  const lat: number[] = [];
  const b = progressBar(`(a) ${t.label} /走访`, n);
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
  console.log(`(a) [${t.label}] ${n} 条 /走访，${cadres} 名干部，${lanes} 路并发：${(n / (total / 1000)).toFixed(0)} 条/秒；p50 ${fmt(percentile(lat, 50))}，p99 ${fmt(percentile(lat, 99))}，最大 ${fmt(lat[lat.length - 1])}；成功 ${ok}，入库 ${rows} 行`);
  await app.close();
  await bench.dispose();
}

/** (b)'s targets, median of the repeated runs, by database. */
const STATS_TARGET_MS: Record<string, number> = { SQLite: 100, PostgreSQL: 150 };

/**
 * PostgreSQL on this machine: the CPU time (ms) its backends serving `appName` have used, read
 * from /proc — the server's share of a query, which wall-clock time on a busy machine hides.
 * Undefined when the server is elsewhere (or /proc is not readable).
 */
async function serverCpu(db: Db, appName: string): Promise<Map<number, number> | undefined> {
  if (process.platform !== 'linux') return undefined;
  const pids = await db.all<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = ?', [appName]);
  const out = new Map<number, number>();
  try {
    for (const { pid } of pids) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS);
    }
  } catch {
    return undefined;
  }
  return out;
}
/** USER_HZ: 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/**
 * (b): `/统计 本月` for the root unit, the clock pinned to BENCH_AT. With `keep`, the seeded
 * database is handed back (for the reports part, which adds its issues) instead of dropped.
 */
async function benchStats(o: BenchOptions, t: BenchTarget, keep = false): Promise<BenchDb | undefined> {
  const visits = Number(o.bigVisits), cadres = Number(o.bigCadres), units = Number(o.bigUnits);
  const runs = Math.max(1, Number(o.statsRuns ?? 20));
  // PostgreSQL: the pool's backends named, to read their CPU time (serverCpu).
  const appName = `minqing-bench-${process.pid}`;
  let url = t.url;
  if (url) {
    const u = new URL(url);
    u.searchParams.set('application_name', appName);
    url = u.toString();
  }
  const bench = await openBenchDb(url, 'stats');
  const { db } = bench;
  await seedRoster(db, units, cadres);
  await installPresets(db, BENCH_AT.getTime(), ALL_PRESET_SETS);
  const b = progressBar(`(b) ${t.label} 生成走访记录`, visits);
  const s0 = performance.now();
  await seedVisits(db, visits, cadres, units, BENCH_TODAY, b);
  b.stop();
  const s1 = performance.now();
  // Planner statistics, as a deployment's autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) keeps them.
  await optimize(db);
  const s2 = performance.now();
  const inMonth = (await db.value<number>(`SELECT count(*) FROM visits WHERE date BETWEEN '2026-11-01' AND '2026-11-30'`))!;
  console.log(`(b) [${t.label}] /统计 本月：根单位，时钟定在 2026-11-30 15:00（Asia/Shanghai）；${visits} 条走访分布在截至当天的 365 天，本月 ${inMonth} 条；`
    + `${cadres} 名干部、${units} 个单位。生成 ${((s1 - s0) / 1000).toFixed(1)} s，${db.dialect === 'postgres' ? 'ANALYZE' : 'ANALYZE + PRAGMA optimize'} ${((s2 - s1) / 1000).toFixed(1)} s`);
  const app = createApp(testConfig(), { db, log });
  const target = STATS_TARGET_MS[t.label] ?? 100;

  /** `runs` commands, then one line of figures. */
  const measure = async (when: string): Promise<string> => {
    const lat: number[] = [];
    // CPU time too: on a machine shared with other work, wall-clock time mostly measures the queue.
    const cpu: number[] = [];
    let text = '';
    let server0: Map<number, number> | undefined;
    for (let i = 0; i < runs; i++) {
      // The first run (cold caches, connections opening) is shown apart; server CPU counts the rest.
      if (i === 1 && db.dialect === 'postgres') server0 = await serverCpu(db, appName);
      const s = performance.now(), c = process.cpuUsage();
      const r = await app.handle(makeEvent({ platform: 'console', chatId: 'c1', direct: true, senderId: 'c1', text: '/统计 本月 基准县', at: BENCH_AT }, log));
      lat.push(performance.now() - s);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      text = r[0]?.text ?? '';
    }
    let serverMs: number | undefined;
    const server1 = server0 && (await serverCpu(db, appName));
    if (server0 && server1 && runs > 1) {
      let sum = 0;
      for (const [pid, ms] of server1) sum += ms - (server0.get(pid) ?? 0);
      serverMs = sum / (runs - 1);
    }
    const first = lat[0], firstCpu = cpu[0];
    lat.sort((x, y) => x - y);
    cpu.sort((x, y) => x - y);
    const median = percentile(lat, 50);
    console.log(`(b) [${t.label}] ${when}${runs} 次：中位 ${fmt(median)}，p95 ${fmt(percentile(lat, 95))}，首次 ${fmt(first)}，最慢 ${fmt(lat[lat.length - 1])}；`
      + `本进程 CPU 中位 ${fmt(percentile(cpu, 50))}（首次 ${fmt(firstCpu)}）${serverMs === undefined ? '' : `，PostgreSQL 服务端 CPU 平均每次 ${fmt(serverMs)}`}`
      + `　目标中位 ≤ ${target} ms：${verdict(median <= target)}`);
    return text;
  };
  let kept = false;
  try {
    if (db.dialect === 'postgres') {
      await measure('ANALYZE 后，');
      // A freshly loaded table has no visibility map yet, so the covering index cannot be read
      // alone: the plan is a bitmap heap scan. Autovacuum also vacuums an insert-only table
      // (PostgreSQL 13+, after autovacuum_vacuum_insert_scale_factor — 20% — of new rows), but
      // this month's rows are the newest and the least likely to be all-visible yet: both shown.
      const v0 = performance.now();
      await vacuum(db);
      const v1 = performance.now();
      const text = await measure(`VACUUM 后（${((v1 - v0) / 1000).toFixed(1)} s），`);
      console.log('    回复开头：' + text.split('\n').slice(0, 3).join(' / '));
    } else {
      const text = await measure('');
      console.log('    回复开头：' + text.split('\n').slice(0, 3).join(' / '));
    }
    kept = keep;
  } finally {
    await app.close();
    if (!kept) await bench.dispose();
  }
  return kept ? bench : undefined;
}

/** (c)'s target, seconds from the pass's start to the last delivery. */
const REMIND_TARGET_S = 20;

async function benchReminders(o: BenchOptions, t: BenchTarget): Promise<void> {
  const cadres = Number(o.remindCadres ?? 100_000), units = Number(o.remindUnits ?? 1000);
  const bench = await openBenchDb(t.url, 'reminders');
  const { db } = bench;
  const at = new Date('2026-11-27T09:00:00+08:00'); // a Friday, the month's second nudge day
  await seedRoster(db, units, cadres);
  await installPresets(db, Date.now(), ALL_PRESET_SETS);
  const b = progressBar(`(c) ${t.label} 生成本月走访记录`, cadres * 2);
  await seedVisits(db, cadres * 2, cadres, units, '2026-11-27', b, 30);
  b.stop();
  // Planner statistics on the roster and the visits, as a deployment has them (without them
  // PostgreSQL reads all 100,000 accounts for each batch's addresses). The reminders table keeps
  // the statistics of before the pass, as it would when delivery follows a pass at once.
  await optimize(db);
  const { Outbound } = await import('../bot/outbound.js');
  const { Scheduler } = await import('../jobs/scheduler.js');
  const { runPass } = await import('../jobs/pass.js');
  const { loadReminderSettings } = await import('../storage/reminder-settings.js');
  const { ensureRedis } = await import('../jobs/redis.js');
  const redis = await ensureRedis({ url: process.env.REDIS_URL, log });
  let delivered = 0;
  const outbound = new Outbound({ log, limits: {} });
  outbound.register({ platform: 'console', send: async () => { delivered++; } });
  const scheduler = new Scheduler({ db, redisUrl: redis.url, outbound, log, tz: 'Asia/Shanghai', queueName: `bench-${process.pid}-${t.label}`, concurrency: 8 });
  try {
    const t0 = performance.now();
    const pass = await runPass(db, { kind: 'quota', at, tz: 'Asia/Shanghai', settings: await loadReminderSettings(db) });
    const t1 = performance.now();
    const queued = await scheduler.enqueueUndelivered();
    const jobs = await scheduler.queue.count();
    const t2 = performance.now();
    const d = progressBar(`(c) ${t.label} 投递`, queued);
    scheduler.startWorker();
    while (delivered < queued) { await new Promise((r) => setTimeout(r, 100)); d.update(delivered); }
    const t3 = performance.now();
    d.update(delivered); d.stop();
    const total = (t3 - t0) / 1000;
    console.log(`(c) [${t.label}] 月末配额提醒（${cadres} 名干部、${units} 个单位、9 条预设规则）：评估+记录 ${((t1 - t0) / 1000).toFixed(2)} s（${pass.fresh.length} 条提醒），入队 ${((t2 - t1) / 1000).toFixed(2)} s（${jobs} 个作业），投递 ${((t3 - t2) / 1000).toFixed(2)} s（${(delivered / ((t3 - t2) / 1000)).toFixed(0)} 条/秒，${(jobs / ((t3 - t2) / 1000)).toFixed(0)} 作业/秒）；合计 ${total.toFixed(2)} s　目标 ≤ ${REMIND_TARGET_S} s：${verdict(total <= REMIND_TARGET_S)}`);
  } finally {
    await scheduler.queue.obliterate({ force: true }).catch(() => undefined);
    await scheduler.close();
    await redis.stop();
    await bench.dispose();
  }
}

export async function runBench(o: BenchOptions): Promise<void> {
  const parts = (o.only ?? 'commands,jsonl,stats,reminders,feishu,reports,faults,scale').split(',').map((p) => p.trim());
  console.log(`minqing bench — Node ${process.version}，${new Date().toISOString()}`);
  const t0 = performance.now();
  // The million-visit database of (b), kept per database for the reports, which add their issues
  // to it rather than seed the same visits again (a minute or two each).
  const big = new Map<BenchTarget, BenchDb>();
  try {
    for (const t of o.targets) if (parts.includes('commands')) await benchCommands(o, t);
    if (parts.includes('jsonl')) {
      // The console against the floor SQLite sets (single-row transactions in the same run): on
      // SQLite, whose one writer is what group commit shares; on PostgreSQL for comparison.
      const { benchJsonl, describeJsonl } = await import('./bench-jsonl.js');
      for (const t of o.targets) console.log(describeJsonl(await benchJsonl({ lines: Number(o.jsonlLines ?? 20_000), target: t.url })));
    }
    for (const t of o.targets) {
      if (!parts.includes('stats')) break;
      const kept = await benchStats(o, t, parts.includes('reports'));
      if (kept) big.set(t, kept);
    }
    for (const t of o.targets) if (parts.includes('reminders')) await benchReminders(o, t);
    if (parts.includes('feishu')) {
      const { benchFeishu } = await import('./bench-feishu.js');
      for (const t of o.targets) await benchFeishu({ requests: Number(o.feishuRequests ?? 20_000), cadres: 2000, connections: 50, log, target: t.url, label: t.label });
    }
    if (parts.includes('reports')) {
      const { benchReports } = await import('./bench-reports.js');
      // Numbered (e) and (f) here, as in the README.
      const print = (l: string) => console.log(l.replace(/^\(a\) /, '(e) ').replace(/^\(b\) /, '(f) '));
      for (const t of o.targets) {
        const bench = big.get(t);
        big.delete(t);
        await benchReports({ target: t.url, label: t.label, print, bench, ...(bench ? { visits: Number(o.bigVisits), cadres: Number(o.bigCadres), units: Number(o.bigUnits) } : {}) });
      }
    }
    if (parts.includes('faults')) {
      const { benchFaults, describeFaults } = await import('./bench-faults.js');
      for (const t of o.targets) console.log(describeFaults(await benchFaults({ replies: Number(o.faultReplies ?? 10_000), log, target: t.url, label: t.label }), undefined, undefined, t.label));
    }
    if (parts.includes('scale')) {
      // Several processes need the shared database: PostgreSQL only.
      const pg = o.targets.find((t) => t.url && isPostgresUrl(t.url));
      if (!pg) console.log('(scale) 多进程基准只在 PostgreSQL 上运行：请用 --db postgres 或 both，并让 MINQING_BENCH_PG 指向可连接的 PostgreSQL');
      else {
        const { benchScale, describeRun, describeFault } = await import('./bench-scale.js');
        const r = await benchScale({ messages: Number(o.scaleMessages ?? 5000), target: pg.url! });
        for (const run of r.runs) console.log(`(scale) ${describeRun(run)}`);
        console.log(`(scale) ${describeFault(r.fault)}`);
      }
    }
  } finally {
    for (const b of big.values()) await b.dispose().catch(() => undefined);
  }
  console.log(`合计用时 ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
