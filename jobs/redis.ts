/**
 * Where the scheduler's Redis comes from (docs/rules.md#operating): `REDIS_URL` when given; otherwise
 * 127.0.0.1:6379 if it answers; otherwise a `redis-server` child with AOF under ./data/redis/,
 * stopped when we exit. A missing redis-server is one clear line, not a stack trace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export class RedisUnavailable extends Error {}

/** True when something answers PING at host:port within `ms`. */
export function redisAnswers(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((done) => {
    const sock = createConnection({ host, port });
    const finish = (ok: boolean) => { sock.destroy(); done(ok); };
    sock.setTimeout(ms, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => finish(d.toString().startsWith('+PONG')));
  });
}

export interface RedisHandle {
  url: string;
  /** Stops the child redis-server, if we started one. */
  stop(): Promise<void>;
}

export async function ensureRedis(opts: { url?: string; dataDir?: string; port?: number; log: Logger }): Promise<RedisHandle> {
  if (opts.url) return { url: opts.url, stop: async () => {} };
  const port = opts.port ?? 6379;
  if (await redisAnswers('127.0.0.1', port)) return { url: `redis://127.0.0.1:${port}`, stop: async () => {} };
  if (spawnSync('redis-server', ['--version']).error) {
    throw new RedisUnavailable('找不到 Redis：请安装 redis-server（Debian/Ubuntu：sudo apt-get install redis-server；macOS：brew install redis），或设置 REDIS_URL=redis://主机:端口');
  }
  const dir = resolve(opts.dataDir ?? './data/redis');
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no',
  ], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers('127.0.0.1', port)) break;
    if (child.exitCode !== null) throw new RedisUnavailable(`redis-server 启动失败（退出码 ${child.exitCode}）；请检查端口 ${port} 或设置 REDIS_URL`);
    await new Promise((r) => setTimeout(r, 100));
  }
  opts.log.info({ dir, port }, 'started a local redis-server');
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
