/**
 * The JSONL console reads ahead and handles lines concurrently (bot/adapters/console/jsonl.ts):
 * answers still come out in input order, a line still sees what the earlier lines of its sender
 * and of its chat did, and at most `inFlight` lines are read and not yet written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runJsonl } from '../bot/adapters/console/jsonl.js';
import type { BotEvent } from '../bot/event.js';
import type { Reply } from '../bot/reply.js';
import { testConfig } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { openDb } from '../storage/db.js';
import { createApp } from '../scripts/app.js';
import { seedRoster } from '../scripts/bench-seed.js';
import { dropTestDb, testDbTarget } from './chat.js';

const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

interface Out { replies: Array<{ to: string; target: string; text: string }> }

/** Runs the JSONL loop over `lines`; the output lines, parsed. */
async function run(lines: string[], handle: (e: BotEvent) => Promise<Reply[]>, o: { inFlight?: number; output?: Writable & { lines?: string[] } } = {}): Promise<Out[]> {
  const got: string[] = [];
  const output = o.output ?? new Writable({ write(chunk, _enc, cb) { got.push(String(chunk)); cb(); } });
  await runJsonl({ input: Readable.from([lines.join('\n') + '\n']), output, log, botName: '民情', handle, inFlight: o.inFlight });
  return (o.output?.lines ?? got).join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Out);
}

const echo = (e: BotEvent, text = e.text): Reply[] => [{ to: 'chat', target: e.chatId, platform: e.platform, text }];

describe('JSONL console: concurrent lines, answers in input order', () => {
  it('writes answers in input order when later lines finish first (bad and blank lines included)', async () => {
    const n = 40;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(JSON.stringify({ user: `u${i}`, text: `#${i}` }));
      if (i === 10) lines.push('{not json');
      if (i === 20) lines.push('   ');
    }
    const finished: number[] = [];
    const out = await run(lines, async (e) => {
      const i = Number(e.text.slice(1));
      await sleep((n - i) * 3); // the first line is the slowest
      finished.push(i);
      return echo(e);
    });
    // The handlers really did finish out of order…
    expect(finished.slice(0, 5)).not.toEqual([0, 1, 2, 3, 4]);
    // …and the answers are still one per non-blank line, in input order.
    expect(out).toHaveLength(n + 1);
    const texts = out.map((o) => o.replies[0].text);
    expect(texts.slice(0, 11)).toEqual(Array.from({ length: 11 }, (_, i) => `#${i}`));
    expect(texts[11]).toContain('不是有效的 JSON');
    expect(texts.slice(12)).toEqual(Array.from({ length: n - 11 }, (_, i) => `#${i + 11}`));
  });

  it('runs lines of one sender or one chat one after the other, others at once, at most inFlight', async () => {
    const bound = 8;
    let active = 0, maxActive = 0;
    const busy = new Map<string, number>();
    let overlaps = 0;
    const order = new Map<string, string[]>();
    // 60 senders in 6 group chats; each sender speaks three times.
    const lines = Array.from({ length: 180 }, (_, i) => {
      const user = `u${i % 60}`;
      return JSON.stringify({ user, chat: `g${i % 6}`, group: true, text: `@民情 ${user}#${Math.floor(i / 60)}` });
    });
    const out = await run(lines, async (e) => {
      active++;
      maxActive = Math.max(maxActive, active);
      for (const k of [`u:${e.senderId}`, `c:${e.chatId}`]) {
        if (busy.get(k)) overlaps++;
        busy.set(k, (busy.get(k) ?? 0) + 1);
      }
      order.set(e.senderId, [...(order.get(e.senderId) ?? []), e.text]);
      await sleep(1 + (e.text.length % 3));
      for (const k of [`u:${e.senderId}`, `c:${e.chatId}`]) busy.set(k, busy.get(k)! - 1);
      active--;
      return echo(e);
    }, { inFlight: bound });
    expect(out.map((o) => o.replies[0].text)).toEqual(lines.map((l) => (JSON.parse(l) as { text: string }).text.replace('@民情 ', '')));
    expect(overlaps).toBe(0);
    for (const [user, texts] of order) expect(texts).toEqual([0, 1, 2].map((k) => `${user}#${k}`));
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(bound);
  });

  it('bounds the lines in flight, reads ahead past a slow line, and waits for a slow output to drain', async () => {
    const bound = 16, hwm = 256;
    let started = 0, writes = 0, maxAhead = 0, maxBuffered = 0, startedWhileSlow = 0;
    const written: string[] = [];
    // A slow reader of the output with a small buffer: writes return false and `drain` comes later.
    const output = Object.assign(new Writable({
      highWaterMark: hwm,
      write(chunk, _enc, cb) { written.push(String(chunk)); setTimeout(cb, 1); },
    }), { lines: written });
    const write = output.write.bind(output);
    output.write = ((chunk: string) => {
      // Lines handed to the output (the console writes the lines of one turn together).
      writes += chunk.split('\n').length - 1;
      const ok = write(chunk);
      maxBuffered = Math.max(maxBuffered, output.writableLength);
      return ok;
    }) as typeof output.write;
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ user: `u${i}`, text: `line ${i} ${'x'.repeat(60)}` }));
    const out = await run(lines, async (e) => {
      started++;
      // Handled but not yet handed to the output: never more than the bound.
      maxAhead = Math.max(maxAhead, started - writes);
      if (e.senderId === 'u0') {
        await sleep(50);
        startedWhileSlow = started - 1;
      }
      return echo(e);
    }, { inFlight: bound, output });
    await new Promise<void>((r) => output.end(r));
    expect(out.map((o) => o.replies[0].text)).toEqual(lines.map((l) => (JSON.parse(l) as { text: string }).text));
    expect(maxAhead).toBeLessThanOrEqual(bound);
    // While line 0 slept, the lines after it up to the bound were handled, and no more.
    expect(startedWhileSlow).toBe(bound - 1);
    // Never more than one turn's lines (at most the bound) past the high-water mark: the writer
    // waited for `drain` (without waiting it would hold all 300 lines, ~37,000 bytes).
    expect(maxBuffered).toBeLessThan(hwm + bound * 130);
  });

  it('the first line whose handling throws ends the run after the lines before it are written', async () => {
    const got: string[] = [];
    const output = new Writable({ write(chunk, _enc, cb) { got.push(String(chunk)); cb(); } });
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ user: `u${i}`, text: `${i}` }));
    await expect(runJsonl({
      input: Readable.from([lines.join('\n') + '\n']), output, log, botName: '民情', inFlight: 8,
      handle: async (e) => {
        if (e.text === '5') { await sleep(5); throw new Error('database gone'); }
        return echo(e);
      },
    })).rejects.toThrow('database gone');
    expect(got.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Out).replies[0].text)).toEqual(['0', '1', '2', '3', '4']);
  });
  it('ends with an error, not a wait, when the output was closed between lines', async () => {
    // Destroyed while idle, the stream has emitted its 'close' and will emit nothing more.
    let got = 0;
    const output = new Writable({ write(_c, _e, cb) { got++; cb(); } });
    const input = new Readable({ read() { /* fed below */ } });
    const running = runJsonl({ input, output, log, botName: '民情', handle: async (e) => echo(e) });
    input.push(JSON.stringify({ user: 'u1', text: '第一行' }) + '\n');
    while (!got) await sleep(5);
    output.destroy();
    await sleep(5);
    input.push(JSON.stringify({ user: 'u1', text: '第二行' }) + '\n');
    input.push(null);
    const outcome = await Promise.race([running.then(() => 'ended', (e: Error) => e.message), sleep(2000).then(() => 'waiting')]);
    expect(outcome).toBe('output closed');
  });
});

describe('JSONL console over the real bot: a line sees the earlier lines of its sender', () => {
  it('/走访, /我的, /走访, /撤销, /我的 of 40 cadres interleaved answer as if one at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minqing-jsonl-'));
    dirs.push(dir);
    const target = testDbTarget(dir);
    const db = await openDb(target);
    try {
      const cadres = 40;
      await seedRoster(db, 5, cadres, Date.parse('2026-11-01T00:00:00+08:00'));
      const app = createApp(testConfig({ MINQING_DB: target, MINQING_DATA_DIR: dir }), { db, log });
      const at = '2026-11-20T09:30:00+08:00';
      const script = (u: string) => [
        { user: u, text: '/走访 昨天 石门村 入户 2小时 走访困难户', at },
        { user: u, text: '/我的', at },
        { user: u, text: '/走访 今天 东关社区 座谈 3小时 了解就医难', at },
        { user: u, text: '/撤销', at },
        { user: u, text: '/我的', at },
      ];
      // Each cadre's five lines in order, the cadres interleaved (a seeded shuffle of whose turn it is).
      const queues = Array.from({ length: cadres }, (_, k) => script(`c${k + 1}`));
      const lines: Array<{ user: string; text: string; at: string }> = [];
      let seed = 20261120;
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      while (queues.some((q) => q.length)) {
        const open = queues.filter((q) => q.length);
        lines.push(open[Math.floor(rand() * open.length)].shift()!);
      }
      const out = await run(lines.map((l) => JSON.stringify(l)), app.handle, { inFlight: 256 });
      expect(out).toHaveLength(lines.length);
      const byUser = new Map<string, string[]>();
      lines.forEach((l, i) => byUser.set(l.user, [...(byUser.get(l.user) ?? []), out[i].replies[0].text]));
      for (const [user, [visit1, me1, visit2, undo, me2]] of byUser) {
        expect(visit1, user).toMatch(/^已记录走访 #V\d+/);
        expect(visit2, user).toMatch(/^已记录走访 #V\d+/);
        // The first /我的 counts the first visit (2 hours), the second counts it alone again.
        expect(me1, user).toContain('走访 1 次，2 小时');
        const second = /#V(\d+)/.exec(visit2)![1];
        expect(undo, user).toBe(`已撤销走访记录 #V${second}。记录保留但不再计入统计。`);
        expect(me2, user).toBe(me1);
      }
      expect(await db.value<number>("SELECT count(*) FROM visits WHERE voided_at IS NULL")).toBe(cadres);
      await app.close();
    } finally {
      await dropTestDb(db);
    }
  });
});
