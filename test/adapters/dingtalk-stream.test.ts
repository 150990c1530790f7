/**
 * DingTalk Stream mode against a loopback gateway with the real `dingtalk-stream` 2.1.5 client:
 * a gateway that sends SYSTEM `disconnect`, drops sockets and is slow to accept, and the things
 * a leak would show — sockets open at once, ping rate, timers left after stop, a process-level
 * exception. Also the card callback paths (Stream and HTTP) with the callback type on the card.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from '../chat.js';
import { createLogger } from '../../bot/logger.js';
import { Outbound } from '../../bot/outbound.js';
import { HttpServer } from '../../bot/http-server.js';
import { formsFromCommands } from '../../bot/adapters/common.js';
import { createDingtalkAdapter, superviseStream, type DingtalkAdapter, type StreamLink } from '../../bot/adapters/dingtalk/index.js';
import type { AdapterState } from '../../bot/adapters/health.js';
import { allCommands } from '../../scripts/commands.js';
import { bindAccount, cadreByPhone } from '../../storage/identity.js';
import { dingtalkGateway, streamFrame, until, type WsGateway } from './gateways.js';
import { fakeServer, fixture, post, type Fake } from './loopback.js';

const SECRET = 'dt-app-secret-0123456789';
const log = createLogger('silent');
const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
const TOPIC_CARD = '/v1.0/card/instances/callback';

async function fakeApi(): Promise<Fake> {
  return fakeServer({
    'POST /robot/sendBySession': () => ({ json: { errcode: 0, errmsg: 'ok' } }),
    'POST /v1.0/oauth2/accessToken': () => ({ json: { accessToken: 'dt-token', expireIn: 7200 } }),
    'POST /v1.0/robot/oToMessages/batchSend': () => ({ json: { processQueryKey: 'pqk', invalidStaffIdList: [], flowControlledStaffIdList: [] } }),
    'POST /v1.0/robot/groupMessages/send': () => ({ json: { processQueryKey: 'pqk' } }),
    'POST /v1.0/im/v1.0/robot/interactiveCards/send': () => ({ json: { success: true, result: { processQueryKey: 'pqk-card' } } }),
  });
}

interface Rig { chat: Chat; api: Fake; dt: DingtalkAdapter }

async function rig(api: Fake, o: Partial<Parameters<typeof createDingtalkAdapter>[0]> = {}): Promise<Rig> {
  const chat = await Chat.demo();
  await bindAccount(chat.db, 'dingtalk', 'u2staff', (await cadreByPhone(chat.db, '13800000002'))!.id, Date.now());
  const outbound = new Outbound({ log });
  const dt = createDingtalkAdapter({
    clientId: 'dingrobotappkey01', clientSecret: SECRET, botName: '民情', apiBase: api.url, oapiBase: api.url,
    forms: formsFromCommands(allCommands()), ackWithinMs: 20_000, ...o,
  }, { handle: chat.app.handle, log, send: (reply, key) => outbound.send(reply, key) });
  outbound.register(dt.sender);
  return { chat, api, dt };
}

const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;

describe('DingTalk stream supervision (fake links)', () => {
  it('reconnects at once after a gateway disconnect, with back-off after failures, and reports each state', async () => {
    const states: AdapterState[] = [];
    const script: Array<'fail' | 'disconnect' | 'closed'> = ['fail', 'fail', 'disconnect', 'closed'];
    const made: number[] = [];
    const disposed = new Set<number>();
    let endNow: ((why: 'disconnect' | 'closed') => void) | undefined;
    const link = (): StreamLink => {
      const step = script.shift() ?? 'hold';
      const id = made.push(Date.now());
      let end!: (why: 'disconnect' | 'closed') => void;
      const ended = new Promise<'disconnect' | 'closed'>((r) => { end = r; });
      return {
        open: async () => { if (step === 'fail') throw new Error('gateway refused'); endNow = end; if (step !== 'hold') setTimeout(() => end(step as 'disconnect' | 'closed'), 5); },
        ended,
        dispose: () => { disposed.add(id); end('closed'); },
      };
    };
    const s = superviseStream(link, { log, minDelayMs: 40, maxDelayMs: 1000, random: () => 0.5, stableAfterMs: 60_000, report: (st) => states.push(st) });
    await until(() => made.length === 5, 3000, 'five links');
    const gaps = made.slice(1).map((t, i) => t - made[i]);
    // fail → 40 ms → fail → 80 ms → opened; disconnect → at once (back-off reset) → opened; closed → 40 ms → opened.
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(gaps[2]).toBeLessThan(35);
    expect(gaps[3]).toBeGreaterThanOrEqual(35);
    expect(states).toEqual(['reconnecting', 'reconnecting', 'ready', 'reconnecting', 'ready', 'reconnecting', 'ready']);
    expect(endNow).toBeDefined();
    await s.stop();
    // Every link is disposed, the live one by stop().
    expect([...disposed].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(states.at(-1)).toBe('stopped');
  });
});

describe('DingTalk Stream against a loopback gateway (real DWClient)', () => {
  let gw: WsGateway;
  let r: Rig;
  beforeEach(async () => {
    gw = await dingtalkGateway();
    r = await rig(await fakeApi(), { mode: 'stream', stream: { minDelayMs: 30, maxDelayMs: 200, heartbeatMs: 40, gatewayBase: gw.url } });
  });
  afterEach(async () => {
    await r.dt.stop();
    await r.dt.idle();
    await gw.close();
    await r.api.close();
    await r.chat.close();
  });

  it('takes a robot message, survives disconnect and dropped sockets with one socket and one heartbeat, and leaves nothing behind', async () => {
    const timersBefore = timers();
    await r.dt.start();
    await until(() => gw.open() === 1 && r.dt.health().state === 'ready', 5000, 'first connection');
    expect(gw.endpointCalls[0]).toMatchObject({ clientId: 'dingrobotappkey01', clientSecret: SECRET, subscriptions: expect.arrayContaining([{ type: 'CALLBACK', topic: TOPIC_ROBOT }, { type: 'CALLBACK', topic: TOPIC_CARD }]) });

    // A robot message over the socket is recorded, answered, and acknowledged on the same socket.
    const m = fixture('dingtalk', 'robot-p2p');
    gw.sockets()[0].send(streamFrame('CALLBACK', TOPIC_ROBOT, 'frame-1', m));
    await until(() => gw.received.some((f) => f?.headers?.messageId === 'frame-1'), 5000, 'ack');
    expect(await r.chat.count('visits')).toBe(1);
    // The fixture's session webhook has expired by the wall clock: the reply goes through the robot API.
    expect(JSON.parse(r.api.to('/v1.0/robot/oToMessages/batchSend')[0].json.msgParam).content).toContain('已记录走访 #V1');
    expect(JSON.parse(gw.received.find((f) => f?.headers?.messageId === 'frame-1').data)).toEqual({ response: {} });

    // SYSTEM disconnect: a fresh connection at once, the old one closed.
    gw.sockets()[0].send(streamFrame('SYSTEM', 'disconnect', 'sys-1'));
    await until(() => gw.connections === 2 && gw.open() === 1, 5000, 'reconnect after disconnect');

    // The gateway drops every socket and is then slow to accept (sockets stay CONNECTING): an
    // orphan heartbeat would ping one of them and throw "WebSocket is not open".
    gw.upgradeDelayMs = 150;
    gw.dropAll();
    await until(() => gw.connections === 3 && gw.open() === 1, 5000, 'reconnect after drop');
    gw.upgradeDelayMs = 0;
    gw.dropAll();
    await until(() => gw.connections === 4 && gw.open() === 1 && r.dt.health().state === 'ready', 5000, 'reconnect after second drop');
    expect(gw.maxOpen).toBe(1);

    // One heartbeat: ~1 ping per 40 ms over 400 ms; leaked intervals would double or triple it.
    const p0 = gw.pings;
    await new Promise((res) => setTimeout(res, 400));
    const rate = gw.pings - p0;
    expect(rate).toBeGreaterThanOrEqual(5);
    expect(rate).toBeLessThanOrEqual(13);

    await r.dt.stop();
    await until(() => gw.open() === 0, 2000, 'socket closed on stop');
    const p1 = gw.pings;
    await new Promise((res) => setTimeout(res, 150));
    expect(gw.pings).toBe(p1);
    expect(gw.connections).toBe(4);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    expect(r.dt.health().state).toBe('stopped');
  });

  it('retries a refusing gateway with back-off and says why in its health', async () => {
    gw.endpointAnswers.push({ status: 401, json: { code: 'InvalidAuthentication', message: 'bad secret' } }, { status: 401, json: { code: 'InvalidAuthentication', message: 'bad secret' } });
    await r.dt.start();
    await until(() => r.dt.health().attempts === 2, 3000, 'two failures');
    expect(r.dt.health()).toMatchObject({ state: 'reconnecting', detail: expect.stringContaining('InvalidAuthentication') });
    await until(() => r.dt.health().state === 'ready' && gw.open() === 1, 3000, 'connected on the third try');
    expect(gw.endpointCalls).toHaveLength(3);
    expect(r.dt.health().attempts).toBe(0);
  });

  it('sends cards with callbackType STREAM, and a click over the socket answers with the form guide', async () => {
    await r.dt.start();
    await until(() => gw.open() === 1, 5000, 'connected');
    await r.dt.sender.send({ to: 'user', target: 'u2staff', platform: 'dingtalk', direct: true, text: '本月还差 1 次到村走访。', actions: [{ label: '填报', command: '/走访', form: 'visit' }] } as never, 'quota:1');
    expect(r.api.to('/v1.0/im/v1.0/robot/interactiveCards/send')[0].json).toMatchObject({ callbackType: 'STREAM' });
    expect(r.api.to('/v1.0/im/v1.0/robot/interactiveCards/send')[0].json.callbackRouteKey).toBeUndefined();
    const click = fixture('dingtalk', 'stream-card-callback');
    gw.sockets()[0].send(streamFrame('CALLBACK', TOPIC_CARD, 'card-frame-1', click.data));
    await until(() => r.api.to('/v1.0/robot/oToMessages/batchSend').length === 1, 5000, 'form guide');
    expect(JSON.parse(r.api.to('/v1.0/robot/oToMessages/batchSend')[0].json.msgParam).content).toContain('格式：/走访');
    await until(() => gw.received.some((f) => f?.headers?.messageId === 'card-frame-1'), 2000, 'card ack');
  });
});

describe('DingTalk cards in HTTP mode', () => {
  it('sends cards with callbackType HTTP and the route key; the card route takes a click with the secret and refuses one without', async () => {
    const api = await fakeApi();
    const r = await rig(api, { mode: 'http', cardRouteKey: 'minqing_cards', cardSecret: 'card-secret-0123456789' });
    const server = new HttpServer({ log });
    for (const route of r.dt.routes()) server.route(route);
    const url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    try {
      expect(server.paths).toEqual(['POST /dingtalk/robot', 'POST /dingtalk/card']);
      await r.dt.start();
      expect(r.dt.health().state).toBe('ready');
      await r.dt.sender.send({ to: 'chat', target: 'cidGroupShimen0001==', platform: 'dingtalk', direct: false, text: '请填报', actions: [{ label: '填报', command: '/走访', form: 'visit' }] } as never, 'digest:1');
      expect(api.to('/v1.0/im/v1.0/robot/interactiveCards/send')[0].json).toMatchObject({ callbackType: 'HTTP', callbackRouteKey: 'minqing_cards', openConversationId: 'cidGroupShimen0001==' });

      const body = fixture('dingtalk', 'stream-card-callback').data as string;
      expect((await post(`${url}/dingtalk/card`, body)).status).toBe(401);
      expect((await post(`${url}/dingtalk/card?secret=wrong-secret-0123456789`, body)).status).toBe(401);
      expect(api.to('/v1.0/robot/oToMessages/batchSend')).toHaveLength(0);
      expect((await post(`${url}/dingtalk/card?secret=card-secret-0123456789`, body)).status).toBe(200);
      const [guide] = api.to('/v1.0/robot/oToMessages/batchSend');
      expect(guide.json.userIds).toEqual(['u2staff']);
      expect(JSON.parse(guide.json.msgParam).content).toContain('格式：/走访');
    } finally {
      await r.dt.stop();
      await server.close();
      await api.close();
      await r.chat.close();
    }
  });
});
