/**
 * `minqing bench --soak [--minutes 10] [--rate 200]`: a long, steady load, to see
 * that memory stays flat and latency does not creep. In-process only (no network, no Redis): the
 * router on a fresh database (a SQLite file, or a schema of its own in the PostgreSQL the bot's
 * `MINQING_DB` names), an open-loop generator at `rate` commands per second —
 * mostly /走访 /志愿 /民情 /进展 /办结 from 2,000 cadres, mixed with /我的 and /统计 queries — and
 * once a minute (at 0:30, 1:30, …) a reminder pass (quota and deadlines) whose reminders are delivered into a
 * counting sink through the outbound path. Every 10 s it prints RSS, heap and the window's
 * latencies; at the end p50/p99 overall and the memory verdict: after the warm-up, RSS may not
 * grow by more than 10%.
 *
 * The bot's clock runs from a fixed workday morning (2026-11-20 09:00 Asia/Shanghai) at real
 * speed, so the reminder passes do real work whatever the hour the soak is run.
 */
import { join } from 'node:path';
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { makeEvent } from '../bot/event.js';
import { Outbound } from '../bot/outbound.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';
import { undeliveredKeys } from '../storage/reminders.js';
import { deliverMany, runPass } from '../jobs/pass.js';
import { createApp } from './app.js';
import { openBenchDb, percentile, seedRoster } from './bench-seed.js';

export interface SoakOptions {
  minutes: number;
  rate: number;
  cadres?: number;
  units?: number;
  /** Where the lines go (stdout by default). */
  write?: (line: string) => void;
  /** The bot's `MINQING_DB`: a PostgreSQL URL runs the soak there; otherwise a SQLite file. */
  target?: string;
}

const T = {
  start: (min: number, rate: number, cadres: number, units: number) =>
    `minqing bench --soak：${min} 分钟，每秒 ${rate} 条命令（${cadres} 名干部、${units} 个单位；约 4% /我的、3% /统计，每分钟一次提醒检查），进程内运行`,
  header: '   时间  RSS(MB)  堆(MB)  本段条数  p50(ms)  p99(ms)  最慢(ms)  查询p99(ms)  累计',
  pass: (t: string, fresh: number, sent: number, ms: number) => `  ${t} 提醒检查：新提醒 ${fresh} 条，投递 ${sent} 条，用时 ${ms.toFixed(0)} ms`,
  summary: (n: number, secs: number, p50: number, p99: number, max: number, qp99: number, failed: number) =>
    `合计 ${n} 条命令，${(n / secs).toFixed(0)} 条/秒；延迟 p50 ${p50.toFixed(2)} ms，p99 ${p99.toFixed(2)} ms，最慢 ${max.toFixed(1)} ms；查询 p99 ${qp99.toFixed(2)} ms；失败回复 ${failed} 条`,
  rows: (v: number, z: number, i: number, r: number) => `入库：走访 ${v}，志愿 ${z}，问题 ${i}，提醒 ${r}`,
  memory: (warm: number, base: number, end: number, max: number, growth: number, ok: boolean) =>
    `内存：预热 ${warm} 秒后 RSS ${base.toFixed(0)} MB，结束时 ${end.toFixed(0)} MB，最高 ${max.toFixed(0)} MB，增长 ${(growth * 100).toFixed(1)}% —— ${ok ? '平稳（不超过10%）' : '超过10%，可能有内存泄漏'}`,
  tooShort: '运行时间太短，无法判断内存是否平稳（至少需要1分钟）。',
};

const PLACES = ['石门村', '东关社区', '西河村', '南山村', '北街社区', '县福利院', '城关镇'];
const KINDS = ['入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心'];

const pct = (xs: Float64Array | number[], p: number) => percentile(Float64Array.from(xs).sort(), p);
const mb = (bytes: number) => bytes / 1_048_576;

/** Runs the soak; resolves true when memory stayed flat (or the run was too short to tell). */
export async function runSoak(o: SoakOptions): Promise<boolean> {
  const write = o.write ?? ((l: string) => process.stdout.write(l + '\n'));
  const minutes = Math.max(0.1, o.minutes), rate = Math.max(1, o.rate);
  const cadres = o.cadres ?? 2000, units = o.units ?? 50;
  const log = createLogger('silent');
  const bench = await openBenchDb(o.target, 'soak');
  const { db } = bench;
  const clock0 = Date.parse('2026-11-20T09:00:00+08:00');
  await seedRoster(db, units, cadres, clock0);
  await installPresets(db, clock0, ALL_PRESET_SETS);
  const app = createApp(testConfig({ MINQING_DB: bench.target, MINQING_EXPORT_DIR: join(bench.dir, 'exports') }), { db, log });
  let delivered = 0;
  const outbound = new Outbound({ log, limits: {} });
  outbound.register({ platform: 'console', send: async () => { delivered++; } });

  const durationMs = minutes * 60_000;
  const t0 = performance.now();
  const now = () => new Date(clock0 + (performance.now() - t0));
  // Preallocated: the harness itself must not grow while it measures growth.
  const all = new Float64Array(Math.ceil(rate * minutes * 60 * 1.05) + 1000);
  const queries = new Float64Array(Math.ceil(rate * minutes * 60 * 0.1) + 1000);
  let n = 0, nq = 0, failed = 0, seq = 0, windowStart = 0, queryWindowStart = 0;
  const openIssues: Array<{ cadre: number; id: number; step: number }> = [];
  const samples: Array<{ t: number; rss: number }> = [];

  function nextText(i: number): { cadre: number; text: string; query: boolean } {
    const cadre = 1 + ((i * 7919) % cadres);
    const r = i % 100;
    if (r < 4) return { cadre, text: '/我的', query: true };
    if (r < 6) return { cadre, text: '/统计 本月', query: true };
    if (r === 6) return { cadre: 1, text: '/统计 本月 基准县', query: true };
    if (r < 12 && openIssues.length) {
      const k = openIssues.shift()!;
      if (k.step === 0) { openIssues.push({ ...k, step: 1 }); return { cadre: k.cadre, text: `/进展 #${k.id} 已联系相关部门，列入计划`, query: false }; }
      return { cadre: k.cadre, text: `/办结 #${k.id} 已解决，已电话告知群众`, query: false };
    }
    if (r < 16) return { cadre, text: `/民情 ${PLACES[i % 7]} 群众反映问题${i} 时限:30天`, query: false };
    if (r < 30) return { cadre, text: `/志愿 ${1 + (i % 4)}小时 ${PLACES[i % 7]} 义工服务`, query: false };
    return { cadre, text: `/走访 昨天 ${PLACES[i % 7]} ${KINDS[i % 7]} ${1 + (i % 3)}小时 走访困难户${i % 4}户`, query: false };
  }

  async function one(i: number): Promise<void> {
    const { cadre, text, query } = nextText(i);
    const event = makeEvent({ platform: 'console', chatId: `c${cadre}`, direct: true, senderId: `c${cadre}`, messageId: `soak-${i}`, at: now(), text }, log);
    const s = performance.now();
    const replies = await app.handle(event);
    const ms = performance.now() - s;
    if (n < all.length) all[n++] = ms;
    if (query && nq < queries.length) queries[nq++] = ms;
    const reply = replies[0]?.text ?? '';
    if (reply.startsWith('抱歉')) failed++;
    const m = /^已登记问题 #(\d+)/.exec(reply);
    if (m && openIssues.length < 5000) openIssues.push({ cadre, id: Number(m[1]), step: 0 });
  }

  async function reminderPass(label: string): Promise<void> {
    const s = performance.now();
    const settings = await loadReminderSettings(db);
    let fresh = 0;
    for (const kind of ['quota', 'deadlines'] as const) fresh += (await runPass(db, { kind, at: now(), tz: 'Asia/Shanghai', settings })).fresh.length;
    const before = delivered;
    const keys = await undeliveredKeys(db, 100_000);
    for (let k = 0; k < keys.length; k += 500) await deliverMany(db, keys.slice(k, k + 500), { outbound, worker: 'soak', log });
    write(T.pass(label, fresh, delivered - before, performance.now() - s));
  }

  const clockText = (ms: number) => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

  write(T.start(minutes, rate, cadres, units));
  write(T.header);
  // Passes at 0:30, 1:30, 2:30 …: once a minute, and one even in a one-minute run.
  let nextReport = 10_000, nextPass = 30_000;
  const pending = new Set<Promise<void>>();
  while (performance.now() - t0 < durationMs) {
    const elapsed = performance.now() - t0;
    // Open loop: whatever is due by now is started now, however long earlier ones take.
    const due = Math.floor((elapsed / 1000) * rate);
    while (seq < due) {
      const p = one(seq++).catch(() => { failed++; });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    if (elapsed >= nextPass) { nextPass += 60_000; await reminderPass(clockText(elapsed)); }
    if (elapsed >= nextReport) {
      nextReport += 10_000;
      const mem = process.memoryUsage();
      samples.push({ t: elapsed, rss: mb(mem.rss) });
      const win = all.subarray(windowStart, n);
      write(`  ${clockText(elapsed)}  ${mb(mem.rss).toFixed(0).padStart(7)}  ${mb(mem.heapUsed).toFixed(0).padStart(6)}  ${String(win.length).padStart(8)}  ${pct(win, 50).toFixed(2).padStart(7)}  ${pct(win, 99).toFixed(2).padStart(7)}  ${pct(win, 100).toFixed(1).padStart(8)}  ${pct(queries.subarray(queryWindowStart, nq), 99).toFixed(2).padStart(11)}  ${n}`);
      windowStart = n;
      queryWindowStart = nq;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all([...pending]);
  const secs = (performance.now() - t0) / 1000;
  const done = all.subarray(0, n);
  write(T.summary(n, secs, pct(done, 50), pct(done, 99), pct(done, 100), pct(queries.subarray(0, nq), 99), failed));
  const count = async (t: string) => (await db.value<number>(`SELECT count(*) FROM ${t}`))!;
  write(T.rows(await count('visits'), await count('volunteers'), await count('issues'), await count('reminders')));

  // Warm-up: the first 30% of the run, at most two minutes; then compare the first and last
  // three samples (averaged, so one GC-timed sample does not decide).
  const warm = Math.min(120_000, durationMs * 0.3);
  const after = samples.filter((x) => x.t >= warm);
  let ok = true;
  if (after.length < 4) write(T.tooShort);
  else {
    const avg = (xs: typeof after) => xs.reduce((a, x) => a + x.rss, 0) / xs.length;
    const base = avg(after.slice(0, 3)), end = avg(after.slice(-3));
    const growth = end / base - 1;
    ok = growth <= 0.10;
    write(T.memory(Math.round(warm / 1000), base, end, Math.max(...after.map((x) => x.rss)), growth, ok));
  }
  await app.close();
  await bench.dispose();
  return ok;
}
