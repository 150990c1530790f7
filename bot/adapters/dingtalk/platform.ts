/** DingTalk as the registry knows it: its variables, limits and how the adapter is built. */
import { z } from 'zod';
import { definePlatform, unpaired } from '../adapter.js';

export const dingtalkPlatform = definePlatform({
  platform: 'dingtalk',
  config: {
    DINGTALK_CLIENT_ID: z.string().optional(),
    DINGTALK_CLIENT_SECRET: z.string().optional(),
    DINGTALK_MODE: z.enum(['stream', 'http']).default('stream'),
    DINGTALK_ROBOT_CODE: z.string().optional(),
    DINGTALK_API_BASE: z.url().optional(),
    DINGTALK_OAPI_BASE: z.url().optional(),
    /** HTTP mode: the callbackRouteKey our card callback URL is registered under. */
    DINGTALK_CARD_ROUTE_KEY: z.string().optional(),
    /** HTTP mode: the secret in the registered card callback URL (…/dingtalk/card?secret=…). */
    DINGTALK_CARD_SECRET: z.string().min(16, { message: '至少 16 个字符（写进注册的卡片回调地址 ?secret=…）' }).optional(),
  },
  enabled: (c) => !!c.DINGTALK_CLIENT_ID,
  check(c) {
    const half = unpaired(c, 'DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET');
    if (half) return half;
    if (!!c.DINGTALK_CARD_ROUTE_KEY !== !!c.DINGTALK_CARD_SECRET) return 'DINGTALK_CARD_ROUTE_KEY 与 DINGTALK_CARD_SECRET 需成对设置（HTTP 模式的卡片回调）';
    return null;
  },
  // A robot: 20 messages a minute, then throttled for 10 minutes (docs/platforms.md#limits).
  limits: [{ max: 20, ms: 60_000 }],
  async create(c, ctx) {
    const { createDingtalkAdapter } = await import('./index.js');
    const adapter = createDingtalkAdapter({
      clientId: c.DINGTALK_CLIENT_ID!, clientSecret: c.DINGTALK_CLIENT_SECRET!, robotCode: c.DINGTALK_ROBOT_CODE, botName: ctx.botName,
      apiBase: c.DINGTALK_API_BASE, oapiBase: c.DINGTALK_OAPI_BASE, forms: ctx.forms, mode: c.DINGTALK_MODE,
      cardRouteKey: c.DINGTALK_CARD_ROUTE_KEY, cardSecret: c.DINGTALK_CARD_SECRET,
    }, ctx);
    return { adapter, describe: c.DINGTALK_MODE === 'http' ? '钉钉：机器人 HTTP 回调' : '钉钉：Stream 模式' };
  },
});
