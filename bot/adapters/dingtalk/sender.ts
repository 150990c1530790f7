/**
 * Reply → DingTalk. A reply goes through the session webhook of the conversation while that is
 * valid (`sessionWebhookExpiredTime` in the future); afterwards — and for reminders, files and
 * cards, which the webhook cannot carry — through the robot API with an access token:
 *
 * - token: POST /v1.0/oauth2/accessToken {appKey, appSecret}
 * - one-to-one: POST /v1.0/robot/oToMessages/batchSend (reports `flowControlledStaffIdList`)
 * - group: POST /v1.0/robot/groupMessages/send
 * - card: POST /v1.0/im/v1.0/robot/interactiveCards/send (StandardCard)
 * - upload: POST {oapi}/media/upload?type=file|image → media_id
 *
 * https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches
 * https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Logger } from 'pino';
import type { Sender } from '../../outbound.js';
import type { Reply } from '../../reply.js';
import { splitText, TEXT_LIMITS, type Outgoing } from '../../outgoing.js';
import type { Attachment } from '../../event.js';
import { networkError, PlatformError } from '../../delivery.js';
import { sha256Hex, type Forms } from '../common.js';
import { formsOf, replyMarkdown, standardCard } from './card.js';
import { accountOf, PLATFORM, type RobotMessage } from './decode.js';

export interface DingtalkSenderOptions {
  /** AppKey / Client ID. */
  clientId: string;
  /** AppSecret / Client Secret. */
  clientSecret: string;
  /** The robot's code; for an enterprise-internal app it is the AppKey. */
  robotCode: string;
  /** https://api.dingtalk.com (default) or a test server. */
  apiBase?: string;
  /** https://oapi.dingtalk.com (default): session webhooks must live here, uploads go here. */
  oapiBase?: string;
  forms: Forms;
  log: Logger;
  now?: () => number;
  /**
   * Where clicks on our interactive cards go: `STREAM` over the Stream connection, or `HTTP` to
   * the URL registered for `callbackRouteKey` (POST /v1.0/card/callbacks/register). Without it
   * a click reaches nobody (the official SDK's `card_replier` sets the same two fields).
   */
  cardCallback?: { callbackType: 'STREAM' } | { callbackType: 'HTTP'; callbackRouteKey: string };
}

interface Session { direct: boolean; staffId?: string; webhook?: string; expires?: number }

/** A webhook is used only with this much time left, so it does not expire in flight. */
const WEBHOOK_MARGIN_MS = 10_000;

/** Each call to DingTalk gives up after this long; the outbox retries it. */
const TIMEOUT_MS = 20_000;

/**
 * The access token died before its `expireIn`: the new API answers `code: InvalidAuthentication`
 * ("不合法的access_token"), oapi answers errcode 40014 (invalid) or 42001 (expired)
 * (https://open.dingtalk.com/document/orgapp/server-api-error-codes-1). Refresh and retry once.
 */
const TOKEN_CODES = new Set<string | number>(['InvalidAuthentication', 40014, 42001]);

/**
 * New-API refusals a retry cannot cure: no permission for the API or the robot, a malformed
 * request, an unknown robot or conversation. Throttling codes and 5xx are retried.
 */
function apiError(what: string, status: number, out: Record<string, any>): PlatformError {
  const code = out.code as string | undefined;
  const transient = status === 429 || status >= 500 || /throttl|flowcontrol|limit/i.test(code ?? '') || (code !== undefined && TOKEN_CODES.has(code));
  return new PlatformError({
    platform: PLATFORM, message: `DingTalk ${what} failed: ${status} ${code ?? ''} ${out.message ?? ''}`.trim(),
    status, code, permanent: !transient && status >= 400 && status < 500,
  });
}

export class DingtalkSender implements Sender {
  readonly platform = PLATFORM;
  private chats = new Map<string, Session>();
  private users = new Map<string, Session>();
  private token?: { value: string; expires: number };
  private apiBase: string;
  private oapiBase: string;
  private now: () => number;

  constructor(private o: DingtalkSenderOptions) {
    this.apiBase = (o.apiBase ?? 'https://api.dingtalk.com').replace(/\/$/, '');
    this.oapiBase = (o.oapiBase ?? 'https://oapi.dingtalk.com').replace(/\/$/, '');
    this.now = o.now ?? Date.now;
  }

  /** Keeps the conversation's webhook; only webhooks on the DingTalk host are trusted. */
  remember(m: RobotMessage): void {
    const direct = m.conversationType !== '2';
    const staffId = accountOf(m);
    // The body is not covered by the sign: a non-string webhook must not throw (found by fuzzing).
    let webhook = typeof m.sessionWebhook === 'string' ? m.sessionWebhook : undefined;
    if (webhook && !webhook.startsWith(this.oapiBase + '/')) {
      this.o.log.warn({ host: safeHost(webhook) }, 'session webhook not on the DingTalk host: ignored');
      webhook = undefined;
    }
    const s: Session = { direct, staffId, webhook, expires: typeof m.sessionWebhookExpiredTime === 'number' ? m.sessionWebhookExpiredTime : undefined };
    bounded(this.chats, m.conversationId, s);
    if (direct && staffId) bounded(this.users, staffId, s);
  }

  /** A one-to-one chat known without a webhook (a card click): replies go to the user. */
  rememberDirect(userId: string): void {
    if (!this.chats.has(userId)) bounded(this.chats, userId, { direct: true, staffId: userId });
  }

  async send(reply: Outgoing, key: string): Promise<void> {
    const session = reply.to === 'user' ? this.users.get(reply.target) : this.chats.get(reply.target);
    const dest: Dest = reply.to === 'user'
      ? { direct: true, id: reply.target }
      : session?.direct ? { direct: true, id: session.staffId ?? reply.target }
      // No session in memory (after a restart): the outgoing message says what the chat was.
      : reply.direct && reply.peer ? { direct: true, id: reply.peer } : { direct: false, id: reply.target };
    const cardForms = formsOf(reply, this.o.forms);
    if (cardForms.length && (await this.sendCard(reply, dest, key))) {
      // sent as an interactive card
    } else if (reply.card || reply.actions?.length) {
      const markdown = replyMarkdown(reply, this.o.forms);
      if (!(await this.viaWebhook(session, { msgtype: 'markdown', markdown }))) await this.viaApi(dest, { msgKey: 'sampleMarkdown', msgParam: markdown });
    } else if (reply.text) {
      // msgParam is limited to 15,000 bytes (robot group-message API): a long text goes in parts.
      for (const content of splitText(reply.text, TEXT_LIMITS.dingtalk)) {
        if (!(await this.viaWebhook(session, { msgtype: 'text', text: { content } }))) await this.viaApi(dest, { msgKey: 'sampleText', msgParam: { content } });
      }
    }
    if (reply.image) await this.viaApi(dest, { msgKey: 'sampleImageMsg', msgParam: { photoURL: await this.upload(reply.image, 'image') } });
    if (reply.file) {
      const ext = extname(reply.file).slice(1).toLowerCase() || 'file';
      await this.viaApi(dest, { msgKey: 'sampleFile', msgParam: { mediaId: await this.upload(reply.file, 'file'), fileName: basename(reply.file), fileType: ext } });
    }
  }

  private async viaWebhook(s: Session | undefined, body: unknown): Promise<boolean> {
    if (!s?.webhook || !s.expires || s.expires - WEBHOOK_MARGIN_MS <= this.now()) return false;
    try {
      const res = await fetch(s.webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
      const out = await res.json().catch(() => ({})) as { errcode?: number; errmsg?: string };
      if (res.ok && (out.errcode ?? 0) === 0) return true;
      this.o.log.warn({ status: res.status, errcode: out.errcode, errmsg: out.errmsg }, 'session webhook refused the reply: using the robot API');
    } catch (err) {
      this.o.log.warn({ err }, 'session webhook failed: using the robot API');
    }
    return false;
  }

  private async viaApi(dest: Dest, m: { msgKey: string; msgParam: unknown }): Promise<void> {
    const msgParam = JSON.stringify(m.msgParam);
    if (dest.direct) {
      const out = await this.api('/v1.0/robot/oToMessages/batchSend', { robotCode: this.o.robotCode, userIds: [dest.id], msgKey: m.msgKey, msgParam });
      if (out.flowControlledStaffIdList?.length) throw new PlatformError({ platform: PLATFORM, message: `DingTalk flow control for ${dest.id}: message not sent`, code: 'flowControlled' });
      if (out.invalidStaffIdList?.length) throw new PlatformError({ platform: PLATFORM, message: `DingTalk does not know user ${dest.id}`, code: 'invalidStaffId', permanent: true });
    } else {
      await this.api('/v1.0/robot/groupMessages/send', { robotCode: this.o.robotCode, openConversationId: dest.id, msgKey: m.msgKey, msgParam });
    }
  }

  /** True when the card went out; false to fall back to markdown (e.g. no card permission). */
  private async sendCard(reply: Reply, dest: Dest, key: string): Promise<boolean> {
    try {
      await this.api('/v1.0/im/v1.0/robot/interactiveCards/send', {
        cardTemplateId: 'StandardCard',
        robotCode: this.o.robotCode,
        cardBizId: sha256Hex(key).slice(0, 32),
        cardData: JSON.stringify(standardCard(reply, this.o.forms)),
        ...(dest.direct ? { singleChatReceiver: JSON.stringify({ userId: dest.id }) } : { openConversationId: dest.id }),
        ...this.o.cardCallback,
        sendOptions: {},
      });
      return true;
    } catch (err) {
      this.o.log.warn({ err }, 'interactive card not sent: falling back to markdown');
      return false;
    }
  }

  /** One robot API call; a token invalidated early is dropped and the call made once more. */
  private async api(path: string, body: unknown): Promise<Record<string, any>> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.apiBase + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'x-acs-dingtalk-access-token': await this.accessToken() },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        throw networkError(PLATFORM, `DingTalk ${path}`, err);
      }
      const out = await res.json().catch(() => ({})) as Record<string, any>;
      if (res.ok) return out;
      if (attempt === 0 && TOKEN_CODES.has(out.code)) {
        this.o.log.warn({ code: out.code }, 'DingTalk token invalidated early: fetching a new one');
        this.token = undefined;
        continue;
      }
      throw apiError(path, res.status, out);
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expires - 300_000 > this.now()) return this.token.value;
    let res: Response;
    try {
      res = await fetch(`${this.apiBase}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ appKey: this.o.clientId, appSecret: this.o.clientSecret }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw networkError(PLATFORM, 'DingTalk access token', err);
    }
    const out = await res.json().catch(() => ({})) as { accessToken?: string; expireIn?: number; message?: string };
    // A refused secret is a configuration error, but retried: fixing the config then delivers.
    if (!res.ok || !out.accessToken) throw new PlatformError({ platform: PLATFORM, message: `DingTalk access token refused: ${res.status} ${out.message ?? ''}`.trim(), status: res.status });
    this.token = { value: out.accessToken, expires: this.now() + (out.expireIn ?? 7200) * 1000 };
    return out.accessToken;
  }

  /**
   * A picture, file, voice or video a user sent: its `downloadCode` is exchanged for a short-lived
   * URL (POST /v1.0/robot/messageFiles/download {downloadCode, robotCode}), which is then fetched
   * (https://open.dingtalk.com/document/orgapp/download-the-file-content-of-the-robot-receiving-message).
   */
  async download(_messageId: string | undefined, a: Attachment): Promise<Buffer> {
    const out = await this.api('/v1.0/robot/messageFiles/download', { downloadCode: a.key, robotCode: this.o.robotCode });
    if (typeof out.downloadUrl !== 'string') throw new PlatformError({ platform: PLATFORM, message: 'DingTalk gave no downloadUrl', permanent: true });
    const res = await fetch(out.downloadUrl, { signal: AbortSignal.timeout(TIMEOUT_MS * 3) });
    if (!res.ok) throw new PlatformError({ platform: PLATFORM, message: `DingTalk file download failed: ${res.status}`, status: res.status });
    return Buffer.from(await res.arrayBuffer());
  }

  private async upload(path: string, type: 'file' | 'image'): Promise<string> {
    const bytes = await readFile(path);
    for (let attempt = 0; ; attempt++) {
      const form = new FormData();
      form.append('media', new Blob([bytes]), basename(path));
      const url = `${this.oapiBase}/media/upload?access_token=${encodeURIComponent(await this.accessToken())}&type=${type}`;
      let res: Response;
      try { res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(TIMEOUT_MS * 3) }); } catch (err) { throw networkError(PLATFORM, 'DingTalk upload', err); }
      const out = await res.json().catch(() => ({})) as { errcode?: number; errmsg?: string; media_id?: string };
      if (res.ok && !out.errcode && out.media_id) return out.media_id;
      if (attempt === 0 && out.errcode !== undefined && TOKEN_CODES.has(out.errcode)) { this.token = undefined; continue; }
      const transient = !res.ok && (res.status === 429 || res.status >= 500) || out.errcode === -1;
      throw new PlatformError({ platform: PLATFORM, message: `DingTalk upload of ${basename(path)} failed: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim(), status: res.status, code: out.errcode, permanent: !transient });
    }
  }
}

interface Dest { direct: boolean; id: string }

function bounded<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > 50_000) m.delete(m.keys().next().value as string);
}

function safeHost(u: string): string {
  try { return new URL(u).host; } catch { return '(not a URL)'; }
}
