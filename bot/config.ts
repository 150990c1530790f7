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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env, dotenv = '.env'): Config {
  if (env === process.env && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const r = configSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ConfigError(`配置错误：${String(i.path[0])} ${i.message}（见 .env.example）`);
  }
  return r.data;
}

/** For tests and tools: the defaults with a few values replaced. */
export function testConfig(over: Partial<Config> = {}): Config {
  return { ...configSchema.parse({}), LOG_LEVEL: 'silent', ...over };
}
