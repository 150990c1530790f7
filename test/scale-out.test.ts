/**
 * Scale-out on PostgreSQL (issue 13 item 1): three `minqing console --jsonl` processes share one
 * schema, as bot processes behind a platform's load balancer would. 10,000 messages — mostly
 * `/走访` from 1,000 cadres, some `/民情`, `/进展` and `/我的` — spread over them
 * (scripts/bench-scale.ts Cluster), with redeliveries (one message in 50 sent again, later, to the
 * process that answered it), the same message to two processes at once (one in 100), and a
 * SIGKILL of one process half-way whose unanswered lines go to the survivors, as a platform
 * redelivers what was not acknowledged. Then a month-end reminder pass from two `minqing remind`
 * processes at once, and a deadline pass recorded and delivered from two Db handles at once.
 *
 * Afterwards, by message id: recorded once in inbound_messages, one visit / issue / progress row
 * per message, nothing lost, every copy of a message answered alike; every reminder recorded and
 * delivered (claimed) once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { deliverMany, runPass } from '../jobs/pass.js';
import { openDb, type Db } from '../storage/db.js';
import { loadReminderSettings } from '../storage/reminder-settings.js';
import { inboundMessages, issueEvents, issues, reminders, visits } from '../storage/schema.js';
import { auditScale, Cluster, issueNumbers, scaleLoad, seedScale, type ScaleMessage } from '../scripts/bench-scale.js';
import { dropTestDb, testDbTarget, testDialect } from './chat.js';
import { rowsWhere } from './db-probe.js';

/** Messages (measured: about 130–180 a second over three processes on a 2-core machine with PostgreSQL on it). */
const N = 10_000;
const CADRES = 1_000;
const MONTH_END = '2026-11-30T09:00:00+08:00';
const log = createLogger('silent');

/** How many of each key: the keys seen more than once. */
function repeated(keys: Array<string | null>): Array<[string | null, number]> {
  const m = new Map<string | null, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].filter(([, n]) => n !== 1);
}

/** `minqing remind --at <at>` as a child process: its exit code and output. */
function remind(target: string, at: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/minqing.mjs', 'remind', '--at', at], {
      env: { ...process.env, MINQING_DB: target, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The reminders a `minqing remind` printed: each starts with ⏰ and runs until the next ⏰ or 【 line. */
function printed(out: string): string[] {
  const xs: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('⏰ ')) xs.push(line);
    else if (line.startsWith('【') || !xs.length) continue;
    else xs[xs.length - 1] += '\n' + line;
  }
  return xs;
}

describe.skipIf(testDialect() !== 'postgres')('scale-out: three console processes on one PostgreSQL schema', () => {
  it('records every message exactly once through redeliveries, twins and a SIGKILL; reminders from two processes go out once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-scale-'));
    const target = testDbTarget(dir);
    const db = await openDb(target);
    let second: Db | undefined;
    try {
      // The demo roster once (u1–u3, every preset quota) and 1,000 cadres console:c1 … c1000.
      const ts = performance.now();
      await seedScale(db, CADRES);
      const seedSeconds = (performance.now() - ts) / 1000;

      // --- 10,000 messages over three processes, one of them killed half-way -------------------
      const t0 = performance.now();
      const c = new Cluster({ target, processes: 3, window: 64, redeliverEvery: 50, twinEvery: 100 });
      let all: ScaleMessage[];
      try {
        await c.ready();
        const load = scaleLoad(N, { cadres: CADRES });
        await c.run(load.issues);
        const rest = load.rest(issueNumbers(c, load.issues));
        await c.run(rest, { killAfter: Math.floor(rest.length / 2) });
        await c.close();
        all = [...load.issues, ...rest];
      } finally {
        c.destroy();
      }
      const seconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();

      // The load was what it says: every message sent, redeliveries and twins among the lines,
      // and the killed process held lines it never answered, which went to the survivors.
      expect(all).toHaveLength(N);
      expect(c.sent.size).toBe(N);
      expect(c.lines.redelivery).toBeGreaterThan(N / 60);
      expect(c.lines.twin).toBeGreaterThan(N / 120);
      expect(c.kill?.unanswered).toBeGreaterThan(0);
      expect(c.resentAfterKill).toBe(c.kill?.unanswered);
      expect(c.stats().filter((s) => s.killed)).toHaveLength(1);

      const byKind = (k: ScaleMessage['kind']) => all.filter((m) => m.kind === k);

      // The database, by message id: each recorded once, nothing lost, nothing extra.
      const inbound = await rowsWhere(db, inboundMessages, { platform: 'console' });
      expect(repeated(inbound.map((r) => r.messageId))).toEqual([]);
      const recorded = new Set(inbound.map((r) => r.messageId));
      expect(all.filter((m) => !recorded.has(m.id)).map((m) => m.id)).toEqual([]);
      expect(inbound).toHaveLength(N);
      // One visit row per visit message, and no visit row from anything else.
      const visitRows = await rowsWhere(db, visits);
      expect(repeated(visitRows.map((v) => v.messageId))).toEqual([]);
      const visitIds = new Set(byKind('visit').map((m) => m.id));
      expect(visitRows.filter((v) => !visitIds.has(v.messageId!))).toEqual([]);
      expect(visitRows).toHaveLength(visitIds.size);
      const issueRows = await rowsWhere(db, issues);
      expect(repeated(issueRows.map((v) => v.messageId))).toEqual([]);
      expect(issueRows).toHaveLength(byKind('issue').length);
      // A /进展 note ends with its message id.
      const progress = await rowsWhere(db, issueEvents, { action: 'progress' });
      expect(repeated(progress.map((e) => e.note!.split(' ').at(-1)!))).toEqual([]);
      expect(progress).toHaveLength(byKind('progress').length);
      const audit = await auditScale(db, all, c);

      // Every message answered, and every copy of it (redelivery, twin, resend) alike: a message
      // handled twice would have answered with another record number.
      const unanswered = all.filter((m) => !c.answers.get(m.id)?.length).map((m) => m.id);
      expect(unanswered).toEqual([]);
      const answer = (m: ScaleMessage) => c.answers.get(m.id)![0].text;
      expect(byKind('visit').filter((m) => !answer(m).startsWith('已记录走访'))).toEqual([]);
      expect(byKind('issue').filter((m) => !answer(m).startsWith('已登记问题'))).toEqual([]);
      expect(byKind('progress').filter((m) => !answer(m).startsWith('已记录 #'))).toEqual([]);
      const unlike = [...c.answers].filter(([, xs]) => xs.some((x) => x.text !== xs[0].text)).map(([id]) => id);
      expect(unlike).toEqual([]);
      expect(audit).toMatchObject({ sent: N, recorded: N, lost: 0, duplicates: { inbound: 0, visits: 0, issues: 0, progress: 0 }, strayVisits: 0, mismatched: 0 });

      const auditSeconds = (performance.now() - t1) / 1000;

      // --- The month-end pass from two processes at once ---------------------------------------
      const t2 = performance.now();
      const [a, b] = await Promise.all([remind(target, MONTH_END), remind(target, MONTH_END)]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const sentLines = [...printed(a.out), ...printed(b.out)];
      const monthEnd = (await rowsWhere(db, reminders)).filter((r) => r.reply !== null);
      // Each reminder recorded once (keys are unique), by one of the two, and sent by that one only.
      const planned = (out: string) => Number(/【quota】2026-11-30：应发 (\d+)/.exec(out)?.[1]);
      const fresh = (out: string) => [...out.matchAll(/新记录 (\d+)/g)].reduce((s, x) => s + Number(x[1]), 0);
      // Whichever planned first saw every cadre behind on the month; the other only what was left.
      const quota = Math.max(planned(a.out), planned(b.out));
      expect(quota).toBeGreaterThan(CADRES / 2);
      expect(fresh(a.out) + fresh(b.out)).toBe(monthEnd.length);
      expect(monthEnd.filter((r) => r.kind === 'quota' || r.kind === 'quota-lead')).toHaveLength(quota);
      expect(sentLines).toHaveLength(monthEnd.length);
      expect(repeated(sentLines)).toEqual([]);
      expect(monthEnd.filter((r) => r.deliveredAt === null || r.attempts !== 1 || r.lastError !== null)).toEqual([]);

      const remindSeconds = (performance.now() - t2) / 1000;

      // --- A deadline pass recorded and delivered from two Db handles at once ------------------
      // Both record (each key once), then both are handed every undelivered key: the claims
      // (FOR UPDATE SKIP LOCKED) split them, none is sent twice.
      second = await openDb(target);
      const at = new Date('2026-12-29T09:00:00+08:00');
      const settings = await loadReminderSettings(db);
      const sends = new Map<string, number>();
      const outbound = (worker: string) => {
        const o = new Outbound({ log, limits: {} });
        o.register({ platform: 'console', async send(_m, key) { sends.set(key, (sends.get(key) ?? 0) + 1); await new Promise((r) => setImmediate(r)); } });
        return { outbound: o, worker, log };
      };
      const passes = await Promise.all([db, second].map((h) => runPass(h, { kind: 'deadlines', at, tz: 'Asia/Shanghai', settings })));
      const deadlineKeys = (await rowsWhere(db, reminders, { kind: 'deadline' })).map((r) => r.key);
      expect(deadlineKeys.length).toBeGreaterThan(byKind('issue').length / 2);
      expect(passes[0].fresh.length + passes[1].fresh.length).toBe(deadlineKeys.length);
      // Each walks every key in batches of ten, in the same order: they meet on the same rows.
      const deliverAll = async (h: Db, worker: string) => {
        const r = { sent: 0, failed: 0 };
        for (let i = 0; i < deadlineKeys.length; i += 10) {
          const x = await deliverMany(h, deadlineKeys.slice(i, i + 10), outbound(worker));
          r.sent += x.sent;
          r.failed += x.failed.length;
        }
        return r;
      };
      const [da, dbb] = await Promise.all([deliverAll(db, 'A'), deliverAll(second, 'B')]);
      expect(da.sent + dbb.sent).toBe(deadlineKeys.length);
      expect(da.failed + dbb.failed).toBe(0);
      expect([...sends.keys()].sort()).toEqual([...deadlineKeys].sort());
      expect([...sends.values()].filter((n) => n !== 1)).toEqual([]);
      const deadlineRows = await rowsWhere(db, reminders, { kind: 'deadline' });
      expect(deadlineRows.filter((r) => r.deliveredAt === null || r.attempts !== 1)).toEqual([]);

      console.log(`scale-out: seed ${seedSeconds.toFixed(1)} s, audit ${auditSeconds.toFixed(1)} s, two remind processes ${remindSeconds.toFixed(1)} s; ${N} messages over 3 processes in ${seconds.toFixed(1)} s (${(N / seconds).toFixed(0)}/s); ` +
        `lines ${JSON.stringify(c.lines)}; process #${c.kill!.proc} killed after ${c.kill!.answeredBefore} answers holding ${c.kill!.unanswered} unanswered, resent; ` +
        `fault answers ${c.faults}; per process ${c.stats().map((s) => `#${s.index} ${s.answered} lines p99 ${s.p99.toFixed(0)} ms`).join(', ')}; ` +
        `inbound_messages ${inbound.length}, visits ${visitRows.length} for ${visitIds.size} visit messages, issues ${issueRows.length}, progress ${progress.length}; ` +
        `month-end: planned ${planned(a.out)} / ${planned(b.out)}, ${monthEnd.length} reminders, recorded ${fresh(a.out)} + ${fresh(b.out)}, sent ${printed(a.out).length} + ${printed(b.out).length}; ` +
        `deadlines: ${deadlineKeys.length} recorded ${passes[0].fresh.length} + ${passes[1].fresh.length}, delivered ${da.sent} + ${dbb.sent}`);
    } finally {
      await second?.close();
      await dropTestDb(db);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
