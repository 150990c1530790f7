/**
 * Starts the platforms the configuration switches on: each adapter's sender joins the one
 * outbound path, and its HTTP routes (if any) share one server.
 */
import type { Logger } from 'pino';
import { enabledPlatforms, type Config } from '../bot/config.js';
import type { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import { formsFromCommands, type AdapterDeps } from '../bot/adapters/common.js';
import type { App } from './app.js';

export interface Running { stop(): Promise<void>; describe: string[] }

export async function startPlatforms(cfg: Config, app: App, log: Logger, outbound: Outbound): Promise<Running> {
  const deps: AdapterDeps = { handle: app.handle, log, send: (r, k) => outbound.send(r, k), ...app.adapterDeps };
  const forms = formsFromCommands(app.deps.registry.commands);
  const http = new HttpServer({ log, bodyLimit: cfg.MINQING_HTTP_BODY_LIMIT });
  const stops: Array<() => Promise<void> | void> = [];
  const describe: string[] = [];
  for (const p of enabledPlatforms(cfg)) {
    if (p === 'feishu') {
      const { createFeishuAdapter } = await import('../bot/adapters/feishu/index.js');
      const f = createFeishuAdapter({
        appId: cfg.FEISHU_APP_ID!, appSecret: cfg.FEISHU_APP_SECRET!, encryptKey: cfg.FEISHU_ENCRYPT_KEY,
        verificationToken: cfg.FEISHU_VERIFICATION_TOKEN, botOpenId: cfg.FEISHU_BOT_OPEN_ID, botName: cfg.MINQING_BOT_NAME,
        domain: cfg.FEISHU_DOMAIN, forms,
      }, deps);
      outbound.register(f.sender);
      if (cfg.FEISHU_MODE === 'http') { for (const r of f.routes()) http.route(r); describe.push('飞书：HTTP 事件回调'); }
      else { const c = await f.startLongConnection(); stops.push(() => c.close()); describe.push('飞书：长连接'); }
    }
    if (p === 'dingtalk') {
      const { createDingtalkAdapter } = await import('../bot/adapters/dingtalk/index.js');
      const d = createDingtalkAdapter({
        clientId: cfg.DINGTALK_CLIENT_ID!, clientSecret: cfg.DINGTALK_CLIENT_SECRET!, robotCode: cfg.DINGTALK_ROBOT_CODE,
        botName: cfg.MINQING_BOT_NAME, apiBase: cfg.DINGTALK_API_BASE, oapiBase: cfg.DINGTALK_OAPI_BASE, forms,
      }, deps);
      outbound.register(d.sender);
      if (cfg.DINGTALK_MODE === 'http') { for (const r of d.routes()) http.route(r); describe.push('钉钉：机器人 HTTP 回调'); }
      else { const s = d.startStream(); stops.push(() => s.stop()); describe.push('钉钉：Stream 模式'); }
    }
    if (p === 'wecom') {
      const w = await import('../bot/adapters/wecom/index.js');
      if (cfg.WECOM_MODE === 'app') {
        const a = w.createWecomAppAdapter({
          corpId: cfg.WECOM_CORP_ID!, agentId: cfg.WECOM_AGENT_ID!, secret: cfg.WECOM_SECRET!, token: cfg.WECOM_TOKEN!,
          encodingAESKey: cfg.WECOM_ENCODING_AES_KEY!, apiBase: cfg.WECOM_API_BASE, forms,
        }, deps);
        outbound.register(a.sender);
        for (const r of a.routes()) http.route(r);
        describe.push('企业微信：应用回调');
      } else {
        const a = w.createWechatyAdapter({ puppet: cfg.WECHATY_PUPPET!, puppetOptions: cfg.WECHATY_PUPPET_TOKEN ? { token: cfg.WECHATY_PUPPET_TOKEN } : {}, name: cfg.WECHATY_NAME, forms }, deps);
        outbound.register(a.sender);
        await a.start();
        stops.push(() => a.stop());
        describe.push(`企业微信：wechaty（${cfg.WECHATY_PUPPET}）`);
      }
    }
  }
  if (http.paths.length) {
    const port = await http.listen(cfg.MINQING_HTTP_PORT, cfg.MINQING_HTTP_HOST);
    describe.push(`HTTP 回调监听 ${cfg.MINQING_HTTP_HOST}:${port}（${http.paths.join('，')}；健康检查 /healthz）`);
    stops.push(() => http.close());
  }
  return { describe, stop: async () => { for (const s of stops.reverse()) await s(); } };
}
