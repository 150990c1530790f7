/**
 * The load generator of `minqing bench` (feishu part), run as its own process so that it does not
 * share the server's event loop: POSTs pre-built requests from a JSON file, prints autocannon's
 * result as one JSON line. Loopback only.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, path, file, connections] = process.argv.slice(2);
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url ?? '')) throw new Error('usage: bench-load http://127.0.0.1:<port> <path> <requests.json> <connections>');
const requests = JSON.parse(readFileSync(file, 'utf8')) as Array<{ body: string; headers: Record<string, string> }>;
let next = 0;
// When the first request goes: the server's throughput is counted from here, not from this
// process's own start (loading tsx and autocannon takes most of a second).
const startedAt = Date.now();
const result = await autocannon({
  url, connections: Number(connections), amount: requests.length, timeout: 30,
  requests: [{ method: 'POST', path, setupRequest: (req) => { const r = requests[next++ % requests.length]; return { ...req, body: r.body, headers: r.headers }; } }],
});
process.stdout.write(JSON.stringify({ startedAt, latency: result.latency, requests: result.requests, non2xx: result.non2xx, errors: result.errors, duration: result.duration }) + '\n');
