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
}

interface Session { direct: boolean; staffId?: string; webhook?: string; expires?: number }

/** A webhook is used only with this much time left, so it does not expire in flight. */
const WEBHOOK_MARGIN_MS = 10_000;

class ApiError extends Error {}

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
    // The body is not covered by the sign: a non-string webhook must not throw (fuzz, issue 7).
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

  async send(reply: Reply, key: string): Promise<void> {
    if (!reply.target) throw new Error('DingTalk reply without a target');
    const session = reply.to === 'user' ? this.users.get(reply.target) : this.chats.get(reply.target);
    const dest: Dest = reply.to === 'user'
      ? { direct: true, id: reply.target }
      : session?.direct ? { direct: true, id: session.staffId ?? reply.target } : { direct: false, id: reply.target };
    const cardForms = formsOf(reply, this.o.forms);
    if (cardForms.length && (await this.sendCard(reply, dest, key))) {
      // sent as an interactive card
    } else if (reply.text || reply.card) {
      const body = reply.card || reply.actions?.length
        ? { msgtype: 'markdown', markdown: replyMarkdown(reply, this.o.forms) }
        : { msgtype: 'text', text: { content: reply.text } };
      if (!(await this.viaWebhook(session, body))) {
        await this.viaApi(dest, body.msgtype === 'text'
          ? { msgKey: 'sampleText', msgParam: { content: reply.text } }
          : { msgKey: 'sampleMarkdown', msgParam: (body as { markdown: unknown }).markdown });
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
      const res = await fetch(s.webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
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
      if (out.flowControlledStaffIdList?.length) throw new ApiError(`DingTalk flow control for ${dest.id}: message not sent`);
      if (out.invalidStaffIdList?.length) throw new ApiError(`DingTalk does not know user ${dest.id}`);
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
        sendOptions: {},
      });
      return true;
    } catch (err) {
      this.o.log.warn({ err }, 'interactive card not sent: falling back to markdown');
      return false;
    }
  }

  private async api(path: string, body: unknown): Promise<Record<string, any>> {
    const res = await fetch(this.apiBase + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-acs-dingtalk-access-token': await this.accessToken() },
      body: JSON.stringify(body),
    });
    const out = await res.json().catch(() => ({})) as Record<string, any>;
    if (!res.ok) throw new ApiError(`DingTalk ${path} failed: ${res.status} ${out.code ?? ''} ${out.message ?? ''}`.trim());
    return out;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expires - 300_000 > this.now()) return this.token.value;
    const res = await fetch(`${this.apiBase}/v1.0/oauth2/accessToken`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ appKey: this.o.clientId, appSecret: this.o.clientSecret }),
    });
    const out = await res.json().catch(() => ({})) as { accessToken?: string; expireIn?: number; message?: string };
    if (!res.ok || !out.accessToken) throw new ApiError(`DingTalk access token refused: ${res.status} ${out.message ?? ''}`.trim());
    this.token = { value: out.accessToken, expires: this.now() + (out.expireIn ?? 7200) * 1000 };
    return out.accessToken;
  }

  private async upload(path: string, type: 'file' | 'image'): Promise<string> {
    const form = new FormData();
    form.append('media', new Blob([await readFile(path)]), basename(path));
    const url = `${this.oapiBase}/media/upload?access_token=${encodeURIComponent(await this.accessToken())}&type=${type}`;
    const res = await fetch(url, { method: 'POST', body: form });
    const out = await res.json().catch(() => ({})) as { errcode?: number; errmsg?: string; media_id?: string };
    if (!res.ok || out.errcode || !out.media_id) throw new ApiError(`DingTalk upload of ${basename(path)} failed: ${out.errcode ?? res.status} ${out.errmsg ?? ''}`.trim());
    return out.media_id;
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
