/**
 * DingTalk outgoing-robot HTTP callback check (docs/platforms.md#dingtalk-signature;
 * https://open.dingtalk.com/document/orgapp/receive-message): headers `timestamp` (ms) and
 * `sign = Base64(HmacSHA256(key = appSecret, timestamp + "\n" + appSecret))`; a request more than
 * one hour away from now is refused. Both must hold.
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from '../common.js';

export const MAX_SKEW_MS = 3_600_000;

export function dingtalkSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function verifyDingtalkRequest(headers: IncomingHttpHeaders, appSecret: string, now: number, maxSkewMs = MAX_SKEW_MS): Verdict {
  const one = (n: string) => { const v = headers[n]; return Array.isArray(v) ? v[0] : v; };
  const timestamp = one('timestamp');
  const sign = one('sign');
  if (!timestamp || !sign) return { ok: false, status: 401, reason: 'missing timestamp or sign header' };
  if (!safeEqual(dingtalkSign(timestamp, appSecret), sign)) return { ok: false, status: 401, reason: 'bad sign' };
  const t = Number(timestamp);
  if (!Number.isFinite(t) || Math.abs(now - t) > maxSkewMs) return { ok: false, status: 403, reason: `stale or replayed request (timestamp ${timestamp})` };
  return { ok: true };
}
