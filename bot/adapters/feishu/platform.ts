/** Feishu/Lark as the registry knows it: its variables, limits and how the adapter is built. */
import { z } from 'zod';
import { definePlatform, unpaired } from '../adapter.js';

/** What a Feishu app id looks like (the SDK connects nothing for another shape). */
export const FEISHU_APP_ID_PATTERN = /^cli_[0-9a-fA-F]{16}$/;

export const feishuPlatform = definePlatform({
  platform: 'feishu',
  config: {
    FEISHU_APP_ID: z.string().optional(),
    FEISHU_APP_SECRET: z.string().optional(),
    FEISHU_MODE: z.enum(['ws', 'http']).default('ws'),
    FEISHU_ENCRYPT_KEY: z.string().optional(),
    FEISHU_VERIFICATION_TOKEN: z.string().optional(),
    FEISHU_BOT_OPEN_ID: z.string().optional(),
    FEISHU_DOMAIN: z.url().optional(),
  },
  enabled: (c) => !!c.FEISHU_APP_ID,
  check(c) {
    const half = unpaired(c, 'FEISHU_APP_ID', 'FEISHU_APP_SECRET');
    if (half) return half;
    if (c.FEISHU_APP_ID && !FEISHU_APP_ID_PATTERN.test(c.FEISHU_APP_ID)) return 'FEISHU_APP_ID 应为 cli_ 加 16 位十六进制（开发者后台 → 凭证与基础信息）';
    if (c.FEISHU_APP_ID && c.FEISHU_MODE === 'http' && (!c.FEISHU_ENCRYPT_KEY || !c.FEISHU_VERIFICATION_TOKEN)) return 'FEISHU_ENCRYPT_KEY 和 FEISHU_VERIFICATION_TOKEN 在 FEISHU_MODE=http 时必须设置';
    return null;
  },
  // 5 QPS per user and per group (docs/platforms.md#limits).
  limits: [{ max: 5, ms: 1_000 }],
  async create(c, ctx) {
    const { createFeishuAdapter } = await import('./index.js');
    const adapter = createFeishuAdapter({
      appId: c.FEISHU_APP_ID!, appSecret: c.FEISHU_APP_SECRET!, encryptKey: c.FEISHU_ENCRYPT_KEY, verificationToken: c.FEISHU_VERIFICATION_TOKEN,
      botOpenId: c.FEISHU_BOT_OPEN_ID, botName: ctx.botName, domain: c.FEISHU_DOMAIN, forms: ctx.forms, mode: c.FEISHU_MODE,
    }, ctx);
    return { adapter, describe: c.FEISHU_MODE === 'http' ? '飞书：HTTP 事件回调' : '飞书：长连接' };
  },
});
