/**
 * Run by host.test.ts in a child process: an adapter whose SDK-like timer throws out of the event
 * loop, under a host with the process-level handlers on. Prints one JSON line and exits 0 if the
 * process survived and the adapter was restarted; a death shows as another exit code.
 */
import { createLogger } from '../../bot/logger.js';
import { AdapterHost } from '../../bot/adapters/host.js';
import { HealthCell } from '../../bot/adapters/health.js';
import { stackMentions, type PlatformAdapter } from '../../bot/adapters/adapter.js';

const health = new HealthCell('leaky', 'stream');
let starts = 0;
let timer: NodeJS.Timeout | undefined;
function leakyTimer(): void {
  // What dingtalk-stream 2.1.5's orphan heartbeat does: throw from a timer nobody awaits.
  timer = setTimeout(function leakyHeartbeat() { throw new Error('WebSocket is not open: readyState 0 (CONNECTING)'); }, 20);
}
const leaky: PlatformAdapter = {
  platform: 'leaky', transport: 'stream', sender: { platform: 'leaky', send: async () => {} }, routes: () => [],
  async start() { starts++; health.set('ready'); if (starts === 1) leakyTimer(); },
  async stop() { clearTimeout(timer); health.set('stopped'); },
  health: () => health.get(),
  idle: async () => {},
  owns: (err) => stackMentions(err, 'leakyHeartbeat'),
};
const steady = new HealthCell('steady', 'http');
steady.set('ready');
let steadyStops = 0;
const other: PlatformAdapter = {
  platform: 'steady', transport: 'http', sender: { platform: 'steady', send: async () => {} }, routes: () => [],
  async start() {}, async stop() { steadyStops++; }, health: () => steady.get(), idle: async () => {}, owns: () => false,
};
const lines: string[] = [];
const host = new AdapterHost({ log: createLogger('info', { write: (s: string) => { lines.push(JSON.parse(s).msg); } }), minDelayMs: 30 });
host.add(leaky).add(other);
await host.start();
const t0 = Date.now();
while (starts < 2 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
// And an error nobody owns: logged, the process carries on.
setTimeout(() => { throw new Error('stray'); }, 0);
await new Promise((r) => setTimeout(r, 50));
const out = { starts, steadyStopsBefore: steadyStops, health: host.health(), lines };
await host.stop();
process.stdout.write(JSON.stringify(out) + '\n');
