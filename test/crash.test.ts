/**
 * Crash safety (docs/rules.md#qualities: "no input crashes the bot or loses a record"): 5,000
 * commands stream through `minqing console --jsonl` in a child process, which is killed with
 * SIGKILL at random points, restarted, and fed the same inputs from the start (same message
 * ids) until one run completes. Afterwards every acknowledged record exists exactly once, nothing
 * is half-written, and the issue audit trail agrees with the issue states.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestDb, testDbTarget, testDialect } from './chat.js';
import { countOf, rowsWhere } from './db-probe.js';
import { verifyDatabase } from '../scripts/backup.js';
import { mulberry32 } from '../scripts/bench-seed.js';
import { openDb } from '../storage/db.js';
import { inboundMessages, issueEvents, issues, visits, volunteers } from '../storage/schema.js';

const N = 5_000;
const BLOCK = 10;
const START = Date.parse('2026-11-20T08:00:00+08:00');
const dir = mkdtempSync(join(tmpdir(), 'minqing-crash-'));
/** The bot's database: a SQLite file, or a PostgreSQL schema of its own (the postgres project). */
const DB = testDbTarget(dir, 'crash.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'visit' | 'volunteer' | 'issue' | 'progress' | 'resolve' | 'me';

/**
 * Blocks of ten: four visits, two volunteer records, an issue (#b+1, the reporter responsible),
 * its progress, its result (even blocks) or more progress (odd blocks), and a /我的 query.
 */
function command(i: number): { kind: Kind; user: string; text: string } {
  const b = Math.floor(i / BLOCK), issue = b + 1;
  switch (i % BLOCK) {
    case 0: case 1: case 2: case 3:
      return { kind: 'visit', user: i % 2 ? 'u3' : 'u2', text: `/走访 昨天 石门村 入户 2小时 走访困难户 m${i}` };
    case 4: case 5:
      return { kind: 'volunteer', user: 'u3', text: `/志愿 3小时 县福利院 义工 m${i}` };
    case 6:
      return { kind: 'issue', user: 'u2', text: `/民情 石门村 道路破损 m${i} 时限:12月31日` };
    case 7:
      return { kind: 'progress', user: 'u2', text: `/进展 #${issue} 已联系交通局 m${i}` };
    case 8:
      return b % 2 === 0
        ? { kind: 'resolve', user: 'u2', text: `/办结 #${issue} 路面已修复，已电话告知群众 m${i}` }
        : { kind: 'progress', user: 'u2', text: `/进展 #${issue} 已列入维修计划 m${i}` };
    default:
      return { kind: 'me', user: 'u2', text: '/我的' };
  }
}

const commands = Array.from({ length: N }, (_, i) => command(i));
const input = commands.map((c, i) =>
  JSON.stringify({ user: c.user, text: c.text, id: `m${i}`, at: new Date(START + i * 1000).toISOString() })).join('\n') + '\n';

interface Out { replies: Array<{ text: string }> }

/** One run of the bot over all inputs; killed with SIGKILL once `killAfter` lines are out. */
function runBot(o: { demo: boolean; killAfter?: number; delayMs?: number }): Promise<{ lines: Out[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/minqing.mjs', 'console', '--jsonl', ...(o.demo ? ['--demo'] : [])], {
      env: { ...process.env, MINQING_DB: DB, LOG_LEVEL: 'silent' }, stdio: ['pipe', 'pipe', 'ignore'],
    });
    const lines: Out[] = [];
    let buffer = '';
    let killing = false;
    child.stdin.on('error', () => {}); // EPIPE once killed
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      // Only whole lines count as acknowledged; a torn last line is no answer.
      while ((nl = buffer.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Out);
        buffer = buffer.slice(nl + 1);
      }
      if (o.killAfter !== undefined && !killing && lines.length >= o.killAfter) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), o.delayMs ?? 0);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!killing && code !== 0) reject(new Error(`bot exited with ${code ?? signal}`));
      else resolve({ lines, killed: signal === 'SIGKILL' });
    });
    child.stdin.end(input);
  });
}

const ACK = /^(已记录|已登记|已办结)/;

describe('SIGKILL during a burst of 5,000 commands, then replay of the same inputs', () => {
  it('keeps every acknowledged record exactly once and nothing half-written', async () => {
    const random = mulberry32(20261120);
    /** message id → the reply text it was first acknowledged with. */
    const acked = new Map<number, string>();
    const note = (lines: Out[]) => lines.forEach((l, i) => {
      const text = l.replies[0]?.text ?? '';
      if (ACK.test(text) && !acked.has(i)) acked.set(i, text);
    });
    const kills: number[] = [];
    let progress = 0;
    for (let k = 0; k < 3; k++) {
      // Each kill lands further on than the last run reached, at a random point.
      const killAfter = progress + 300 + Math.floor(random() * ((N - progress) / 3));
      const r = await runBot({ demo: k === 0, killAfter, delayMs: Math.floor(random() * 4) });
      expect(r.killed).toBe(true);
      note(r.lines);
      kills.push(r.lines.length);
      progress = Math.max(progress, r.lines.length);
    }
    const last = await runBot({ demo: false });
    expect(last.killed).toBe(false);
    expect(last.lines).toHaveLength(N);
    // A replayed message is answered with the replies it got the first time.
    for (const [i, text] of acked) expect(last.lines[i].replies[0].text).toBe(text);
    note(last.lines);
    console.log(`crash: killed after ${kills.join(', ')} output lines; ${acked.size} acknowledged records`);

    const db = await openDb(DB);
    try {
      // A SQLite file survives SIGKILL sound (integrity_check, run by verifyDatabase, says ok);
      // a PostgreSQL server simply rolls back the killed client's open transaction.
      if (testDialect() === 'sqlite') expect(verifyDatabase(DB).length).toBeGreaterThan(5);
      /** message id → how many rows of the table it made. */
      const perId = async (t: typeof visits | typeof volunteers | typeof issues) => {
        const n = new Map<string, number>();
        for (const r of await rowsWhere(db, t)) n.set(r.messageId!, (n.get(r.messageId!) ?? 0) + 1);
        return n;
      };
      const rows = { visit: await perId(visits), volunteer: await perId(volunteers), issue: await perId(issues) };
      for (const [i] of acked) {
        const kind = commands[i].kind;
        if (kind === 'visit' || kind === 'volunteer' || kind === 'issue') expect([`m${i}`, rows[kind].get(`m${i}`)]).toEqual([`m${i}`, 1]);
      }
      for (const table of Object.values(rows)) expect([...table.values()].filter((n) => n !== 1)).toEqual([]);
      // Every successful message made its record, and nothing else did.
      const succeeded = (kind: Kind) => commands.filter((c, i) => c.kind === kind && ACK.test(last.lines[i].replies[0].text)).length;
      expect(await countOf(db, visits)).toBe(succeeded('visit'));
      expect(await countOf(db, volunteers)).toBe(succeeded('volunteer'));
      expect(await countOf(db, issues)).toBe(succeeded('issue'));
      expect(succeeded('visit')).toBe(N / BLOCK * 4);
      expect(succeeded('issue')).toBe(N / BLOCK);
      expect(new Set((await rowsWhere(db, inboundMessages)).map((m) => m.messageId)).size).toBe(N);
      // The audit trail: a register row per issue, one progress row per /进展, the state is the
      // to-state of the last row, and even blocks ended resolved, odd ones in progress.
      const states = await rowsWhere(db, issues, {}, 'id');
      const events = await rowsWhere(db, issueEvents, {}, 'id');
      const eventsOf = (id: number) => events.filter((e) => e.issueId === id);
      expect(states.filter((i) => eventsOf(i.id).filter((e) => e.action === 'register').length !== 1)).toEqual([]);
      expect(await countOf(db, issueEvents, { action: 'progress' })).toBe(succeeded('progress'));
      expect(states.filter((i) => eventsOf(i.id).at(-1)?.toState !== i.state)).toEqual([]);
      expect(states.filter((s) => s.state !== ((s.id - 1) % 2 === 0 ? 'resolved' : 'in_progress'))).toEqual([]);
    } finally {
      await dropTestDb(db);
    }
  }, 300_000);
});
