/**
 * Starts the platforms the configuration switches on — a loop over the registered adapters
 * (`bot/adapters/registry.ts`): each adapter's sender joins the one outbound path, its HTTP
 * routes (if any) share one server, and the host runs them so that no adapter can stop the
 * others or the process; `/healthz` reports each one's state.
 */
import type { Logger } from 'pino';
import type { Config } from '../bot/config.js';
import type { Outbound } from '../bot/outbound.js';
import { HttpServer } from '../bot/http-server.js';
import type { Metrics } from '../bot/metrics.js';
import { formsFromCommands } from '../bot/adapters/common.js';
import type { PlatformContext } from '../bot/adapters/adapter.js';
import { AdapterHost } from '../bot/adapters/host.js';
import { enabledPlatforms } from '../bot/adapters/registry.js';
import type { App } from './app.js';
import { findCjkFont } from '../bot/chart.js';
import { publicPageRoutes } from '../handlers/citizen-pages.js';

export interface Running { stop(): Promise<void>; describe: string[]; host: AdapterHost }

/**
 * `onOutbox`: wakes the reply delivery when a citizen's rating wrote messages to the outbox.
 * `metrics`: served as `/metrics` next to `/healthz`.
 */
export async function startPlatforms(cfg: Config, app: App, log: Logger, outbound: Outbound, onOutbox?: () => void, metrics?: Metrics): Promise<Running> {
  const ctx: PlatformContext = {
    handle: app.handle, log, send: (r, k) => outbound.send(r, k), ...app.adapterDeps,
    forms: formsFromCommands(app.deps.registry.commands), botName: cfg.MINQING_BOT_NAME,
  };
  const host = new AdapterHost({ log });
  const http = new HttpServer({ log, bodyLimit: cfg.MINQING_HTTP_BODY_LIMIT, health: () => host.healthz(), metrics: metrics && (() => metrics.scrape()) });
  const describe: string[] = [];
  for (const p of enabledPlatforms(cfg)) {
    const { adapter, describe: line } = await p.create(cfg, ctx);
    outbound.register(adapter.sender);
    for (const r of adapter.routes()) http.route(r);
    host.add(adapter);
    describe.push(line);
  }
  // The citizens' pages, on the same server; they alone make it listen when no
  // platform takes HTTP callbacks (DingTalk in stream mode, wechaty).
  if (cfg.MINQING_PUBLIC_URL) {
    for (const r of publicPageRoutes({ db: app.deps.db, config: cfg, log, onOutbox, font: findCjkFont().file })) http.route(r);
    describe.push(`群众查看与公示网页 ${cfg.MINQING_PUBLIC_URL}`);
  }
  await host.start();
  let listening = false;
  // With any messenger on, the server listens even without HTTP callbacks (Stream, long
  // connection, wechaty): `/healthz` is how an operator sees each adapter's state.
  if (http.paths.length || host.size > 0) {
    const port = await http.listen(cfg.MINQING_HTTP_PORT, cfg.MINQING_HTTP_HOST);
    listening = true;
    describe.push(`HTTP 回调监听 ${cfg.MINQING_HTTP_HOST}:${port}（${http.paths.join('，')}；健康检查 /healthz${metrics ? '；指标 /metrics' : ''}）`);
  }
  return {
    describe,
    host,
    stop: async () => {
      await host.stop();
      if (listening) await http.close();
    },
  };
}
