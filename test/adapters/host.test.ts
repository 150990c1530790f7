/**
 * The adapter host: a fault in one adapter (an error its SDK throws out of the event loop, or a
 * failed start) restarts that adapter alone, nothing ends the process, and `/healthz` reports
 * each adapter's state.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../bot/logger.js';
import { HttpServer } from '../../bot/http-server.js';
import { AdapterHost } from '../../bot/adapters/host.js';
import { HealthCell, type AdapterState } from '../../bot/adapters/health.js';
import { stackMentions, type PlatformAdapter } from '../../bot/adapters/adapter.js';
import { until } from './gateways.js';

function fakeAdapter(platform: string, marker: string, o: { failStarts?: number } = {}) {
  const cell = new HealthCell(platform, 'stream');
  const calls: string[] = [];
  let fails = o.failStarts ?? 0;
  const a: PlatformAdapter & { calls: string[]; set(s: AdapterState, d?: string): void } = {
    platform, transport: 'stream', sender: { platform, send: async () => {} }, routes: () => [], calls,
    async start() { calls.push('start'); if (fails-- > 0) throw new Error('gateway unreachable'); cell.set('ready'); },
    async stop() { calls.push('stop'); cell.set('stopped'); },
    health: () => cell.get(),
    idle: async () => {},
    owns: (err) => stackMentions(err, marker),
    set: (s, d) => cell.set(s, d),
  };
  return a;
}

const sdkError = (marker: string) => { const e = new Error('WebSocket is not open: readyState 0 (CONNECTING)'); e.stack = `Error: WebSocket is not open\n    at WebSocket.ping (/app/node_modules/ws/lib/websocket.js:1:1)\n    at Timeout._onTimeout (/app/${marker}client.mjs:1:1)`; return e; };

describe('Adapter host', () => {
  it('restarts only the adapter whose SDK threw, logs an error nobody owns, and keeps going', async () => {
    const msgs: Array<Record<string, any>> = [];
    const host = new AdapterHost({ log: createLogger('info', { write: (s: string) => { msgs.push(JSON.parse(s)); } }), minDelayMs: 20, processHandlers: false });
    const dt = fakeAdapter('dingtalk', 'node_modules/dingtalk-stream/');
    const fs = fakeAdapter('feishu', 'node_modules/@larksuiteoapi/');
    host.add(dt).add(fs);
    await host.start();
    expect(host.fault(sdkError('node_modules/dingtalk-stream/dist/'))?.platform).toBe('dingtalk');
    await until(() => dt.calls.length === 3, 2000, 'restart');
    expect(dt.calls).toEqual(['start', 'stop', 'start']);
    expect(fs.calls).toEqual(['start']);
    expect(host.health().find((h) => h.platform === 'dingtalk')).toMatchObject({ state: 'ready', restarts: 1 });
    expect(msgs.find((m) => m.msg === 'adapter fault: restarting that adapter')).toMatchObject({ platform: 'dingtalk', err: { message: expect.stringContaining('WebSocket is not open') } });

    expect(host.fault(new Error('stray'))).toBeUndefined();
    expect(msgs.some((m) => m.msg === 'error outside any adapter: logged, the bot carries on')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(dt.calls).toHaveLength(3);
    expect(fs.calls).toEqual(['start']);
    await host.stop();
    expect(dt.calls.at(-1)).toBe('stop');
    expect(fs.calls.at(-1)).toBe('stop');
  });

  it('retries an adapter whose start fails, with back-off, while the others run', async () => {
    const host = new AdapterHost({ log: createLogger('silent'), minDelayMs: 20, maxDelayMs: 40, processHandlers: false });
    const bad = fakeAdapter('dingtalk', 'x', { failStarts: 2 });
    const good = fakeAdapter('feishu', 'y');
    host.add(bad).add(good);
    await host.start();
    expect(good.health().state).toBe('ready');
    expect(host.health().find((h) => h.platform === 'dingtalk')).toMatchObject({ state: 'failed', detail: expect.stringContaining('gateway unreachable') });
    await until(() => bad.health().state === 'ready', 2000, 'third start');
    expect(bad.calls.filter((c) => c === 'start')).toHaveLength(3);
    await host.stop();
  });

  it('survives an exception thrown out of the event loop by an adapter timer (child process)', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./host-child.ts', import.meta.url))], { encoding: 'utf8', timeout: 20_000 });
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    expect(out.starts).toBe(2);
    expect(out.steadyStopsBefore).toBe(0);
    expect(out.health.map((h: any) => [h.platform, h.state, h.restarts])).toEqual([['leaky', 'ready', 1], ['steady', 'ready', 0]]);
    expect(out.lines).toContain('adapter fault: restarting that adapter');
    expect(out.lines).toContain('error outside any adapter: logged, the bot carries on');
  });

  it('answers /healthz with each adapter state: 503 while one is not ready, 200 when all are', async () => {
    const host = new AdapterHost({ log: createLogger('silent'), processHandlers: false });
    const dt = fakeAdapter('dingtalk', 'x');
    const fs = fakeAdapter('feishu', 'y');
    host.add(dt).add(fs);
    await host.start();
    const server = new HttpServer({ log: createLogger('silent'), health: () => host.healthz() });
    server.route({ method: 'POST', path: '/x', handler: async () => ({ status: 200 }) });
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    try {
      const ok = await fetch(`${url}/healthz`);
      expect(ok.status).toBe(200);
      expect((await ok.json()).adapters.map((a: any) => [a.platform, a.state])).toEqual([['dingtalk', 'ready'], ['feishu', 'ready']]);
      dt.set('reconnecting', '连接已断开；2 秒后重试');
      const down = await fetch(`${url}/healthz`);
      expect(down.status).toBe(503);
      const body = await down.json();
      expect(body.ok).toBe(false);
      expect(body.adapters[0]).toMatchObject({ platform: 'dingtalk', transport: 'stream', state: 'reconnecting', detail: '连接已断开；2 秒后重试' });
    } finally {
      await server.close();
      await host.stop();
    }
  });
});
