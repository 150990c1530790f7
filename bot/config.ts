/**
 * Configuration from the environment (and `.env`), validated once at start. A bad value stops
 * the program with one line naming the variable and what it should look like.
 */
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReminderDefaults } from '../storage/reminder-settings.js';
import { isPostgresUrl } from '../storage/db.js';
import { checkPlatforms, enabledPlatforms as enabledPlatformDefs, platformConfig } from './adapters/registry.js';

const accountList = z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .refine((xs) => xs.every((x) => /^[a-z]+:.+$/.test(x)), { message: '应为逗号分隔的 平台:账号，如 console:u1,feishu:ou_abc' });

const timezone = z.string().default('Asia/Shanghai').refine((tz) => {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}, { message: '不是有效的 IANA 时区名，如 Asia/Shanghai' });

const cron = z.string().refine((s) => s.trim().split(/\s+/).length === 5, { message: '应为 5 段 cron 表达式（分 时 日 月 周），如 0 9 * * 1-5' });

/**
 * The database: a SQLite file path, or a PostgreSQL URL (`postgres://…` or `postgresql://…`,
 * storage/db.ts `openDb`). A URL must parse; its `schema` parameter, if any, must be a plain name.
 */
const dbTarget = z.string().min(1).refine((s) => {
  if (!/^postgres(ql)?:/i.test(s)) return true;
  if (!isPostgresUrl(s) || !URL.canParse(s)) return false;
  const schema = new URL(s).searchParams.get('schema');
  return schema === null || /^[a-z_][a-z0-9_]*$/.test(schema);
}, { message: '应为 SQLite 文件路径（如 ./data/minqing.db），或 PostgreSQL 地址（如 postgres://用户:密码@主机:5432/库名）' });

/**
 * DATABASE_URL, the name hosting platforms give a database, stands in for MINQING_DB when that
 * is not set (or empty); MINQING_DB wins when both are.
 */
function databaseUrlFallback(env: unknown): unknown {
  if (env === null || typeof env !== 'object') return env;
  const e = env as Record<string, unknown>;
  const unset = e.MINQING_DB === undefined || e.MINQING_DB === '';
  return unset && typeof e.DATABASE_URL === 'string' && e.DATABASE_URL !== '' ? { ...e, MINQING_DB: e.DATABASE_URL } : env;
}

export const configSchema = z.preprocess(databaseUrlFallback, z.object({
  /**
   * SQLite file (default `./data/minqing.db`, created with its folder) or PostgreSQL URL; when
   * unset, DATABASE_URL is used if set. Migrations run on open either way.
   */
  MINQING_DB: dbTarget.default('./data/minqing.db'),
  /** Folder of exported spreadsheets and chart images; unset: `exports/` beside the database. */
  MINQING_EXPORT_DIR: z.string().min(1).optional(),
  /** Files kept beside the records (evidence bytes, exports): default the SQLite file's folder, or ./data. */
  MINQING_DATA_DIR: z.string().min(1).optional(),
  /** Days an export file (citizens' names and phones) is kept before the prune-exports job deletes it. */
  MINQING_EXPORT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  /**
   * `false`: no cadre's name in any group message (reminders, digests, /统计, issue replies);
   * laggards go to leads by direct message. Names in direct messages are unaffected.
   */
  MINQING_NAMES_IN_GROUPS: z.stringbool({ truthy: ['true', '1', 'yes', '是'], falsy: ['false', '0', 'no', '否'] }).default(true),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { message: '应为 redis://主机:端口' }).optional(),
  MINQING_ADMINS: accountList,
  MINQING_TZ: timezone,
  /**
   * Evidence (photos, files, voice, locations): `keys` keeps the platform's file key and metadata;
   * `store` also fetches the bytes into `evidence/` beside the database, each up to
   * MINQING_EVIDENCE_MAX_BYTES.
   */
  MINQING_EVIDENCE: z.enum(['keys', 'store']).default('keys'),
  MINQING_EVIDENCE_MAX_BYTES: z.coerce.number().int().min(1024).max(200 * 1024 * 1024).default(20 * 1024 * 1024),
  /** Longest message text accepted; longer ones are refused with a reply saying so. */
  MINQING_MAX_TEXT: z.coerce.number().int().min(100).max(100_000).default(2000),
  /** Name the bot answers to when @-mentioned in the console. */
  MINQING_BOT_NAME: z.string().min(1).default('民情'),
  /** Reminder defaults; /提醒 overrides them per deployment (stored in the database). */
  MINQING_QUIET_HOURS: z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d-([01]?\d|2[0-3]):[0-5]\d$/, { message: '应为 开始-结束，如 21:00-08:00' }).default('21:00-08:00'),
  MINQING_CRON_QUOTA: cron.optional(),
  MINQING_CRON_DEADLINES: cron.optional(),
  MINQING_CRON_QUARTERLY: cron.optional(),
  MINQING_CRON_DIGEST: cron.optional(),
  // Platforms: each is enabled by its variables alone (see .env.example and the README).
  MINQING_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  MINQING_HTTP_HOST: z.string().default('0.0.0.0'),
  MINQING_HTTP_BODY_LIMIT: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  // Each platform's own variables (bot/adapters/<platform>/platform.ts).
  ...platformConfig,
  /**
   * The public address of the citizens' pages (README "Citizens' pages"), e.g. https://minqing.example.gov.cn:
   * set, the bot serves them on its HTTP server and /民情 and /民情码 hand out links and QR codes;
   * unset, nothing is public.
   */
  MINQING_PUBLIC_URL: z.url({ protocol: /^https?$/, message: '应为 http(s):// 开头的网址，如 https://minqing.example.gov.cn' })
    .transform((s) => s.replace(/\/+$/, '')).optional(),
  /** Behind a reverse proxy: read the client's IP for the pages' rate limit from X-Forwarded-For. */
  MINQING_TRUST_PROXY: z.enum(['0', '1', 'true', 'false']).default('0').transform((s) => s === '1' || s === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}));

export type Config = z.output<typeof configSchema>;

/**
 * The folder for files kept beside the database (exports, evidence, imported rosters):
 * MINQING_DATA_DIR, else the SQLite file's folder; `./data` when the database is PostgreSQL or in
 * memory (no folder of its own).
 */
export function dataDir(c: Pick<Config, 'MINQING_DB' | 'MINQING_DATA_DIR'>): string {
  if (c.MINQING_DATA_DIR) return c.MINQING_DATA_DIR;
  return c.MINQING_DB === ':memory:' || isPostgresUrl(c.MINQING_DB) ? './data' : dirname(c.MINQING_DB);
}

/** Which platforms the configuration switches on. */
export function enabledPlatforms(c: Config): string[] {
  return enabledPlatformDefs(c).map((p) => p.platform);
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env, dotenv = '.env'): Config {
  if (env === process.env && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const r = configSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`配置错误：${String(i.path[0])} ${i.message}（见 .env.example）`);
  }
  const bad = checkPlatforms(r.data);
  if (bad) throw new ConfigError(`配置错误：${bad}（见 .env.example）`);
  return r.data;
}

/** For tests and tools: the defaults with a few values replaced. */
export function testConfig(over: Partial<Config> = {}): Config {
  return { ...configSchema.parse({}), LOG_LEVEL: 'silent', ...over };
}

/** The reminder settings the environment gives (the scheduler's defaults). */
export function reminderDefaults(c: Config): ReminderDefaults {
  const [quietStart, quietEnd] = c.MINQING_QUIET_HOURS.split('-');
  const crons: NonNullable<ReminderDefaults['crons']> = {};
  if (c.MINQING_CRON_QUOTA) crons.quota = c.MINQING_CRON_QUOTA;
  if (c.MINQING_CRON_DEADLINES) crons.deadlines = c.MINQING_CRON_DEADLINES;
  if (c.MINQING_CRON_QUARTERLY) crons.quarterly = c.MINQING_CRON_QUARTERLY;
  if (c.MINQING_CRON_DIGEST) crons.digest = c.MINQING_CRON_DIGEST;
  return { quietStart, quietEnd, crons, namesInGroups: c.MINQING_NAMES_IN_GROUPS };
}
