/**
 * The `minqing` program as a user or a script runs it: a child process on a real database (a file,
 * or a PostgreSQL schema of its own when the suite runs on PostgreSQL).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDb } from '../storage/db.js';
import { dropTestDb, testDbTarget, testDialect } from './chat.js';

// Each case starts the program several times (about 1–2 s each on a quiet machine).
vi.setConfig({ testTimeout: 120_000 });

let dir: string;
let target: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'minqing-cli-'));
  target = testDbTarget(dir, 'm.db');
});
afterEach(async () => {
  // The file goes with its folder; a PostgreSQL schema is dropped.
  if (testDialect() === 'postgres') await dropTestDb(await openDb(target));
  rmSync(dir, { recursive: true, force: true });
});

function minqing(args: string[], input = '', env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/minqing.mjs', ...args], {
    input, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, MINQING_DB: target, LOG_LEVEL: 'silent', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

describe('minqing console --jsonl', () => {
  it('answers every input line with exactly one output line, bad lines included, and dedupes ids', () => {
    const input = [
      JSON.stringify({ user: 'u2', text: '/走访 昨天 石门村 入户 1天 走访困难户3户', id: 'm1', at: '2026-11-20T09:30:00+08:00' }),
      JSON.stringify({ user: 'u2', text: '/走访 昨天 石门村 入户 1天 走访困难户3户', id: 'm1', at: '2026-11-20T09:30:00+08:00' }),
      '{not json',
      JSON.stringify({ chat: 'g1', text: '/我的' }),
      JSON.stringify({ user: 'u2', card: 'visit', values: { date: '2026-11-19', place: '东关社区', kind: '宣讲', duration: '2小时' }, id: 'c1', at: '2026-11-20T10:00:00+08:00' }),
      JSON.stringify({ user: 'u1', chat: 'g1', group: true, text: '@民情 帮助', at: '2026-11-20T10:00:00+08:00' }),
    ].join('\n') + '\n';
    const r = minqing(['console', '--jsonl', '--demo'], input);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(6);
    const out = r.lines.map((l) => JSON.parse(l) as { replies: Array<{ to: string; target: string; text: string }> });
    expect(out[0].replies[0]).toMatchObject({ to: 'chat', target: 'u2' });
    expect(out[0].replies[0].text).toContain('已记录走访 #V1');
    expect(out[1]).toEqual(out[0]);
    expect(out[2].replies[0].text).toContain('不是有效的 JSON');
    expect(out[3].replies[0].text).toContain('user');
    expect(out[4].replies[0].text).toContain('已记录走访 #V2');
    expect(out[4].replies[0].text).toContain('地点 东关社区 · 政策宣讲 · 2小时');
    expect(out[5].replies[0]).toMatchObject({ to: 'chat', target: 'g1' });
    expect(out[5].replies[0].text).toContain('/走访');
  });
});

describe('minqing remind', () => {
  it('lists what would be sent with --dry-run, then sends it once', () => {
    minqing(['demo']);
    const dry = minqing(['remind', '--at', '2026-11-20T09:00:00+08:00', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('【quota】2026-11-20：应发');
    expect(dry.out).toContain('本月还差');
    const real = minqing(['remind', '--at', '2026-11-20T09:00:00+08:00']);
    expect(real.out).toContain('⏰ 民情 → 私信 u2：张三您好');
    const again = minqing(['remind', '--at', '2026-11-20T09:00:00+08:00']);
    expect(again.out).not.toContain('⏰');
    expect(again.out).toContain('新记录 0');
  });

  it('refuses a time that is not ISO, saying the expected form', () => {
    const r = minqing(['remind', '--at', '明天九点']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('2026-11-20T09:00:00+08:00');
  });
});

describe('configuration', () => {
  it('stops with one line naming a bad variable', () => {
    const r = minqing(['migrate'], '', { MINQING_TZ: 'Mars/Olympus' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('MINQING_TZ');
  });

  it('migrate creates the database', () => {
    const r = minqing(['migrate']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('数据库已是最新');
  });
});

describe('minqing start', () => {
  it('with no platform and no terminal (a container, a service) stops with status 1 and says why', () => {
    const r = spawnSync(process.execPath, ['bin/minqing.mjs', 'start', '--no-reminders'], {
      stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, MINQING_DB: target, LOG_LEVEL: 'silent' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('未配置任何平台');
  });
});
