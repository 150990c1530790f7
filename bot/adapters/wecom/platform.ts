/** WeCom as the registry knows it: wechaty (a client account) or the self-built app's callback. */
import { z } from 'zod';
import { definePlatform, httpAdapter } from '../adapter.js';

const APP_VARS = ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_ENCODING_AES_KEY'] as const;

export const wecomPlatform = definePlatform({
  platform: 'wecom',
  config: {
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
  },
  enabled: (c) => !!(c.WECOM_MODE || c.WECHATY_PUPPET),
  check(c) {
    if (c.WECOM_MODE === 'wechaty' && !c.WECHATY_PUPPET) return 'WECHATY_PUPPET 未设置（WECOM_MODE=wechaty 需要指定 puppet，如 wechaty-puppet-service）';
    if (c.WECOM_MODE === 'app') for (const n of APP_VARS) if (!c[n]) return `${n} 未设置（WECOM_MODE=app 需要）`;
    return null;
  },
  // 30 a minute and 1000 an hour to one member; more is dropped silently (docs/platforms.md#limits).
  limits: [{ max: 30, ms: 60_000 }, { max: 1000, ms: 3_600_000 }],
  async create(c, ctx) {
    const w = await import('./index.js');
    if (c.WECOM_MODE === 'app') {
      const a = w.createWecomAppAdapter({
        corpId: c.WECOM_CORP_ID!, agentId: c.WECOM_AGENT_ID!, secret: c.WECOM_SECRET!, token: c.WECOM_TOKEN!,
        encodingAESKey: c.WECOM_ENCODING_AES_KEY!, apiBase: c.WECOM_API_BASE, forms: ctx.forms,
      }, ctx);
      return { adapter: httpAdapter(a, 'adapters/wecom/app'), describe: '企业微信：应用回调' };
    }
    const adapter = w.createWechatyAdapter({
      puppet: c.WECHATY_PUPPET!, puppetOptions: c.WECHATY_PUPPET_TOKEN ? { token: c.WECHATY_PUPPET_TOKEN } : {}, name: c.WECHATY_NAME, forms: ctx.forms,
    }, ctx);
    return { adapter, describe: `企业微信：wechaty（${c.WECHATY_PUPPET}）` };
  },
});
