/**
 * Configuration from the environment (and `.env`), validated once at start. A bad value stops
 * the program with one line naming the variable and what it should look like.
 */
import { z } from 'zod';
import { existsSync } from 'node:fs';

const accountList = z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .refine((xs) => xs.every((x) => /^[a-z]+:.+$/.test(x)), { message: '应为逗号分隔的 平台:账号，如 console:u1,feishu:ou_abc' });

const timezone = z.string().default('Asia/Shanghai').refine((tz) => {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}, { message: '不是有效的 IANA 时区名，如 Asia/Shanghai' });

const cron = z.string().refine((s) => s.trim().split(/\s+/).length === 5, { message: '应为 5 段 cron 表达式（分 时 日 月 周），如 0 9 * * 1-5' });

export const configSchema = z.object({
  MINQING_DB: z.string().min(1).default('./data/minqing.db'),
  /** Folder of exported spreadsheets and chart images; unset: `exports/` beside the database. */
  MINQING_EXPORT_DIR: z.string().min(1).optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { message: '应为 redis://主机:端口' }).optional(),
  MINQING_ADMINS: accountList,
  MINQING_TZ: timezone,
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
  FEISHU_APP_ID: z.string().optional(),
  FEISHU_APP_SECRET: z.string().optional(),
  FEISHU_MODE: z.enum(['ws', 'http']).default('ws'),
  FEISHU_ENCRYPT_KEY: z.string().optional(),
  FEISHU_VERIFICATION_TOKEN: z.string().optional(),
  FEISHU_BOT_OPEN_ID: z.string().optional(),
  FEISHU_DOMAIN: z.url().optional(),
  DINGTALK_CLIENT_ID: z.string().optional(),
  DINGTALK_CLIENT_SECRET: z.string().optional(),
  DINGTALK_MODE: z.enum(['stream', 'http']).default('stream'),
  DINGTALK_ROBOT_CODE: z.string().optional(),
  DINGTALK_API_BASE: z.url().optional(),
  DINGTALK_OAPI_BASE: z.url().optional(),
  WECOM_MODE: z.enum(['wechaty', 'app']).optional(),
  WECHATY_PUPPET: z.string().optional(),
  WECHATY_PUPPET_TOKEN: z.string().optional(),
  WECHATY_NAME: z.string().default('minqing'),
  WECOM_CORP_ID: z.string().optional(),
  WECOM_AGENT_ID: z.string().optional(),
  WECOM_SECRET: z.string().optional(),
  WECOM_TOKEN: z.string().optional(),
  WECOM_ENCODING_AES_KEY: z.string().length(43, { message: '应为企业微信后台生成的 43 位 EncodingAESKey' }).optional(),
  WECOM_API_BASE: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof configSchema>;

/** A platform switched on by half its variables is a mistake worth stopping for. */
const pairs: Array<[string, string[]]> = [
  ['FEISHU_APP_ID', ['FEISHU_APP_SECRET']],
  ['DINGTALK_CLIENT_ID', ['DINGTALK_CLIENT_SECRET']],
];

function checkPlatforms(c: Config): string | null {
  const env = c as unknown as Record<string, unknown>;
  for (const [on, needs] of pairs) for (const n of [on, ...needs]) {
    if ([on, ...needs].some((x) => env[x]) && !env[n]) return `${n} 未设置（${on} 等变量需成对设置）`;
  }
  if (c.FEISHU_APP_ID && c.FEISHU_MODE === 'http' && (!c.FEISHU_ENCRYPT_KEY || !c.FEISHU_VERIFICATION_TOKEN)) return 'FEISHU_ENCRYPT_KEY 和 FEISHU_VERIFICATION_TOKEN 在 FEISHU_MODE=http 时必须设置';
  if (c.WECOM_MODE === 'wechaty' && !c.WECHATY_PUPPET) return 'WECHATY_PUPPET 未设置（WECOM_MODE=wechaty 需要指定 puppet，如 wechaty-puppet-service）';
  if (c.WECOM_MODE === 'app') for (const n of ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY'] as const) if (!c[n]) return `${n} 未设置（WECOM_MODE=app 需要）`;
  return null;
}

/** Which platforms the configuration switches on. */
export function enabledPlatforms(c: Config): Array<'feishu' | 'dingtalk' | 'wecom'> {
  return [...(c.FEISHU_APP_ID ? ['feishu' as const] : []), ...(c.DINGTALK_CLIENT_ID ? ['dingtalk' as const] : []), ...(c.WECOM_MODE || c.WECHATY_PUPPET ? ['wecom' as const] : [])];
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
export function reminderDefaults(c: Config): { quietStart: string; quietEnd: string; crons: Record<string, string> } {
  const [quietStart, quietEnd] = c.MINQING_QUIET_HOURS.split('-');
  const crons: Record<string, string> = {};
  if (c.MINQING_CRON_QUOTA) crons.quota = c.MINQING_CRON_QUOTA;
  if (c.MINQING_CRON_DEADLINES) crons.deadlines = c.MINQING_CRON_DEADLINES;
  if (c.MINQING_CRON_QUARTERLY) crons.quarterly = c.MINQING_CRON_QUARTERLY;
  if (c.MINQING_CRON_DIGEST) crons.digest = c.MINQING_CRON_DIGEST;
  return { quietStart, quietEnd, crons };
}
