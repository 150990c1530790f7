/**
 * Export files holding citizens' data are deleted after MINQING_EXPORT_RETENTION_DAYS
 * (docs/rules.md#retention): real files in a real export folder, the clock injected; the job through the scheduler
 * on a real Redis, its scheduler upserted under a fixed id; and the `minqing remind --at` pass.
 */
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { Outbound } from '../bot/outbound.js';
import { exportDir } from '../handlers/report-files.js';
import { pruneExports } from '../jobs/retention.js';
import { PRUNE_EXPORTS_CRON, Scheduler } from '../jobs/scheduler.js';
import { runRemindOnce } from '../scripts/remind.js';
import { Chat, testDialect } from './chat.js';

const log = createLogger('silent');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY = 86_400_000;
const NOW = new Date('2026-11-20T09:30:00+08:00');

let chat: Chat;
let dir: string;
let schedulers: Scheduler[];
beforeEach(async () => {
  chat = await Chat.demo();
  // On SQLite the default folder, beside the database file; PostgreSQL has no file to be beside.
  if (testDialect() === 'postgres') chat.app.deps.config.MINQING_EXPORT_DIR = join(chat.dir, 'exports');
  dir = exportDir(chat.app.deps.config);
  schedulers = [];
});
afterEach(async () => {
  for (const s of schedulers) {
    await s.queue.obliterate({ force: true }).catch(() => {});
    await s.close().catch(() => {});
  }
  await chat.close();
});

/** A file in the export folder, last written `daysAgo` days before NOW. */
function file(name: string, daysAgo: number): string {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, name);
  writeFileSync(f, 'x');
  const t = new Date(NOW.getTime() - daysAgo * DAY);
  utimesSync(f, t, t);
  return f;
}

/** Ages every file in the export folder to `daysAgo` days before NOW. */
function ageAll(daysAgo: number): void {
  const t = new Date(NOW.getTime() - daysAgo * DAY);
  for (const n of readdirSync(dir)) utimesSync(join(dir, n), t, t);
}

describe('pruneExports', () => {
  it('deletes export files older than the retention period and nothing else', () => {
    const old = file('民情记录表_石门镇_2026-11-10_20261110-093000.xlsx', 10);
    const oldSecond = file('台账_石门镇_2026-11-12_20261112-093000-2.csv', 7.5);
    const fresh = file('台账_石门镇_2026-11-19_20261119-093000.xlsx', 6.9);
    const foreign = file('年度总结.xlsx', 400);
    const r = pruneExports(dir, { now: NOW, retentionDays: 7 });
    expect(r).toEqual({ deleted: [old, oldSecond], kept: 1 });
    expect([old, oldSecond].map(existsSync)).toEqual([false, false]);
    expect([fresh, foreign].map(existsSync)).toEqual([true, true]);
    // The next day the 6.9-day-old file has passed 7 days.
    expect(pruneExports(dir, { now: new Date(NOW.getTime() + DAY), retentionDays: 7 }).deleted).toEqual([fresh]);
  });

  it('lists without deleting on a dry run, and finds nothing in a folder never written', () => {
    const old = file('日志_张三_2026-10_20261001-080000.csv', 30);
    expect(pruneExports(dir, { now: NOW, retentionDays: 7, dryRun: true }).deleted).toEqual([old]);
    expect(existsSync(old)).toBe(true);
    expect(pruneExports(join(dir, 'never'), { now: NOW, retentionDays: 7 })).toEqual({ deleted: [], kept: 0 });
  });

  it('defaults to 7 days and refuses a retention below one day', () => {
    expect(configSchema.parse({}).MINQING_EXPORT_RETENTION_DAYS).toBe(7);
    expect(configSchema.parse({ MINQING_EXPORT_RETENTION_DAYS: '30' }).MINQING_EXPORT_RETENTION_DAYS).toBe(30);
    expect(configSchema.safeParse({ MINQING_EXPORT_RETENTION_DAYS: '0' }).success).toBe(false);
  });
});

describe('the prune-exports job', () => {
  function scheduler(now: () => Date): Scheduler {
    const s = new Scheduler({
      db: chat.db, redisUrl: REDIS, outbound: new Outbound({ log, limits: {} }), log, tz: 'Asia/Shanghai',
      queueName: `test-${randomUUID()}`, worker: 'w', exports: { dir, retentionDays: 7 }, now,
    });
    schedulers.push(s);
    return s;
  }

  it('deletes a 民情记录表 export a cadre asked for, once it is past the retention, by the injected clock', async () => {
    await chat.says('u2', '/联系户 王大爷 13912345678 人口:4 地点:石门村');
    await chat.says('u1', '/导出 民情表');
    const exported = chat.replies[0].file!;
    expect(exported.startsWith(dir)).toBe(true);
    ageAll(3);
    let clock = NOW;
    const s = scheduler(() => clock);
    const job = { name: 'prune-exports', data: {} } as Job;
    expect(await s.process(job)).toEqual({ deleted: 0, kept: 1 });
    expect(existsSync(exported)).toBe(true);
    clock = new Date(NOW.getTime() + 5 * DAY);
    expect(await s.process(job)).toEqual({ deleted: 1, kept: 0 });
    expect(existsSync(exported)).toBe(false);
  });

  it('runs daily under the fixed id prune-exports: a restart adds no second scheduler', async () => {
    const a = scheduler(() => NOW);
    await a.upsertSchedulers();
    await a.upsertSchedulers();
    const list = await a.queue.getJobSchedulers();
    expect(list.filter((j) => j.key === 'prune-exports')).toHaveLength(1);
    expect(list.find((j) => j.key === 'prune-exports')).toMatchObject({ pattern: PRUNE_EXPORTS_CRON, tz: 'Asia/Shanghai' });
    expect(list).toHaveLength(5);
  });
});

describe('minqing remind --at', () => {
  it('deletes the export files past their retention as of that instant, or lists them on a dry run', async () => {
    const old = file('台账_示范县_2026-11-01_20261101-093000.xlsx', 19);
    file('台账_示范县_2026-11-19_20261119-093000.xlsx', 1);
    const lines: string[] = [];
    const o = { at: NOW, tz: 'Asia/Shanghai', log, write: (l: string) => lines.push(l), exports: { dir, retentionDays: 7 } };
    await runRemindOnce(chat.db, { ...o, dryRun: true });
    expect(lines).toContain('【导出文件】保存 7 天：将删除 1 个，保留 1 个');
    expect(lines).toContain(`  ${old}`);
    expect(existsSync(old)).toBe(true);
    lines.length = 0;
    await runRemindOnce(chat.db, { ...o, dryRun: false });
    expect(lines).toContain('【导出文件】保存 7 天：已删除 1 个，保留 1 个');
    expect(existsSync(old)).toBe(false);
  });
});
