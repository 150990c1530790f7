/**
 * The reports benchmark (issue "Reports people can use", item 8): on the 1,000,000-visit bench
 * database plus 100,000 issues, the ledger export (台账, every issue with its history) and the
 * month's three-list export (清单) of the root unit — seconds and peak RSS; target ≤ 10 s and
 * ≤ 300 MB. Figures, not a test.
 *
 * Peak RSS is sampled every 50 ms by a worker thread, so a long synchronous stretch of the main
 * thread (SQLite sorting, a zip flush) cannot hide a peak from the sampler.
 *
 * The database is a SQLite file, or — `target` a PostgreSQL URL (the bot's `MINQING_DB`) — a
 * schema of its own in that database, dropped at the end (scripts/bench-seed.ts openBenchDb).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SingleBar } from 'cli-progress';
import { addDays, localDate, periodOf } from '../bot/time.js';
import { openDb, type Db } from '../storage/db.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';
import { unitById } from '../storage/units.js';
import { exportLedger, exportLists, type ExportResult } from '../handlers/report-files.js';
import { BENCH_AT, BENCH_TODAY, COMMIT_ROWS, insertRows, openBenchDb, optimize, progressBar, seedRoster, seedVisits, syncIds, type BenchDb } from './bench-seed.js';

export interface BenchReportsOptions {
  issues?: number;
  visits?: number;
  cadres?: number;
  units?: number;
  /** Where lines of figures go (default: console.log). */
  print?: (line: string) => void;
  /** Show seeding progress bars on stderr (default true). */
  progress?: boolean;
  /** A PostgreSQL URL runs the bench there (a schema of its own); otherwise a SQLite file. */
  target?: string;
  /** The database's name in the figures, `(a) [label] …`. */
  label?: string;
  /**
   * A database already holding the roster (`units`, `cadres`, the presets) and `visits` visits up
   * to BENCH_TODAY — the one `/统计` was measured on (scripts/bench.ts): only the issues are
   * added. Disposed at the end like one of our own.
   */
  bench?: BenchDb;
}

export interface Measure { seconds: number; peakRssMb: number; baseRssMb: number; rows: number; fileMb: number }

const MB = 1024 * 1024;
const CATEGORIES = ['就业', '教育', '医疗', '养老', '社会保障', '社会治理', '环境保护', '权益保障', '基础设施', '助企纾困', '信访', '其他'];

function bar(label: string, total: number, on: boolean): SingleBar | undefined {
  return on ? progressBar(label, total) : undefined;
}

/**
 * Raw inserts of `n` issues registered over the last year in random units, with their audit
 * rows: a third still pending (some overdue), a third resolved, a third closed; half have a
 * measure (/进展) on record. About 2.7 events per issue.
 */
export async function seedIssues(db: Db, n: number, cadres: number, units: number, today: string, progress?: SingleBar): Promise<void> {
  const ledgers = ['livelihood', 'hardship', 'stability'];
  const batch = 20_000;
  const ms = (d: string) => Date.parse(d + 'T09:00:00+08:00');
  for (let start = 1; start <= n; start += batch) {
    const issues: unknown[][] = [], events: unknown[][] = [];
    for (let i = start; i < Math.min(n + 1, start + batch); i++) {
      const unit = 1 + (i * 7) % units, cadre = 1 + (i * 7919) % cadres, lead = 1 + (i * 104_729) % cadres;
      const created = addDays(today, -(i % 365));
      const deadline = addDays(created, 30);
      const fate = i % 3; // 0 pending, 1 resolved, 2 closed
      const resolved = fate ? addDays(created, 5 + (i % 40)) : null;
      const done = resolved && resolved <= today ? resolved : null;
      const state = !done ? (i % 2 ? 'in_progress' : 'open') : fate === 1 ? 'resolved' : 'closed';
      issues.push([i, unit, unit, ledgers[i % 3], CATEGORIES[i % 12], `地点${i % 3000}`, `群众反映的问题${i}，需要协调解决`, cadre,
        i % 4 ? lead : null, i % 5 ? null : '交通局', deadline, state, i % 7, done ? `已处理问题${i}，已电话告知群众` : null,
        done ? true : null, done ? ms(done) : null, done, state === 'closed' ? ms(done!) + 3_600_000 : null, cadre, ms(created), created]);
      events.push([i, ms(created), created, cadre, 'register', null, 'open', null]);
      if (i % 2) events.push([i, ms(created) + 86_400_000, addDays(created, 1), cadre, 'progress', 'open', 'in_progress', `已联系相关部门，第${i}号问题列入计划`]);
      if (done) events.push([i, ms(done), done, cadre, 'resolve', 'in_progress', 'resolved', `已处理问题${i}，已电话告知群众`]);
      if (state === 'closed') events.push([i, ms(done!) + 3_600_000, done, lead, 'close', 'resolved', 'closed', null]);
    }
    await insertRows(db, `INSERT INTO issues (id, unit_id, origin_unit_id, ledger, category, place, description, responsible_cadre_id,
      lead_cadre_id, department, deadline, source, state, extensions, supervise_count, result, answered, resolved_at, resolved_date,
      closed_at, reporter_cadre_id, platform, created_at, created_date)`, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'visit', ?, 0, ?, ?, ?, ?, ?, ?, ?, 'bench', ?, ?)", issues);
    for (let k = 0; k < events.length; k += COMMIT_ROWS) {
      await insertRows(db, 'INSERT INTO issue_events (issue_id, at, date, actor_cadre_id, action, from_state, to_state, note)', '(?, ?, ?, ?, ?, ?, ?, ?)',
        events.slice(k, k + COMMIT_ROWS));
    }
    progress?.update(Math.min(n, start + batch - 1));
  }
  await syncIds(db, 'issues');
}

/** Runs `fn` while a worker thread samples the process's RSS every 50 ms. */
async function measure(fn: () => Promise<ExportResult>): Promise<Measure> {
  const sampler = new Worker(`
    const { parentPort } = require('node:worker_threads');
    let peak = process.memoryUsage.rss();
    const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
    parentPort.on('message', () => { clearInterval(t); parentPort.postMessage(Math.max(peak, process.memoryUsage.rss())); });
  `, { eval: true });
  await new Promise((r) => sampler.once('online', r));
  const base = process.memoryUsage.rss();
  const t0 = performance.now();
  const r = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const peak = await new Promise<number>((res) => { sampler.once('message', res); sampler.postMessage('stop'); });
  await sampler.terminate();
  return { seconds, peakRssMb: peak / MB, baseRssMb: base / MB, rows: r.rows, fileMb: statSync(r.file).size / MB };
}

/**
 * Seeds in this process, then measures the exports in a fresh process, so the peak RSS is the
 * export's own and not the seeding's leftovers (SQLite cache, a million rows through the heap).
 */
export async function benchReports(opts: BenchReportsOptions = {}): Promise<void> {
  const issues = opts.issues ?? 100_000, visits = opts.visits ?? 1_000_000;
  const cadres = opts.cadres ?? 50_000, units = opts.units ?? 500;
  const out = opts.print ?? ((l: string) => console.log(l));
  const print = opts.label ? (l: string) => out(/^\(\w\) /.test(l) ? `${l.slice(0, 4)}[${opts.label}] ${l.slice(4)}` : `[${opts.label}] ${l}`) : out;
  const showBars = opts.progress ?? true;
  const bench = opts.bench ?? await openBenchDb(opts.target, 'reports');
  const { db } = bench;
  try {
    // The clock pinned to a month's last afternoon (BENCH_AT): the month's lists are a full month's.
    const now = BENCH_AT;
    const today = BENCH_TODAY;
    if (!opts.bench) {
      await seedRoster(db, units, cadres);
      await installPresets(db, now.getTime(), ALL_PRESET_SETS);
      const vb = bar(`${opts.label ? `${opts.label} ` : ''}生成走访记录`, visits, showBars);
      await seedVisits(db, visits, cadres, units, today, vb);
      vb?.stop();
    }
    const ib = bar(`${opts.label ? `${opts.label} ` : ''}生成问题和办理记录`, issues, showBars);
    await seedIssues(db, issues, cadres, units, today, ib);
    ib?.stop();
    await optimize(db);
    const events = (await db.value<number>('SELECT count(*) FROM issue_events'))!;
    print(`minqing bench reports — Node ${process.version}；${visits} 条走访、${cadres} 名干部、${units} 个单位、${issues} 件问题（${events} 条办理记录）${opts.bench ? '（走访库与 /统计 共用）' : ''}；`
      + `时钟定在 ${BENCH_TODAY} 15:00；导出在新进程中测量`);
    // SQLite: closed (and checkpointed) before the child opens the file. PostgreSQL: the handle
    // stays, idle, to drop the schema afterwards.
    if (db.dialect === 'sqlite') await db.close();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', bench.target, bench.dir, now.toISOString()], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d: Buffer) => { for (const line of d.toString().split('\n')) if (line) print(line); });
    await new Promise((res) => child.once('exit', res));
  } finally {
    await bench.dispose();
  }
}

/** The measuring half, in its own process: the ledger and the month's lists of the root unit. */
async function measureExports(target: string, dir: string, at: string): Promise<void> {
  const db = await openDb(target);
  const now = new Date(at);
  const today = localDate(now);
  const root = (await unitById(db, 1))!;
  const input = { db, dir: join(dir, 'exports'), tz: 'Asia/Shanghai', now, today, unit: root, fullPhones: false };
  const fig = (name: string, m: Measure) =>
    `${name}：${m.seconds.toFixed(2)} 秒，峰值内存 RSS ${m.peakRssMb.toFixed(0)} MB（开始时 ${m.baseRssMb.toFixed(0)} MB），${m.rows} 行，文件 ${m.fileMb.toFixed(1)} MB` +
    `　目标 ≤ 10 秒、≤ 300 MB：${m.seconds <= 10 && m.peakRssMb <= 300 ? '达标' : '未达标'}`;
  try {
    console.log(fig('(a) 台账导出（根单位，全部问题及办理记录）', await measure(() => exportLedger(input))));
    const month = periodOf('month', today);
    console.log(fig(`(b) 三个清单导出（根单位，${month.label}）`, await measure(() => exportLists(input, month))));
  } finally {
    await db.close();
  }
}

if (process.argv[2] === '--measure' && process.argv[3] && process.argv[4] && process.argv[5]) await measureExports(process.argv[3], process.argv[4], process.argv[5]);
