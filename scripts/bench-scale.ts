/**
 * Scale-out (issue 13 item 6): the same load through 1, 2 and 3 `minqing console --jsonl`
 * processes on one PostgreSQL schema, as several bot processes behind a platform's load balancer
 * would share one database. Mostly `/走访` from many cadres, some `/民情` (first, so their issue
 * numbers are known) and `/进展` on those issues, a few `/我的`; one message in 50 redelivered
 * later to the process that answered it, one in 100 sent to two processes at once. Each process
 * has at most `window` lines unanswered (a closed loop, as a platform with a bounded number of
 * open webhook calls per instance); a line's latency is from writing it to reading its answer.
 *
 * The fault run adds a SIGKILL of one process half-way; everything it had not answered (a whole
 * reply line) is sent again to the survivors, as a platform redelivers an unacknowledged message.
 * Afterwards the database is audited by message id ({@link auditScale}): recorded once, one
 * visit / issue / progress row per message, nothing lost.
 *
 * test/scale-out.test.ts drives the same {@link Cluster} and {@link auditScale}.
 *
 * `npx tsx scripts/bench-scale.ts [messages] [postgres-url]` prints the figures; `benchScale()` returns them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Db } from '../storage/db.js';
import { seedDemo } from './demo.js';
import { cpuSeconds, mulberry32, openBenchDb, percentile, seedRoster } from './bench-seed.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export type ScaleKind = 'visit' | 'issue' | 'progress' | 'query';

/** One platform message: its id, what it is, and the JSONL line that carries it. */
export interface ScaleMessage { id: string; kind: ScaleKind; user: string; line: string }

/** Where the seeded load's clock stands: a Friday late in November (the month-end pass follows on the 30th). */
export const SCALE_AT = Date.parse('2026-11-27T10:00:00+08:00');

/** The fault text of bot/texts.ts (`T.fault`): the message was not recorded, a platform would redeliver it. */
const FAULT = '记录没有写入';

const places = ['石门村', '东关社区', '西河村', '南山村', '北街社区'];
const kinds = ['入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心'];

const lineOf = (user: string, text: string, id: string, i: number) =>
  JSON.stringify({ user, text, id, at: new Date(SCALE_AT + i * 100).toISOString() });

/**
 * The roster: the demo's (u1 王强, u2 张三, u3 李四 with every preset quota) and `cadres` more,
 * console:c1 … c<cadres> in 20 units (scripts/bench-seed.ts).
 */
export async function seedScale(db: Db, cadres: number): Promise<void> {
  await seedRoster(db, 20, cadres, SCALE_AT - 86_400_000);
  await seedDemo(db, SCALE_AT - 86_400_000);
}

/**
 * The load of `n` messages in two phases: `issues` (`/民情` from distinct cadres, each the
 * issue's responsible cadre) go first; `rest(issueOf)` — given each reporter's issue number, read
 * off the answers — is `/走访` (about 90%), `/进展` by reporters on their issues (5%), `/我的`
 * (2%) and more `/民情` (the rest). Ids are `<prefix><i>`.
 */
export function scaleLoad(n: number, o: { cadres: number; prefix?: string; seed?: number }): { issues: ScaleMessage[]; rest: (issueOf: Map<string, number>) => ScaleMessage[] } {
  const prefix = o.prefix ?? 's';
  const random = mulberry32(o.seed ?? 20261127);
  const users = (i: number) => (i % 97 === 0 ? ['u2', 'u3'][i % 2] : `c${1 + Math.floor(random() * o.cadres)}`);
  const nIssues = Math.max(10, Math.round(n * 0.01));
  const issues: ScaleMessage[] = [];
  for (let i = 0; i < nIssues; i++) {
    const user = `c${1 + ((i * 37) % o.cadres)}`, id = `${prefix}${i}`;
    issues.push({ id, kind: 'issue', user, line: lineOf(user, `/民情 ${places[i % 5]} 道路破损 ${id} 时限:12月31日`, id, i) });
  }
  const rest = (issueOf: Map<string, number>): ScaleMessage[] => {
    const reporters = [...issueOf.keys()];
    const out: ScaleMessage[] = [];
    for (let i = nIssues; i < n; i++) {
      const id = `${prefix}${i}`, r = random();
      if (r < 0.05 && reporters.length) {
        const user = reporters[Math.floor(random() * reporters.length)];
        out.push({ id, kind: 'progress', user, line: lineOf(user, `/进展 #${issueOf.get(user)} 已联系交通局 ${id}`, id, i) });
      } else if (r < 0.07) {
        const user = users(i);
        out.push({ id, kind: 'query', user, line: lineOf(user, '/我的', id, i) });
      } else if (r < 0.08) {
        const user = `c${1 + Math.floor(random() * o.cadres)}`;
        out.push({ id, kind: 'issue', user, line: lineOf(user, `/民情 ${places[i % 5]} 饮水困难 ${id} 时限:12月31日`, id, i) });
      } else {
        const user = users(i);
        out.push({ id, kind: 'visit', user, line: lineOf(user, `/走访 昨天 ${places[i % 5]} ${kinds[i % 7]} ${1 + (i % 3)}小时 走访困难户${i % 4}户`, id, i) });
      }
    }
    return out;
  };
  return { issues, rest };
}

/** Reporter → issue number, from the answers to the `/民情` phase (`已登记问题 #12…`). */
export function issueNumbers(c: Cluster, issues: ScaleMessage[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of issues) {
    const n = /已登记问题 #(\d+)/.exec(c.answers.get(x.id)?.[0]?.text ?? '')?.[1];
    if (n && !m.has(x.user)) m.set(x.user, Number(n));
  }
  return m;
}

/** How a line came to be sent. */
export type Copy = 'first' | 'redelivery' | 'twin' | 'resend';

interface Item { m: ScaleMessage; copy: Copy; tries: number }
interface InFlight { item: Item | undefined; sentAt: number }

/** One `minqing console --jsonl` child: lines written and not yet answered, in order. */
class Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly inflight: InFlight[] = [];
  /** Redeliveries meant for this process, each sent once it has answered `after` lines. */
  readonly pinned: Array<{ item: Item; after: number }> = [];
  answered = 0;
  /** Taking lines (false once killed or closed). */
  alive = true;
  killed = false;
  readonly latencies: number[] = [];
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';

  constructor(readonly index: number, target: string, onAnswer: (p: Proc, f: InFlight, text: string) => void, onError: (e: Error) => void, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [join(root, 'bin/minqing.mjs'), 'console', '--jsonl'], {
      cwd: root, env: { ...process.env, MINQING_DB: target, LOG_LEVEL: 'silent', ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin.on('error', () => {}); // EPIPE once killed
    this.child.stderr.resume();
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      // Only whole lines are answers; a torn last line of a killed process is none.
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const f = this.inflight.shift();
        if (!f) { onError(new Error(`console process ${this.index} wrote a line it was not sent: ${line.slice(0, 200)}`)); continue; }
        this.answered++;
        const replies = (JSON.parse(line) as { replies: Array<{ text: string }> }).replies;
        onAnswer(this, f, replies.map((r) => r.text).join('\n'));
      }
    });
    this.closed = new Promise((res, rej) => {
      this.child.on('error', rej);
      this.child.on('close', (code, signal) => res({ code, signal }));
    });
  }

  send(item: Item | undefined, line: string): void {
    this.inflight.push({ item, sentAt: performance.now() });
    this.child.stdin.write(line + '\n');
  }
}

export interface ClusterOptions {
  /** The shared `MINQING_DB` (a PostgreSQL URL with `?schema=`). */
  target: string;
  processes: number;
  /** Lines a process has written to it and not answered, at most (default 64). */
  window?: number;
  /** One message in this many is sent again later to the process that answered it (default 50; 0: none). */
  redeliverEvery?: number;
  /** One message in this many goes to two processes at once (default 100; 0: none). */
  twinEvery?: number;
  /** Extra environment of the children. */
  env?: Record<string, string>;
}

/** Per process: lines answered and their latencies. */
export interface ProcStats { index: number; answered: number; killed: boolean; p50: number; p99: number }

/**
 * Several console processes on one database, fed by one driver: a shared queue of messages each
 * process pulls from while it has fewer than `window` unanswered, redeliveries pinned to the
 * process that answered first, twins written to two processes in the same tick, and a SIGKILL
 * whose unanswered lines go back to the head of the queue for the survivors.
 */
export class Cluster {
  private readonly procs: Proc[];
  private readonly window: number;
  private readonly redeliverEvery: number;
  private readonly twinEvery: number;
  /** Message id → the reply texts of every answer it got (any process, any copy). */
  readonly answers = new Map<string, Array<{ proc: number; copy: Copy; text: string }>>();
  /** Ids sent at least once. */
  readonly sent = new Set<string>();
  /** Lines written to a process, by copy. */
  readonly lines: Record<Copy, number> = { first: 0, redelivery: 0, twin: 0, resend: 0 };
  /** Answers with the fault text (not recorded), sent again. */
  faults = 0;
  /** Lines a killed process had been sent and never answered, sent again to the survivors. */
  resentAfterKill = 0;
  /** The kill: output lines of the killed process before it (the warm-up line included), and how many lines it held unanswered. */
  kill?: { proc: number; answeredBefore: number; unanswered: number; /** From SIGKILL to the child's exit, ms. */ exitMs: number };
  private queue: Item[] = [];
  private order = 0;
  private done?: () => void;
  private failed?: (e: Error) => void;
  private killAt?: { answers: number; proc: number };
  private killing?: Promise<void>;
  private answersSeen = 0;
  private readonly appName: string;
  /** The first failure: a process gone unasked, or a line nobody was waiting for. */
  private error?: Error;

  constructor(private readonly o: ClusterOptions) {
    this.window = o.window ?? 64;
    this.redeliverEvery = o.redeliverEvery ?? 50;
    this.twinEvery = o.twinEvery ?? 100;
    // The children's PostgreSQL connections carry a name of this cluster (node-postgres reads
    // PGAPPNAME), so their server processes can be found for the CPU they use (`cpuSeconds`).
    this.appName = `mq-scale-${process.pid}-${++clusters}`;
    this.procs = Array.from({ length: o.processes }, (_, i) => new Proc(i, o.target, (p, f, t) => this.onAnswer(p, f, t), (e) => this.fail(e), { PGAPPNAME: this.appName, ...o.env }));
    for (const p of this.procs) {
      void p.closed.then(({ code, signal }) => {
        if (!p.alive) return;
        p.alive = false;
        this.fail(new Error(`console process ${p.index} exited (${code ?? signal}) while in use`));
      }, (e: Error) => this.fail(e));
    }
  }

  /** Every process started (migrated, roster read) and answered a first line without an id. */
  async ready(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise<void>((res, rej) => {
      p.send(undefined, JSON.stringify({ user: 'c1', text: '/帮助' }));
      const t = setInterval(() => { if (p.answered > 0) { clearInterval(t); res(); } }, 20);
      void p.closed.then(({ code }) => { clearInterval(t); rej(new Error(`console process ${p.index} exited (${code}) before answering`)); });
    })));
    for (const p of this.procs) p.latencies.length = 0;
  }

  /**
   * Sends `messages` and resolves once every one was answered (by a live process). `killAfter`:
   * SIGKILL the last process once this many answers arrived in this call (one kill per cluster).
   */
  run(messages: ScaleMessage[], o: { killAfter?: number } = {}): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    this.queue.push(...messages.map((m) => ({ m, copy: 'first' as const, tries: 0 })));
    this.answersSeen = 0;
    this.killAt = o.killAfter !== undefined ? { answers: o.killAfter, proc: this.procs.length - 1 } : undefined;
    return new Promise<void>((res, rej) => {
      this.done = res;
      this.failed = rej;
      this.pump();
    });
  }

  /** Per process: lines answered since `ready()` and their latency percentiles (ms). */
  stats(): ProcStats[] {
    return this.procs.map((p) => {
      const s = Float64Array.from(p.latencies).sort();
      return { index: p.index, answered: p.latencies.length, killed: p.killed, p50: percentile(s, 50), p99: percentile(s, 99) };
    });
  }

  /**
   * CPU seconds used so far, per pid (Linux /proc): the console processes, and the PostgreSQL
   * server processes serving their connections (found by application name through `db`).
   */
  async cpu(db: Db): Promise<{ consoles: Map<number, number>; postgres: Map<number, number> }> {
    const consoles = new Map<number, number>();
    for (const p of this.procs) {
      const s = p.child.pid === undefined ? undefined : cpuSeconds(p.child.pid);
      if (s !== undefined) consoles.set(p.child.pid!, s);
    }
    const postgres = new Map<number, number>();
    const pids = await db.all<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = ?', [this.appName]).catch(() => []);
    for (const { pid } of pids) { const s = cpuSeconds(pid); if (s !== undefined) postgres.set(pid, s); }
    return { consoles, postgres };
  }

  /** Every latency (ms) so far, all processes. */
  latencies(): Float64Array { return Float64Array.from(this.procs.flatMap((p) => p.latencies)).sort(); }

  /** Closes the live processes' input; each must end with code 0. */
  async close(): Promise<void> {
    const live = this.procs.filter((p) => p.alive);
    for (const p of live) { p.alive = false; p.child.stdin.end(); }
    const codes = await Promise.all(live.map((p) => p.closed));
    const bad = codes.find((c) => c.code !== 0);
    if (bad) throw new Error(`a console process ended with ${bad.code ?? bad.signal}`);
  }

  /** Kills every process still running (after a failure). */
  destroy(): void {
    for (const p of this.procs) { p.alive = false; if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL'); }
  }

  private fail(e: Error): void {
    this.error ??= e;
    this.failed?.(e);
  }

  private onAnswer(p: Proc, f: InFlight, text: string): void {
    const now = performance.now();
    p.latencies.push(now - f.sentAt);
    const item = f.item;
    if (!item) return;
    if (text.includes(FAULT)) {
      // Not recorded: a platform redelivers what was not acknowledged.
      this.faults++;
      if (item.tries < 5) this.queue.unshift({ ...item, copy: 'resend', tries: item.tries + 1 });
    } else {
      const xs = this.answers.get(item.m.id) ?? [];
      xs.push({ proc: p.index, copy: item.copy, text });
      this.answers.set(item.m.id, xs);
      if (item.copy === 'first' && this.redeliverEvery && this.seq(item.m) % this.redeliverEvery === 7) {
        p.pinned.push({ item: { m: item.m, copy: 'redelivery', tries: 0 }, after: p.answered + 4 * this.window });
      }
    }
    this.answersSeen++;
    if (this.killAt && this.answersSeen >= this.killAt.answers && !this.killing) this.killing = this.killOne(this.procs[this.killAt.proc]);
    this.pump();
  }

  private seq(m: ScaleMessage): number { return Number(/\d+$/.exec(m.id)?.[0] ?? 0); }

  /** SIGKILL; once it is gone, everything it was sent and did not answer goes to the survivors. */
  private async killOne(p: Proc): Promise<void> {
    p.alive = false;
    p.killed = true;
    const answeredBefore = p.answered;
    const t0 = performance.now();
    p.child.kill('SIGKILL');
    await p.closed;
    const exitMs = performance.now() - t0;
    // Lines that were whole before it died were answers (handled by onAnswer meanwhile).
    const lost = p.inflight.splice(0).flatMap((f) => (f.item ? [f.item] : []));
    this.kill = { proc: p.index, answeredBefore, unanswered: lost.length, exitMs };
    this.resentAfterKill = lost.length;
    this.queue.unshift(...lost.map((item) => ({ ...item, copy: 'resend' as const })));
    // Its pending redeliveries come to a survivor instead.
    this.queue.push(...p.pinned.splice(0).map((x) => x.item));
    this.pump();
  }

  private next(p: Proc): Item | undefined {
    const k = p.pinned.findIndex((x) => x.after <= p.answered);
    if (k >= 0) return p.pinned.splice(k, 1)[0].item;
    const item = this.queue.shift();
    if (item) return item;
    // Nothing else to send: pending redeliveries go now.
    return p.pinned.shift()?.item;
  }

  private pump(): void {
    const live = this.procs.filter((p) => p.alive);
    if (!live.length) { this.fail(new Error('no console process left')); return; }
    let progress = true;
    while (progress) {
      progress = false;
      for (const p of live) {
        if (p.inflight.length >= this.window) continue;
        const item = this.next(p);
        if (!item) continue;
        progress = true;
        this.sent.add(item.m.id);
        this.lines[item.copy]++;
        p.send(item, item.m.line);
        // The same message to a second process in the same tick (its window may overflow by one).
        if (item.copy === 'first' && this.twinEvery && live.length > 1 && this.seq(item.m) % this.twinEvery === 3) {
          const q = live[(live.indexOf(p) + 1 + (this.order++ % (live.length - 1))) % live.length];
          this.lines.twin++;
          q.send({ m: item.m, copy: 'twin', tries: 0 }, item.m.line);
        }
      }
    }
    const idle = !this.killing || this.kill;
    if (idle && !this.queue.length && live.every((p) => !p.inflight.length && !p.pinned.length)) {
      const d = this.done;
      this.done = undefined;
      d?.();
    }
  }
}

/** What the database says about the messages sent, by message id. */
export interface ScaleAudit {
  sent: number;
  /** Sent ids with a row in inbound_messages. */
  recorded: number;
  /** Sent ids with no row (lost). */
  lost: number;
  /** Rows beyond the first per message id: inbound_messages, visits, issues, progress events. */
  duplicates: { inbound: number; visits: number; issues: number; progress: number };
  /** Visit messages, and how many of them made exactly one visit row. */
  visitMessages: number;
  visitsOnce: number;
  /** Visit rows whose message id is not a visit message sent (a row made from nothing). */
  strayVisits: number;
  issueMessages: number;
  issuesOnce: number;
  progressMessages: number;
  progressOnce: number;
  /** Ids whose answers (redelivery, twin, resend) differ from one another: handled twice. */
  mismatched: number;
}

const perId = (rows: Array<{ id: string | null; n: number }>) => new Map(rows.map((r) => [r.id ?? '', r.n]));
const extra = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);

/** Audits the database after a run of `messages` through `c`. */
export async function auditScale(db: Db, messages: ScaleMessage[], c: Cluster): Promise<ScaleAudit> {
  const inbound = perId(await db.all(`SELECT message_id AS id, count(*) AS n FROM inbound_messages WHERE platform = 'console' GROUP BY message_id`));
  const visits = perId(await db.all(`SELECT message_id AS id, count(*) AS n FROM visits GROUP BY message_id`));
  const issues = perId(await db.all(`SELECT message_id AS id, count(*) AS n FROM issues GROUP BY message_id`));
  // A /进展 note ends with its message id (scaleLoad writes it there).
  const notes = await db.all<{ note: string }>(`SELECT note FROM issue_events WHERE action = 'progress'`);
  const progress = new Map<string, number>();
  for (const { note } of notes) { const id = note.split(' ').at(-1)!; progress.set(id, (progress.get(id) ?? 0) + 1); }
  const of = (k: ScaleKind) => messages.filter((m) => m.kind === k);
  const once = (xs: ScaleMessage[], m: Map<string, number>) => xs.filter((x) => m.get(x.id) === 1).length;
  const visitIds = new Set(of('visit').map((m) => m.id));
  const sentIds = [...c.sent];
  return {
    sent: sentIds.length,
    recorded: sentIds.filter((id) => inbound.has(id)).length,
    lost: sentIds.filter((id) => !inbound.has(id)).length,
    duplicates: { inbound: extra(inbound), visits: extra(visits), issues: extra(issues), progress: extra(progress) },
    visitMessages: visitIds.size,
    visitsOnce: once(of('visit'), visits),
    strayVisits: [...visits.keys()].filter((id) => !visitIds.has(id)).length,
    issueMessages: of('issue').length,
    issuesOnce: once(of('issue'), issues),
    progressMessages: of('progress').length,
    progressOnce: once(of('progress'), progress),
    mismatched: [...c.answers.values()].filter((xs) => xs.some((x) => x.text !== xs[0].text)).length,
  };
}

let clusters = 0;

/** CPU seconds between two samples of the same pids (a pid new in `b` counts from zero). */
const used = (a: Map<number, number>, b: Map<number, number>) => [...b].reduce((s, [pid, x]) => s + x - (a.get(pid) ?? 0), 0);

/** Busy and total jiffies of the whole machine (/proc/stat), for the CPU the run took. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((s, x) => s + x, 0);
    return { busy: total - f[3] - (f[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

export interface ScaleRun {
  processes: number;
  messages: number;
  /** Lines written to the consoles (first copies, redeliveries, twins, resends). */
  lines: number;
  seconds: number;
  /** Distinct messages answered per second, and lines per second. */
  messagesPerSec: number;
  linesPerSec: number;
  p50: number;
  p99: number;
  /** Busy share of the machine's CPUs during the run (0–1), from /proc/stat — anything else running included. */
  cpuBusy?: number;
  /**
   * CPU milliseconds per message (Linux): the console processes, the PostgreSQL server processes
   * serving them, and this driver. Their sum bounds what the machine's cores can carry, whoever
   * else shares them: 1000 × cores / total messages per second at best.
   */
  cpuMsPerMessage?: { consoles: number; postgres: number; driver: number; total: number };
  perProcess: ProcStats[];
  audit: ScaleAudit;
}

export interface ScaleFaultRun extends ScaleRun {
  kill: NonNullable<Cluster['kill']>;
  faults: number;
}

/**
 * One run on a fresh schema of `target`: seed, start `processes` consoles, the `/民情` phase then
 * the rest (with a SIGKILL of the last process half-way when `kill`), audit, clean up.
 */
export async function runScale(o: { target: string; messages: number; processes: number; cadres?: number; window?: number; kill?: boolean; keep?: (db: Db) => Promise<void> }): Promise<ScaleRun & { kill?: Cluster['kill']; faults: number }> {
  const cadres = o.cadres ?? 2000;
  const bench = await openBenchDb(o.target, `scale${o.processes}`);
  let c: Cluster | undefined;
  try {
    await seedScale(bench.db, cadres);
    c = new Cluster({ target: bench.target, processes: o.processes, window: o.window });
    await c.ready();
    const load = scaleLoad(o.messages, { cadres });
    const cpu0 = machineCpu(), own0 = await c.cpu(bench.db), drv0 = process.cpuUsage(), t0 = performance.now();
    await c.run(load.issues);
    const rest = load.rest(issueNumbers(c, load.issues));
    await c.run(rest, { killAfter: o.kill ? Math.floor(rest.length / 2) : undefined });
    const seconds = (performance.now() - t0) / 1000, cpu1 = machineCpu(), own1 = await c.cpu(bench.db), drv = process.cpuUsage(drv0);
    await c.close();
    const all = [...load.issues, ...rest];
    const lat = c.latencies();
    const lines = Object.values(c.lines).reduce((s, n) => s + n, 0);
    const run = {
      processes: o.processes, messages: all.length, lines, seconds,
      messagesPerSec: all.length / seconds, linesPerSec: lines / seconds,
      p50: percentile(lat, 50), p99: percentile(lat, 99),
      cpuBusy: cpu0 && cpu1 ? (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) : undefined,
      // Not after a kill: the killed process and its server processes are gone before the last sample.
      cpuMsPerMessage: own1.consoles.size && !o.kill ? perMessage(all.length, used(own0.consoles, own1.consoles), used(own0.postgres, own1.postgres), (drv.user + drv.system) / 1e6) : undefined,
      perProcess: c.stats(), audit: await auditScale(bench.db, all, c), kill: c.kill, faults: c.faults,
    };
    await o.keep?.(bench.db);
    return run;
  } finally {
    c?.destroy();
    await bench.dispose();
  }
}

function perMessage(n: number, consoles: number, postgres: number, driver: number) {
  const ms = (s: number) => (s * 1000) / n;
  return { consoles: ms(consoles), postgres: ms(postgres), driver: ms(driver), total: ms(consoles + postgres + driver) };
}

export interface BenchScaleResult { runs: ScaleRun[]; fault: ScaleFaultRun }

/**
 * The same load through each process count (plain runs: redeliveries and twins, no kill), then
 * the fault run at the largest count with a SIGKILL half-way. Each run on a schema of its own.
 */
export async function benchScale(o: { messages: number; processes?: number[]; target: string; cadres?: number; window?: number; log?: (s: string) => void }): Promise<BenchScaleResult> {
  const counts = o.processes ?? [1, 2, 3];
  const runs: ScaleRun[] = [];
  for (const p of counts) {
    const r = await runScale({ target: o.target, messages: o.messages, processes: p, cadres: o.cadres, window: o.window });
    runs.push(r);
    o.log?.(describeRun(r));
  }
  const max = Math.max(...counts);
  const f = await runScale({ target: o.target, messages: o.messages, processes: Math.max(2, max), cadres: o.cadres, window: o.window, kill: true });
  const fault: ScaleFaultRun = { ...f, kill: f.kill!, faults: f.faults };
  o.log?.(describeFault(fault));
  return { runs, fault };
}

export function describeRun(r: ScaleRun): string {
  const a = r.audit;
  return `${r.processes} 个进程：${r.messages} 条消息（${r.lines} 行，含重投与双发）${r.seconds.toFixed(1)} s，` +
    `${r.messagesPerSec.toFixed(0)} 条/秒（${r.linesPerSec.toFixed(0)} 行/秒），延迟 p50 ${r.p50.toFixed(0)} ms、p99 ${r.p99.toFixed(0)} ms` +
    (r.cpuBusy !== undefined ? `，整机 CPU 忙 ${(r.cpuBusy * 100).toFixed(0)}%` : '') +
    (r.cpuMsPerMessage ? `，每条 CPU ${r.cpuMsPerMessage.total.toFixed(2)} ms（控制台 ${r.cpuMsPerMessage.consoles.toFixed(2)}，PostgreSQL ${r.cpuMsPerMessage.postgres.toFixed(2)}，驱动 ${r.cpuMsPerMessage.driver.toFixed(2)}）` : '') +
    `；各进程 ${r.perProcess.map((p) => `#${p.index} ${p.answered} 行 p99 ${p.p99.toFixed(0)} ms`).join('，')}` +
    `；记录 ${a.recorded}/${a.sent}，丢失 ${a.lost}，重复 ${Object.values(a.duplicates).reduce((s, n) => s + n, 0)}，答复不一致 ${a.mismatched}`;
}

export function describeFault(r: ScaleFaultRun): string {
  const a = r.audit;
  return `故障：${describeRun(r)}；进程 #${r.kill.proc} 在答复 ${r.kill.answeredBefore} 行后被 SIGKILL，` +
    `${r.kill.unanswered} 条未确认的消息改发给其余进程；出错答复 ${r.faults}；` +
    `发出 ${a.sent}，入库 ${a.recorded}，重复 ${JSON.stringify(a.duplicates)}，丢失 ${a.lost}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[3] ?? process.env.MINQING_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const r = await benchScale({ messages: Number(process.argv[2] ?? 3000), target, log: (s) => console.log(s) });
  console.log(JSON.stringify(r, (k, v: unknown) => (k === 'perProcess' ? undefined : v), 1));
}
