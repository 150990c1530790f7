import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, Limiter, Outbound, type Window } from './outbound.js';
import { createLogger } from './logger.js';

describe('Limiter', () => {
  it('lets 20 DingTalk messages a minute through to one target and delays the 21st to the next minute', () => {
    let now = 1_000_000;
    const l = new Limiter(DEFAULT_LIMITS.dingtalk, () => now);
    const waits = Array.from({ length: 21 }, () => l.reserve('group-1'));
    expect(waits.slice(0, 20).every((w) => w === 0)).toBe(true);
    expect(waits[20]).toBe(60_000);
    expect(l.reserve('group-2')).toBe(0); // targets are independent
    now += 60_000;
    expect(l.reserve('group-1')).toBe(0);
  });

  it('applies both WeCom windows: 30 a minute and 1000 an hour', () => {
    let now = 0;
    const l = new Limiter(DEFAULT_LIMITS.wecom, () => now);
    let last = 0;
    for (let i = 0; i < 1001; i++) last = l.reserve('member');
    // 1000 fit in the hour at 30 a minute (34 minutes); the 1001st waits for the hour to roll.
    expect(last).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe('Outbound', () => {
  it('delays, never drops: every message reaches the sender once, in order', async () => {
    const got: string[] = [];
    const slept: number[] = [];
    const o = new Outbound({ log: createLogger('silent'), limits: { feishu: [{ max: 5, ms: 1000 }] }, sleep: async (ms) => { slept.push(ms); } });
    o.register({ platform: 'feishu', send: async (r, key) => { got.push(key + ':' + r.text); } });
    for (let i = 0; i < 12; i++) await o.send({ to: 'user', target: 'ou_1', platform: 'feishu', text: String(i) }, `k${i}`);
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}:${i}`));
    expect(slept.length).toBe(7);
    await expect(o.send({ to: 'user', target: 'x', platform: 'nowhere', text: '' }, 'k')).rejects.toThrow('no sender');
  });

  it('books through the shared limiter when one is given: one key per platform and target, its wait slept', async () => {
    const asked: { key: string; windows: Window[] }[] = [];
    const slept: number[] = [];
    const got: string[] = [];
    const shared = { reserve: async (key: string, windows: Window[]) => { asked.push({ key, windows }); return asked.length > 2 ? 700 : 0; }, close: async () => {} };
    const o = new Outbound({ log: createLogger('silent'), limits: { feishu: [{ max: 2, ms: 1000 }], console: [] }, shared, sleep: async (ms) => { slept.push(ms); } });
    o.register({ platform: 'feishu', send: async (r) => { got.push(r.text); } });
    o.register({ platform: 'console', send: async (r) => { got.push(r.text); } });
    for (let i = 0; i < 3; i++) await o.send({ to: 'user', target: 'ou_1', platform: 'feishu', text: String(i) }, `k${i}`);
    await o.send({ to: 'chat', target: 'oc_1', platform: 'console', text: 'c' }, 'kc'); // no limits: not asked
    expect(asked.map((a) => a.key)).toEqual(['feishu:user:ou_1', 'feishu:user:ou_1', 'feishu:user:ou_1']);
    expect(asked[0].windows).toEqual([{ max: 2, ms: 1000 }]);
    expect(slept).toEqual([700]);
    expect(got).toEqual(['0', '1', '2', 'c']);
  });

  it('limits in this process when the shared limiter cannot answer (Redis down or not there)', async () => {
    const slept: number[] = [];
    const got: string[] = [];
    const o = new Outbound({ log: createLogger('silent'), limits: { feishu: [{ max: 5, ms: 1000 }] }, redis: { url: 'redis://127.0.0.1:1' }, sleep: async (ms) => { slept.push(ms); } });
    o.register({ platform: 'feishu', send: async (r) => { got.push(r.text); } });
    for (let i = 0; i < 12; i++) await o.send({ to: 'user', target: 'ou_1', platform: 'feishu', text: String(i) }, `k${i}`);
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(slept.length).toBe(7);
    await o.close();
  });
});
