/**
 * WeCom (企业微信) callback crypto (docs/platforms.md#wecom-crypto; https://developer.work.weixin.qq.com/document/path/90968):
 * `msg_signature = sha1(sort([token, timestamp, nonce, encrypted]).join(''))`;
 * AESKey = base64(EncodingAESKey + "="), AES-256-CBC with IV = AESKey[0:16], PKCS#7 padded to a
 * multiple of 32 — which Node's own unpadding rejects, so padding is handled here;
 * plaintext = random(16) | msg_len (4 bytes, big-endian) | msg | receiveid.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { safeEqual } from '../common.js';

const BLOCK = 32;

export function wecomSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
}

export function verifyWecomSignature(token: string, timestamp: string, nonce: string, encrypted: string, signature: string): boolean {
  return safeEqual(wecomSignature(token, timestamp, nonce, encrypted), signature.toLowerCase());
}

function aesKey(encodingAESKey: string): Buffer {
  const key = Buffer.from(encodingAESKey + '=', 'base64');
  if (key.length !== 32) throw new Error('EncodingAESKey must be 43 characters of base64 (a 32-byte key)');
  return key;
}

/** Decrypts an `Encrypt`/`echostr` value; throws on a wrong key or damaged input. */
export function decryptWecom(encodingAESKey: string, encrypted: string): { message: string; receiveId: string } {
  const key = aesKey(encodingAESKey);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypted, 'base64')), d.final()]);
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > BLOCK || pad > plain.length) throw new Error('bad padding');
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) throw new Error('bad padding');
  const body = plain.subarray(16, plain.length - pad);
  if (body.length < 4) throw new Error('plaintext too short');
  const len = body.readUInt32BE(0);
  if (4 + len > body.length) throw new Error('bad message length');
  return { message: body.subarray(4, 4 + len).toString('utf8'), receiveId: body.subarray(4 + len).toString('utf8') };
}

export function encryptWecom(encodingAESKey: string, message: string, receiveId: string, random: Buffer = randomBytes(16)): string {
  const key = aesKey(encodingAESKey);
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const raw = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
  const pad = BLOCK - (raw.length % BLOCK);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.concat([raw, Buffer.alloc(pad, pad)])), c.final()]).toString('base64');
}

/** The text of `<Tag>…</Tag>` (CDATA or plain) in a WeCom XML body; flat messages need no more. */
export function xmlField(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${tag}>`).exec(xml);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** An encrypted callback body as WeCom posts it, with its query — for tests. */
export function encryptedCallback(o: { token: string; encodingAESKey: string; corpId: string; agentId: string; xml: string; timestamp: string; nonce: string }): { query: string; body: string } {
  const encrypted = encryptWecom(o.encodingAESKey, o.xml, o.corpId);
  const sig = wecomSignature(o.token, o.timestamp, o.nonce, encrypted);
  const body = `<xml><ToUserName><![CDATA[${o.corpId}]]></ToUserName><AgentID><![CDATA[${o.agentId}]]></AgentID><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
  return { query: `msg_signature=${sig}&timestamp=${o.timestamp}&nonce=${o.nonce}`, body };
}
