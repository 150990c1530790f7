/**
 * `minqing bench --only faults`: N `/走访` messages through the real router and the reply outbox
 * into a platform that refuses 10% of attempts (a 429 or a 5xx, at random), with a restart of the
 * delivery half-way (the old process's claims left behind) and every tenth message redelivered at
 * the end. Counted at the platform: replies lost (never accepted) and duplicated (accepted twice).
 *
 * A second figure for the case a retry cannot settle alone: 1% of accepted sends whose answer is
 * lost (a timeout after the platform took the message). The outbox retries them with the same
 * key; only a platform that deduplicates on it (Feishu `uuid`) keeps them from showing twice.
 */
import type { Logger } from 'pino';
import { testConfig } from '../bot/config.js';
import { makeEvent } from '../bot/event.js';
import { Outbound } from '../bot/outbound.js';
import { PlatformError, ReplyDelivery } from '../bot/delivery.js';
import { claimDue, outboxCounts } from '../storage/outbox.js';
import { createApp } from './app.js';
import { openBenchDb, progressBar, seedRoster } from './bench-seed.js';

export interface FaultResult { visits: number; replies: number; accepted: number; lost: number; duplicated: number; attempts: number; retried: number; afterLostAnswer: number; seconds: number }

/** `target`: a PostgreSQL URL runs it there, in a schema of its own; otherwise a SQLite file. `label` names the database on the progress bar. */
export async function benchFaults(o: { replies: number; failRate?: number; lostAnswerRate?: number; log: Logger; quiet?: boolean; target?: string; label?: string }): Promise<FaultResult> {
  const failRate = o.failRate ?? 0.1;
  const lostAnswerRate = o.lostAnswerRate ?? 0.01;
  const bench = await openBenchDb(o.target, 'faults');
  const { db } = bench;
  const cadres = 500;
  await seedRoster(db, 20, cadres);
  // Its own platform name: console replies are printed, not delivered through the outbox.
  await db.run("INSERT INTO accounts (platform, account_id, cadre_id, created_at) SELECT 'bench', 'c' || id, id, 0 FROM cadres");
  const app = createApp(testConfig(), { db, log: o.log });
  // What the platform took, by key: a second acceptance of a key is a duplicate the user sees
  // unless the platform drops it by key.
  const accepted = new Map<string, number>();
  let attempts = 0;
  let afterLostAnswer = 0;
  const lostAnswer = new Set<string>();
  const outbound = new Outbound({ log: o.log, limits: {} });
  outbound.register({
    platform: 'bench',
    async send(_m, key) {
      attempts++;
      await new Promise((r) => setImmediate(r));
      if (Math.random() < failRate) {
        throw new PlatformError({ platform: 'bench', message: Math.random() < 0.5 ? '429 too many requests' : '503 unavailable', status: Math.random() < 0.5 ? 429 : 503 });
      }
      if (lostAnswer.has(key)) afterLostAnswer++;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
      if (Math.random() < lostAnswerRate && !lostAnswer.has(key)) {
        lostAnswer.add(key);
        throw new PlatformError({ platform: 'bench', message: 'timeout after the platform took the message' });
      }
    },
  });
  const retry = { maxAttempts: 8, baseMs: 1, maxMs: 20 };
  const newDelivery = () => new ReplyDelivery({ db, send: (m, k) => outbound.send(m, k), log: o.log, retry, concurrency: 64 });
  let delivery = newDelivery();
  // Not awaited: start() never rejects (it logs its own failure) and stop()/idle() wait for it.
  void delivery.start();
  const bar = o.quiet ? undefined : progressBar(`(g) ${o.label ? `${o.label} ` : ''}故障投递`, o.replies);
  const at = new Date();
  const event = (i: number) => makeEvent({
    platform: 'bench', chatId: `c${1 + (i % cadres)}`, direct: true, senderId: `c${1 + (i % cadres)}`,
    messageId: `fault-${i}`, at, text: `/走访 昨天 石门村 入户 ${1 + (i % 3)}小时 走访困难户${i % 4}户`,
  }, o.log);
  const t0 = performance.now();
  let next = 0;
  let restarted = false;
  const lane = async () => {
    for (let i = next++; i < o.replies; i = next++) {
      if (!restarted && i >= o.replies / 2) {
        restarted = true;
        // The process dies: its delivery stops, and some rows stay claimed as if sends were in
        // flight. The next process must release them and deliver everything once.
        await delivery.stop();
        await claimDue(db, Date.now(), 15 * 60_000, 50);
        delivery = newDelivery();
        // Not awaited, as at the start: start() never rejects and stop()/idle() wait for it.
        void delivery.start();
      }
      const e = event(i);
      const replies = await app.handle(e);
      await delivery.settle('bench', e.messageId, replies, { chatId: e.chatId, direct: true, senderId: e.senderId });
      if (i % 200 === 0) bar?.update(i);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  for (;;) {
    await delivery.idle();
    const c = await outboxCounts(db);
    if (!c.pending) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  // Redeliveries of one message in ten: answered from the record, nothing sent again.
  const before = attempts;
  for (let i = 0; i < o.replies; i += 10) {
    const e = event(i);
    await delivery.settle('bench', e.messageId, await app.handle(e), { chatId: e.chatId, direct: true, senderId: e.senderId });
  }
  await delivery.stop();
  const seconds = (performance.now() - t0) / 1000;
  bar?.update(o.replies); bar?.stop();
  const counts = await outboxCounts(db);
  const keys = [...accepted.keys()];
  const rows = counts.delivered + counts.failed + counts.pending;
  const result: FaultResult = {
    visits: (await db.value<number>('SELECT count(*) FROM visits'))!,
    replies: rows,
    accepted: keys.length,
    lost: rows - keys.length,
    duplicated: keys.filter((k) => accepted.get(k)! > 1 && !lostAnswer.has(k)).length,
    attempts,
    retried: attempts - rows,
    afterLostAnswer,
    seconds,
  };
  await app.close();
  await bench.dispose();
  if (attempts !== before) throw new Error(`redelivered messages sent ${attempts - before} replies again`);
  if (counts.failed) throw new Error(`${counts.failed} replies marked undeliverable`);
  return result;
}

export function describeFaults(r: FaultResult, failRate = 0.1, lostAnswerRate = 0.01, label?: string): string {
  return `(g) ${label ? `[${label}] ` : ''}${r.replies} 条回复，平台随机拒绝 ${(failRate * 100).toFixed(0)}% 的发送（429/5xx），中途重启一次，十分之一的消息重投：` +
    `丢失 ${r.lost}，重复 ${r.duplicated}；共 ${r.attempts} 次发送（重试 ${r.retried}），${r.seconds.toFixed(2)} s。` +
    `另有 ${(lostAnswerRate * 100).toFixed(0)}% 的发送平台已收下但应答丢失：${r.afterLostAnswer} 条以同一幂等键重发（飞书按 uuid 去重；钉钉、企业微信会显示两次）`;
}
