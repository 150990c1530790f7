/**
 * The scriptable console's throughput against the floor SQLite sets (issue 13 item 5): `minqing
 * console --jsonl` in a child process, fed `lines` `/走访` from `cadres` seeded cadres, and, in
 * the same run, the raw better-sqlite3 rate of single-row WAL transactions (one INSERT per
 * BEGIN IMMEDIATE … COMMIT into a scratch table, with the pragmas storage/db.ts sets). The ratio of
 * the two is the figure: how much of what the disk and SQLite allow one command gets.
 *
 * `npx tsx scripts/bench-jsonl.ts [lines]` prints it; `benchJsonl()` returns it.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuSeconds, openBenchDb, seedRoster } from './bench-seed.js';
import { recordedReplies, claimMessage } from '../storage/inbound.js';
import { isPostgresUrl } from '../storage/db.js';
import { cadreByAccount } from '../storage/identity.js';
import { knownPlaces } from '../storage/places.js';
import { insertVisit, visitTotals } from '../storage/records.js';
import { dropDraft } from '../storage/drafts.js';
import { normalize } from '../bot/normalize.js';

export interface BenchJsonlOptions {
  /** `/走访` lines fed to the console (default 20,000). */
  lines?: number;
  /** The bot's `MINQING_DB`: a PostgreSQL URL runs the console there; otherwise a SQLite file. */
  target?: string;
  /** Seeded cadres the lines come from, round robin (default 2,000). */
  cadres?: number;
}

export interface BenchJsonlResult {
  lines: number;
  dialect: 'sqlite' | 'postgres';
  /** Lines answered per second by `minqing console --jsonl` (after a warm-up line). */
  jsonlPerSec: number;
  /** Single-row transactions per second on a raw better-sqlite3 handle. */
  rawPerSec: number;
  /** jsonlPerSec / rawPerSec. */
  ratio: number;
  /** SQLite: {@link storageFloorRate} — the storage work of a `/走访` alone, per second. */
  floorPerSec?: number;
  /**
   * The same per second of CPU time used (the console process's user + system time, from
   * /proc on Linux; undefined elsewhere): steadier than wall-clock rates on a shared machine.
   */
  jsonlPerCpuSec?: number;
  rawPerCpuSec: number;
  cpuRatio?: number;
  /** Lines answered `已记录走访`, and visits in the database afterwards. */
  recorded: number;
  rows: number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * One INSERT per transaction into a scratch table, on a fresh file with storage/db.ts's pragmas:
 * transactions per second of wall-clock time and per second of CPU time.
 */
export function rawSqliteRate(n: number): { perSec: number; perCpuSec: number } {
  const dir = mkdtempSync(join(tmpdir(), 'minqing-raw-'));
  const sqlite = new Database(join(dir, 'raw.db'));
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.exec('CREATE TABLE scratch (id INTEGER PRIMARY KEY, text TEXT NOT NULL, at INTEGER NOT NULL)');
    const ins = sqlite.prepare('INSERT INTO scratch (text, at) VALUES (?, ?)');
    const one = sqlite.transaction((i: number) => ins.run(`走访 ${i}`, Date.now()));
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) one.immediate(i);
    const cpu = process.cpuUsage(c0);
    return { perSec: n / ((performance.now() - t0) / 1000), perCpuSec: n / ((cpu.user + cpu.system) / 1e6) };
  } finally {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The storage work one `/走访` must do, without reading, routing or answering: the storage
 * functions the router and the handler call (redelivery check, who is speaking, known places,
 * the insert, the month's totals for the receipt, the draft dropped, the message claimed with its
 * replies), 32 commands at a time sharing group commits as in the console. Commands per second:
 * the ceiling for the console on this database, above which no reader or router could lift it.
 */
export async function storageFloorRate(n: number, cadres: number): Promise<number> {
  const bench = await openBenchDb(undefined, 'floor');
  try {
    const { db } = bench;
    await seedRoster(db, 20, cadres);
    const month = new Date().toISOString().slice(0, 7);
    const replies = JSON.stringify([{ to: 'chat', target: 'c1', platform: 'console', text: '已记录走访 #V1：日期 12月6日（昨天） · 地点 石门村 · 入户走访 · 1小时 · 1户。' }]);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = next++; i < n; i = next++) {
        const user = `c${1 + (i % cadres)}`, id = `floor-${i}`, at = Date.now();
        await db.withWrite(async (tx) => {
          if (await recordedReplies(tx, 'console', id)) return;
          const cadre = (await cadreByAccount(tx, 'console', user))!;
          await knownPlaces(tx, cadre.id, normalize);
          await insertVisit(tx, { cadreId: cadre.id, unitId: cadre.unitId, date: `${month}-01`, hours: 1, place: places[i % 5], kind: 'household', households: 1, content: '走访困难户1户，了解就医难' },
            { platform: 'console', chatId: user, messageId: id, at });
          await visitTotals(tx, cadre.id, `${month}-01`, `${month}-31`);
          await dropDraft(tx, 'console', user, user, at);
          await claimMessage(tx, 'console', id, at, replies, []);
        });
      }
    }));
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await bench.dispose();
  }
}

const places = ['石门村', '东关社区', '西河村', '南山村', '北街社区'];
const kinds = ['入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心'];

export function visitLine(i: number, cadres: number, at: string): string {
  const user = `c${1 + (i % cadres)}`;
  return JSON.stringify({ user, text: `/走访 昨天 ${places[i % 5]} ${kinds[i % 7]} ${1 + (i % 3)}小时 走访困难户${i % 4}户，了解就医难`, id: `bench-${i}`, at });
}

export async function benchJsonl(o: BenchJsonlOptions = {}): Promise<BenchJsonlResult> {
  const n = o.lines ?? 20_000, cadres = o.cadres ?? 2000;
  // The floor first, while nothing else runs.
  const raw = rawSqliteRate(n);
  const floorPerSec = o.target && isPostgresUrl(o.target) ? undefined : await storageFloorRate(n, cadres);
  const bench = await openBenchDb(o.target, 'jsonl');
  try {
    await seedRoster(bench.db, 20, cadres);
    const at = new Date().toISOString();
    const child = spawn(process.execPath, [...(process.env.MINQING_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.MINQING_BENCH_PROF] : []), join(root, 'bin/minqing.mjs'), 'console', '--jsonl'], {
      cwd: root, env: { ...process.env, MINQING_DB: bench.target, LOG_LEVEL: 'silent' }, stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((res, rej) => { child.on('error', rej); child.on('close', (code) => res(code)); });
    let buffer = '', count = 0, recorded = 0;
    let onLine: (() => void) | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const l = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (l.includes('已记录走访')) recorded++;
        count++;
        onLine?.();
      }
    });
    const outLines = (k: number) => new Promise<void>((res, rej) => {
      if (count >= k) return res();
      onLine = () => { if (count >= k) { onLine = undefined; res(); } };
      exited.then((code) => rej(new Error(`minqing console --jsonl exited (${code}) after ${count} lines`)), rej);
    });
    // Warm-up: the program started, migrated and answered once before the clock runs.
    child.stdin.write(JSON.stringify({ user: 'c1', text: '/帮助' }) + '\n');
    await outLines(1);
    const input = Array.from({ length: n }, (_, i) => visitLine(i, cadres, at)).join('\n') + '\n';
    const t0 = performance.now(), c0 = cpuSeconds(child.pid);
    child.stdin.end(input);
    await outLines(n + 1);
    const seconds = (performance.now() - t0) / 1000, c1 = cpuSeconds(child.pid);
    const code = await exited;
    if (code !== 0) throw new Error(`minqing console --jsonl exited with ${code}`);
    const rows = (await bench.db.value<number>('SELECT count(*) FROM visits')) ?? 0;
    const jsonlPerSec = n / seconds;
    const jsonlPerCpuSec = c0 !== undefined && c1 !== undefined && c1 > c0 ? n / (c1 - c0) : undefined;
    return {
      lines: n, dialect: bench.db.dialect, jsonlPerSec, rawPerSec: raw.perSec, ratio: jsonlPerSec / raw.perSec, floorPerSec,
      jsonlPerCpuSec, rawPerCpuSec: raw.perCpuSec, cpuRatio: jsonlPerCpuSec && jsonlPerCpuSec / raw.perCpuSec, recorded, rows,
    };
  } finally {
    await bench.dispose();
  }
}

export function describeJsonl(r: BenchJsonlResult): string {
  return `(jsonl) ${r.lines} 行 /走访 经 minqing console --jsonl（${r.dialect}）：${r.jsonlPerSec.toFixed(0)} 行/秒；` +
    `SQLite 单行事务（WAL）${r.rawPerSec.toFixed(0)} 次/秒；比值 ${r.ratio.toFixed(2)}` +
    (r.cpuRatio ? `（按 CPU 时间：${r.jsonlPerCpuSec!.toFixed(0)} 行/CPU秒 对 ${r.rawPerCpuSec.toFixed(0)} 次/CPU秒，比值 ${r.cpuRatio.toFixed(2)}）` : '') +
    (r.floorPerSec ? `；一条 /走访 的存储工作本身（不读不答，32 条一组提交）${r.floorPerSec.toFixed(0)} 条/秒，为单行事务的 ${(r.floorPerSec / r.rawPerSec).toFixed(2)}，控制台达其 ${(r.jsonlPerSec / r.floorPerSec).toFixed(2)}` : '') +
    `；记录 ${r.recorded}，入库 ${r.rows} 行`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchJsonl({ lines: Number(process.argv[2] ?? 20_000), target: process.env.MINQING_DB ?? process.env.DATABASE_URL });
  console.log(describeJsonl(r));
}
