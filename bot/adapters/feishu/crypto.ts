/**
 * Feishu/Lark callback crypto (docs/platforms.md#feishu-crypto;
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/request-url-configuration-case):
 * body `{"encrypt": base64(iv | AES-256-CBC(SHA256(encryptKey), PKCS#7))}` and
 * `X-Lark-Signature = hex(SHA256(timestamp + nonce + encryptKey + rawBody))`.
 *
 * The encrypting half and {@link signedCallback} exist for tests and `minqing bench`: they build
 * exactly what Feishu would send.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { safeEqual, sha256Hex } from '../common.js';

const keyOf = (encryptKey: string) => createHash('sha256').update(encryptKey).digest();

/** Decrypts an `encrypt` field; throws on a wrong key or a damaged payload. */
export function decryptFeishu(encryptKey: string, encrypted: string): string {
  const buf = Buffer.from(encrypted, 'base64');
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error('encrypted payload has a bad length');
  const d = createDecipheriv('aes-256-cbc', keyOf(encryptKey), buf.subarray(0, 16));
  return Buffer.concat([d.update(buf.subarray(16)), d.final()]).toString('utf8');
}

export function encryptFeishu(encryptKey: string, plain: string, iv: Buffer = randomBytes(16)): string {
  const c = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]).toString('base64');
}

export function feishuSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer | string): string {
  return sha256Hex(timestamp + nonce + encryptKey, rawBody);
}

export function verifyFeishuSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer, signature: string): boolean {
  return safeEqual(feishuSignature(timestamp, nonce, encryptKey, rawBody), signature.toLowerCase());
}

export interface SignedCallback {
  body: string;
  headers: Record<string, string>;
}

/**
 * A callback exactly as Feishu sends it: the payload encrypted, the raw body signed.
 * `timestamp` is in seconds, as in `X-Lark-Request-Timestamp`.
 */
export function signedCallback(payload: unknown, o: { encryptKey: string; timestamp?: number; nonce?: string }): SignedCallback {
  const body = JSON.stringify({ encrypt: encryptFeishu(o.encryptKey, JSON.stringify(payload)) });
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? randomBytes(8).toString('hex');
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSignature(timestamp, nonce, o.encryptKey, body),
    },
  };
}

export interface MessageEventInput {
  verificationToken: string;
  eventId: string;
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  senderOpenId: string;
  text: string;
  /** Mentions in order; the text refers to them as `@_user_1`, `@_user_2`, … */
  mentions?: Array<{ openId: string; name: string }>;
  createTime?: number;
  appId?: string;
}

/** An `im.message.receive_v1` event (schema 2.0) with a text message, as documented. */
export function messageEvent(i: MessageEventInput): Record<string, unknown> {
  const at = String(i.createTime ?? Date.now());
  return {
    schema: '2.0',
    header: {
      event_id: i.eventId, event_type: 'im.message.receive_v1', create_time: at, token: i.verificationToken,
      app_id: i.appId ?? 'cli_a1b2c3d4e5f6a7b8', tenant_key: 'tenant_demo',
    },
    event: {
      sender: { sender_id: { open_id: i.senderOpenId, union_id: `on_${i.senderOpenId}`, user_id: null }, sender_type: 'user', tenant_key: 'tenant_demo' },
      message: {
        message_id: i.messageId, root_id: '', parent_id: '', create_time: at, update_time: at,
        chat_id: i.chatId, chat_type: i.chatType, message_type: 'text',
        content: JSON.stringify({ text: i.text }),
        mentions: (i.mentions ?? []).map((m, n) => ({
          key: `@_user_${n + 1}`, id: { open_id: m.openId, union_id: `on_${m.openId}`, user_id: null }, name: m.name, tenant_key: 'tenant_demo',
        })),
      },
    },
  };
}

/**
 * A signed, encrypted text-message callback in one call — for `minqing bench` load tests:
 * `POST /feishu/events` with `headers` and `body`.
 */
export function signedMessageCallback(i: MessageEventInput & { encryptKey: string; timestamp?: number; nonce?: string }): SignedCallback {
  return signedCallback(messageEvent(i), { encryptKey: i.encryptKey, timestamp: i.timestamp, nonce: i.nonce });
}
