/**
 * `startPlatforms` with only a long connection (DingTalk Stream against a loopback gateway): the
 * HTTP server still listens, and `/healthz` names the adapter and its state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../bot/config.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { startPlatforms, type Running } from '../../scripts/platforms.js';
import { Chat } from '../chat.js';
import { dingtalkGateway, until, type WsGateway } from './gateways.js';

let gw: WsGateway | undefined, running: Running | undefined, chat: Chat | undefined;
afterEach(async () => { await running?.stop(); await gw?.close(); await chat?.close(); running = gw = chat = undefined; });

describe('/healthz without HTTP callbacks', () => {
  it('is served for a Stream-only deployment and reports the adapter', async () => {
    gw = await dingtalkGateway();
    const cfg = testConfig({ DINGTALK_CLIENT_ID: 'dingrobotappkey01', DINGTALK_CLIENT_SECRET: 'secret-secret-secret', DINGTALK_MODE: 'stream',
      DINGTALK_API_BASE: gw.url, DINGTALK_OAPI_BASE: gw.url, MINQING_HTTP_PORT: 0, MINQING_HTTP_HOST: '127.0.0.1' });
    const c = chat = await Chat.demo();
    const log = createLogger('silent');
    running = await startPlatforms(cfg, c.app, log, new Outbound({ log }));
    const line = running.describe.find((d) => d.startsWith('HTTP'));
    expect(line).toBeDefined();
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line!)![1]);
    await until(() => gw!.open() === 1, 5_000, 'stream connected');
    let body: any;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      body = await res.json();
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.adapters.map((a: any) => [a.platform, a.state])).toEqual([['dingtalk', 'ready']]);
  });
});
