/**
 * `minqing` — the one program (docs/rules.md#operating). This is the composition root's command line: it reads
 * the configuration, opens the database and starts what was asked for.
 */
import { Command } from 'commander';
import { ConfigError, enabledPlatforms, loadConfig, reminderDefaults, type Config } from '../bot/config.js';
import { startPlatforms } from './platforms.js';
import { chartEnricher } from './enrich.js';
import { createLogger } from '../bot/logger.js';
import { runInteractive } from '../bot/adapters/console/interactive.js';
import { runJsonl } from '../bot/adapters/console/jsonl.js';
import { existsSync, fstatSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { isPostgresUrl, openDb, type Db } from '../storage/db.js';
import { copyDatabase, formatCopyReport, sourceRows } from './move-db.js';
import { openApp } from './app.js';
import { seedDemo } from './demo.js';
import type { App } from './app.js';
import type { Logger } from 'pino';
import { Outbound, type Sender } from '../bot/outbound.js';
import { consoleSender } from '../bot/adapters/console/sender.js';
import { ensureRedis, RedisUnavailable } from '../jobs/redis.js';
import { Scheduler } from '../jobs/scheduler.js';
import { exportDir } from '../handlers/report-files.js';
import { backupDatabase, BackupError, formatBackupReport, formatRestoreReport, restoreDatabase, shownDb } from './backup.js';
import { ReplyDelivery } from '../bot/delivery.js';
import { Metrics } from '../bot/metrics.js';
import { platformLimits } from '../bot/adapters/registry.js';

/** Says why in Chinese and stops with status 1. */
function fail(message: string): never {
  process.stderr.write(message + '\n');
  process.exit(1);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
}

async function runConsole(opts: { jsonl?: boolean; demo?: boolean; user?: string; reminders?: boolean }): Promise<void> {
  const cfg = config();
  const jsonl = opts.jsonl || !process.stdin.isTTY;
  // In JSONL mode stdout carries only reply lines; logs go to stderr.
  const log = createLogger(jsonl ? cfg.LOG_LEVEL : 'warn', 2);
  const app = await openApp(cfg, { log });
  if (opts.demo) await seedDemo(app.deps.db);
  const write = (line: string) => process.stdout.write(line + '\n');
  const runtime = opts.reminders ? await startReminders(cfg, app, log, [consoleSender(write, jsonl)]) : undefined;
  try {
    const io = { input: process.stdin, output: process.stdout, log, botName: cfg.MINQING_BOT_NAME, handle: app.handle };
    if (jsonl) await runJsonl(io);
    else await runInteractive({ ...io, user: opts.user });
  } finally {
    await runtime?.stop();
    await app.close();
  }
}

/** The platforms and the scheduler, until SIGINT/SIGTERM. */
async function runPlatforms(cfg: Config, o: { demo?: boolean; reminders?: boolean }): Promise<void> {
  const log = createLogger(cfg.LOG_LEVEL, 2);
  const app = await openApp(cfg, { log });
  if (o.demo) await seedDemo(app.deps.db);
  // Limits per target shared by every process through Redis (REDIS_URL or 127.0.0.1:6379); in-process without one.
  const outbound = new Outbound({ log, limits: platformLimits(), redis: { url: cfg.REDIS_URL } });
  // One per process, served as /metrics next to /healthz (bot/metrics.ts).
  const metrics = new Metrics({ db: app.deps.db });
  app.deps.metrics = metrics;
  // Replies are delivered from the outbox in the database: with or without Redis and reminders.
  const delivery = new ReplyDelivery({ db: app.deps.db, send: (m, k) => outbound.send(m, k), log, metrics });
  app.adapterDeps.outbox = delivery;
  app.deps.fetchAttachment = (platform, messageId, a) => outbound.download(platform, messageId, a);
  const platforms = await startPlatforms(cfg, app, log, outbound, () => delivery.kick(), metrics);
  // Not awaited: start() never rejects (it logs a failed release of old claims) and stop() waits for it.
  void delivery.start();
  const runtime = o.reminders === false ? undefined : await startReminders(cfg, app, log, [], outbound, metrics);
  process.stderr.write(`民情已启动：${platforms.describe.join('；')}${runtime ? '；提醒调度运行中' : ''}\n`);
  await new Promise<void>((res) => { process.once('SIGINT', res); process.once('SIGTERM', res); });
  await platforms.stop();
  await delivery.stop();
  await runtime?.stop();
  await app.close();
}

/** Redis (found or started), the outbound path and the scheduler; without Redis, one line and none. */
async function startReminders(cfg: Config, app: App, log: Logger, senders: Sender[], outbound = new Outbound({ log }), metrics?: Metrics): Promise<{ stop(): Promise<void> } | undefined> {
  let redis;
  try {
    redis = await ensureRedis({ url: cfg.REDIS_URL, log });
  } catch (e) {
    if (!(e instanceof RedisUnavailable)) throw e;
    process.stderr.write(`${e.message}（提醒暂停，其他功能照常）\n`);
    return undefined;
  }
  for (const s of senders) outbound.register(s);
  const scheduler = new Scheduler({ db: app.deps.db, redisUrl: redis.url, outbound, log, tz: cfg.MINQING_TZ, envSettings: app.deps.reminderDefaults, enrich: chartEnricher(app.deps.db, cfg),
    exports: exportRetention(cfg), metrics });
  metrics?.watchQueue(scheduler.queue);
  app.deps.onRemindersChanged = () => { scheduler.upsertSchedulers().catch((e) => log.warn({ err: e.message }, 'could not update schedulers')); };
  await scheduler.upsertSchedulers();
  scheduler.startWorker();
  await scheduler.catchUp();
  return { stop: async () => { await scheduler.close(); await redis.stop(); } };
}

const program = new Command('minqing').description('民情 — 下基层、察民情、解民忧、暖民心 的聊天机器人');

program.command('start').description('启动机器人：已配置的平台和提醒调度；未配置任何平台时进入控制台')
  .option('--demo', '先导入演示名册（示范县、两个下级单位、一名领导、两名干部）并启用预设配额')
  .option('--jsonl', '控制台使用 JSONL 模式')
  .option('--no-reminders', '不启动提醒调度（不需要 Redis）')
  .action(async (o) => {
    const cfg = config();
    if (!enabledPlatforms(cfg).length) {
      // stdin is /dev/null in a container or a service: the console would end at once with status 0,
      // and a restart policy would start it again and again, with nothing in the log to say why.
      if (!process.stdin.isTTY && fstatSync(0).isCharacterDevice()) fail('未配置任何平台（见 .env.example「Platforms」）：没有终端，不进入控制台');
      return runConsole(o);
    }
    await runPlatforms(cfg, o);
  });

program.command('console').description('在终端里和机器人对话（--jsonl：每行一个 JSON，供脚本调用）')
  .option('--jsonl', 'JSONL 模式').option('--demo', '先导入演示名册').option('--user <id>', '控制台身份', 'u1')
  .option('--reminders', '同时运行提醒调度（需要 Redis），提醒显示在控制台')
  .action(async (o) => runConsole(o));

/** Where exports are and how long they are kept (jobs/retention.ts). */
const exportRetention = (cfg: Config) => ({ dir: exportDir(cfg), retentionDays: cfg.MINQING_EXPORT_RETENTION_DAYS });

program.command('remind').description('立即执行某一时刻的提醒检查，打印发送（或将要发送）的提醒；并删除超过保存期的导出文件')
  .requiredOption('--at <time>', 'ISO 时间，如 2026-11-20T09:00:00+08:00')
  .option('--dry-run', '只打印将要发送的提醒，不记录、不发送')
  .action(async (o: { at: string; dryRun?: boolean }) => {
    const cfg = config();
    const at = new Date(o.at);
    if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(o.at)) {
      process.stderr.write(`--at 应为 ISO 时间，例如 2026-11-20T09:00:00+08:00（收到「${o.at}」）\n`);
      process.exit(1);
    }
    const log = createLogger(cfg.LOG_LEVEL, 2);
    const { runRemindOnce } = await import('./remind.js');
    const db = await openDb(cfg.MINQING_DB);
    try {
      await runRemindOnce(db, { at, dryRun: !!o.dryRun, tz: cfg.MINQING_TZ, log, envSettings: reminderDefaults(cfg), enrich: chartEnricher(db, cfg), exports: exportRetention(cfg), write: (l) => process.stdout.write(l + '\n') });
    } finally {
      await db.close();
    }
  });

program.command('migrate').description('创建或升级数据库；--to postgres://… 把 SQLite 数据库整库迁入 PostgreSQL 并逐表校验')
  .option('--to <url>', '目标 PostgreSQL 地址（须为空库）')
  .action(async (o: { to?: string }) => {
    const cfg = config();
    if (!o.to) {
      await (await openDb(cfg.MINQING_DB)).close();
      process.stdout.write(`数据库已是最新：${shownDb(cfg.MINQING_DB)}\n`);
      return;
    }
    if (!isPostgresUrl(o.to)) fail(`--to 应为 PostgreSQL 地址（postgres://用户:密码@主机:5432/库名），收到：${o.to}`);
    if (isPostgresUrl(cfg.MINQING_DB)) fail(`MINQING_DB 已是 PostgreSQL（${shownDb(cfg.MINQING_DB)}）；--to 用于把 SQLite 数据库迁入 PostgreSQL`);
    if (!existsSync(cfg.MINQING_DB)) fail(`找不到 SQLite 数据库：${cfg.MINQING_DB}（请用 MINQING_DB 指向要迁移的文件）`);
    const source = await openDb(cfg.MINQING_DB);
    let target: Db | undefined;
    try {
      target = await openDb(o.to);
      const total = await sourceRows(source);
      const bar = process.stderr.isTTY ? new SingleBar({ format: '迁移 {bar} {value}/{total} 行 {table}', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
      bar?.start(total, 0, { table: '' });
      const reports = await copyDatabase(source, target, (n, table) => bar?.increment(n, { table }));
      bar?.stop();
      process.stdout.write(formatCopyReport(reports, cfg.MINQING_DB, o.to) + '\n');
      if (reports.some((r) => !r.ok)) process.exitCode = 1;
    } catch (e) {
      fail(`迁移失败：${(e as Error).message}`);
    } finally {
      await source.close();
      await target?.close();
    }
  });

program.command('demo').description('导入演示名册并启用预设配额').action(async () => {
  const cfg = config();
  const db = await openDb(cfg.MINQING_DB);
  try {
    await seedDemo(db);
  } finally {
    await db.close();
  }
  process.stdout.write(`演示名册已导入 ${shownDb(cfg.MINQING_DB)}：控制台用户 u1 王强（领导、管理员）、u2 张三、u3 李四\n`);
});

program.command('import <file>').description('导入干部名册（.csv 或 .xlsx；列：姓名 手机 单位 上级单位 职级 驻村 账号）')
  .action(async (file: string) => {
    const cfg = config();
    const { importRosterFile, formatImportReport } = await import('./import.js');
    const db = await openDb(cfg.MINQING_DB);
    try {
      const r = await importRosterFile(db, file, { progress: true });
      process.stdout.write(formatImportReport(r) + '\n');
      if (r.errors.length) process.exitCode = 2;
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await db.close();
    }
  });

program.command('bench').description('性能基准（打印数据，不是测试）')
  .option('--visits <n>', '(a) 走访命令条数', '20000')
  .option('--cadres <n>', '(a) 干部人数', '2000')
  .option('--concurrency <n>', '(a) 同时发消息的干部数', '32')
  .option('--big-visits <n>', '(b) 统计库的走访记录数', '1000000')
  .option('--big-cadres <n>', '(b) 统计库的干部人数', '50000')
  .option('--big-units <n>', '(b) 统计库的单位数', '500')
  .option('--remind-cadres <n>', '(c) 提醒基准的干部人数', '100000')
  .option('--remind-units <n>', '(c) 提醒基准的单位数', '1000')
  .option('--feishu-requests <n>', '(d) 飞书回调请求数', '20000')
  .option('--fault-replies <n>', '(f) 故障投递基准的回复条数', '10000')
  .option('--stats-runs <n>', '(b) /统计 本月 重复次数（报告中位数和 p95）', '20')
  .option('--jsonl-lines <n>', '(jsonl) 经 console --jsonl 的 /走访 行数', '20000')
  .option('--scale-messages <n>', '(scale) 1、2、3 个进程各跑的消息数（PostgreSQL）', '5000')
  .option('--only <parts>', '只跑其中几项，逗号分隔：commands,jsonl,stats,reminders,feishu,reports,faults,scale')
  .option('--db <which>', '在哪个数据库上跑：sqlite、postgres 或 both（默认：MINQING_BENCH_PG 处的 PostgreSQL 可连通时两个都跑，否则只跑 SQLite）')
  // The soak (200 commands/s, stats queries, a reminder pass a minute) — scripts/soak.ts.
  .option('--soak', '耐久测试：每秒200条命令，夹杂 /统计、/我的 和每分钟一次提醒检查，每10秒打印内存与延迟')
  .option('--minutes <n>', '耐久测试时长（分钟）', '10')
  .option('--rate <n>', '耐久测试每秒命令数', '200')
  .action(async (o) => {
    const { benchTargets, runBench } = await import('./bench.js');
    // config() also reads .env, where MINQING_BENCH_PG may be set.
    const env = { MINQING_BENCH_PG: process.env.MINQING_BENCH_PG, MINQING_DB: config().MINQING_DB };
    if (o.soak) {
      // The soak runs on one database: `--db sqlite|postgres`, else the bot's MINQING_DB (a
      // PostgreSQL URL puts it in a fresh schema there; a file path, a temporary SQLite file).
      let target = env.MINQING_DB;
      if (o.db) {
        const { targets } = await benchTargets(o.db, env).catch((e: Error) => fail(e.message));
        if (targets.length > 1) fail('--soak 只在一个数据库上运行：请用 --db sqlite 或 --db postgres');
        target = targets[0].url ?? '';
      }
      const { runSoak } = await import('./soak.js');
      const ok = await runSoak({ minutes: Number(o.minutes), rate: Number(o.rate), target });
      if (!ok) process.exitCode = 2;
      return;
    }
    // Every part on each database (scripts/bench.ts benchTargets): SQLite in temporary files,
    // PostgreSQL in a fresh schema per part (dropped afterwards) of the database MINQING_BENCH_PG names.
    const { targets, notes } = await benchTargets(o.db, env).catch((e: Error) => fail(e.message));
    for (const n of notes) console.log(n);
    await runBench({ ...o, targets });
  });

// Online backup and restore (scripts/backup.ts): SQLite's backup API, or pg_dump / pg_restore.
program.command('backup <file>').description('在线备份数据库（机器人运行时也可以），并校验备份')
  .option('--force', '覆盖已存在的备份文件')
  .action(async (file: string, o: { force?: boolean }) => {
    const cfg = config();
    try {
      const r = await backupDatabase(cfg.MINQING_DB, file, { force: o.force, progress: true });
      process.stdout.write(formatBackupReport(r, { source: shownDb(cfg.MINQING_DB), target: file }) + '\n');
    } catch (e) {
      if (!(e instanceof BackupError)) throw e;
      process.stderr.write(e.message + '\n');
      process.exitCode = 1;
    }
  });

program.command('restore <file>').description('从备份恢复数据库（须先停止机器人）')
  .action(async (file: string) => {
    const cfg = config();
    try {
      const r = await restoreDatabase(file, cfg.MINQING_DB);
      process.stdout.write(formatRestoreReport(r, { backup: file, target: shownDb(cfg.MINQING_DB) }) + '\n');
    } catch (e) {
      if (!(e instanceof BackupError)) throw e;
      process.stderr.write(e.message + '\n');
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
