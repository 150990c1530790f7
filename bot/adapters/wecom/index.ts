/**
 * WeCom: through wechaty with a configurable puppet (the default, docs/platforms.md#wechaty), or as a self-built
 * app over its encrypted HTTP callback. Both answer as platform `wecom`; run one of them.
 */
export { createWechatyAdapter, replyText, PLATFORM, type WechatyAdapter, type WechatyAdapterOptions } from './wechaty.js';
export { createWecomAppAdapter, type WecomAppAdapter, type WecomAppOptions } from './app.js';
export { decryptWecom, encryptWecom, verifyWecomSignature, wecomSignature } from './crypto.js';
