/**
 * DingTalk robot messages and card callbacks → BotEvent. The same message body arrives over the
 * outgoing-robot HTTP callback and over Stream mode (`JSON.parse(res.data)`).
 *
 * Robot message: https://open.dingtalk.com/document/orgapp/receive-message
 * Card callback (Stream topic `/v1.0/card/instances/callback`): `value` is a JSON string
 * `{"cardPrivateData":{"actionIds":[…],"params":{…}}}` (dingtalk-stream-sdk-python
 * `card_callback_message.py`).
 */
import type { Logger } from 'pino';
import { makeEvent, type Attachment, type BotEvent, type Mention } from '../../event.js';
import { instant, sha256Hex } from '../common.js';

export const PLATFORM = 'dingtalk';

export interface RobotMessage {
  msgId: string;
  msgtype: string;
  text?: { content?: string };
  content?: Record<string, any>;
  createAt?: number;
  /** "1" one-to-one, "2" group. */
  conversationType: string;
  conversationId: string;
  conversationTitle?: string;
  senderId?: string;
  senderStaffId?: string;
  senderNick?: string;
  isInAtList?: boolean;
  atUsers?: Array<{ dingtalkId?: string; staffId?: string }>;
  chatbotUserId?: string;
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  robotCode?: string;
}

export interface DecodeOptions {
  botName: string;
  log: Logger;
  now: () => number;
}

/** The account id of a DingTalk user: the staff (user) id the robot API addresses. */
export const accountOf = (m: Pick<RobotMessage, 'senderStaffId' | 'senderId'>): string | undefined => m.senderStaffId || m.senderId;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Fields are checked, not assumed: the HTTP sign covers only the timestamp, so a body may be
// anything, and over Stream a throw here would be an unhandled rejection (found by fuzzing).
const listOf = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function contentOf(m: RobotMessage): { text: string; attachments: Attachment[] } {
  const c: Record<string, any> = m.content && typeof m.content === 'object' ? m.content : {};
  const attachments: Attachment[] = [];
  switch (m.msgtype) {
    case 'text':
      return { text: typeof m.text?.content === 'string' ? m.text.content : '', attachments };
    case 'richText': {
      let text = '';
      for (const part of listOf(c.richText)) {
        if (typeof part?.text === 'string') text += part.text;
        else if (part?.downloadCode) attachments.push({ kind: 'image', key: String(part.downloadCode) });
      }
      return { text, attachments };
    }
    case 'picture':
      if (c.downloadCode) attachments.push({ kind: 'image', key: String(c.downloadCode) });
      break;
    case 'file':
      if (c.downloadCode) attachments.push({ kind: 'file', key: String(c.downloadCode), name: c.fileName, meta: { fileId: c.fileId } });
      break;
    case 'audio':
      if (c.downloadCode) attachments.push({ kind: 'audio', key: String(c.downloadCode), meta: { duration: c.duration, recognition: c.recognition } });
      // DingTalk transcribes voice messages (content.recognition): what was said is read as text,
      // so a spoken「走访 今天 石门村 一天」is the command; the recording stays as evidence.
      return { text: typeof c.recognition === 'string' ? c.recognition : '', attachments };
    case 'video':
      if (c.downloadCode) attachments.push({ kind: 'video', key: String(c.downloadCode), meta: { duration: c.duration } });
      break;
  }
  return { text: '', attachments };
}

export function decodeRobotMessage(m: RobotMessage, o: DecodeOptions): BotEvent | null {
  if (!m || typeof m !== 'object') return null;
  const sender = str(accountOf(m));
  if (!str(m.msgId) || !str(m.conversationId) || !sender) return null;
  const group = m.conversationType === '2';
  const { text, attachments } = contentOf(m);
  // The @ of the robot is normally cut from the text already; a leading one left over is dropped.
  const stripped = text.replace(new RegExp(`^\\s*[@＠]${escapeRe(o.botName)}(?:[\\s\\u2005]+|$)`), '').trim();
  const mentions: Mention[] = listOf(m.atUsers)
    .filter((u) => str(u?.staffId) && u.dingtalkId !== m.chatbotUserId)
    .map((u) => ({ accountId: u.staffId! }));
  return makeEvent({
    platform: PLATFORM,
    chatId: m.conversationId,
    direct: !group,
    senderId: sender,
    senderName: str(m.senderNick),
    messageId: m.msgId,
    at: instant(m.createAt, o.now()),
    text: stripped,
    // Robots receive group messages only when @-mentioned.
    mentionsBot: group ? m.isInAtList !== false : false,
    mentions,
    attachments,
  }, o.log);
}

export interface CardCallback {
  outTrackId?: string;
  userId?: string;
  corpId?: string;
  spaceType?: string;
  spaceId?: string;
  value?: string;
  content?: string;
}

/** Button ids of our StandardCard buttons: `mq_form_<form>` opens the form guide. */
export const FORM_BUTTON = 'mq_form_';

export type CardDecoded =
  | { kind: 'open'; form: string; userId: string }
  | { kind: 'event'; event: BotEvent }
  | { kind: 'ignored'; reason: string };

/**
 * A card callback. A "填报" button asks for the form; a card built from a form template (whose
 * submit button sends `params` with `form` plus the inputs named by argument key) is a submission.
 */
export function decodeCardCallback(d: CardCallback, o: DecodeOptions): CardDecoded {
  const userId = str(d?.userId);
  const track = str(d?.outTrackId);
  if (!userId || !track) return { kind: 'ignored', reason: 'card callback without user or card id' };
  let data: { cardPrivateData?: { actionIds?: unknown; params?: unknown } } | null = {};
  try { data = JSON.parse(String(d.value ?? d.content ?? '{}')); } catch { return { kind: 'ignored', reason: 'card callback value is not JSON' }; }
  if (!data || typeof data !== 'object') return { kind: 'ignored', reason: 'card callback value is not an object' };
  const first = listOf(data.cardPrivateData?.actionIds)[0];
  const action = typeof first === 'string' ? first : '';
  const params = data.cardPrivateData?.params;
  const { form, ...values } = params && typeof params === 'object' && !Array.isArray(params) ? params as Record<string, unknown> : {};
  if (typeof form === 'string' && Object.keys(values).length) {
    const group = d.spaceType === 'IM_GROUP' && !!str(d.spaceId);
    return {
      kind: 'event',
      event: makeEvent({
        platform: PLATFORM, chatId: group ? d.spaceId! : userId, direct: !group, senderId: userId,
        messageId: `card:${track}:${userId}:${sha256Hex(JSON.stringify(values)).slice(0, 16)}`,
        at: new Date(o.now()), card: { form, values },
      }, o.log),
    };
  }
  if (action.startsWith(FORM_BUTTON)) return { kind: 'open', form: action.slice(FORM_BUTTON.length), userId };
  return { kind: 'ignored', reason: `card action ${action || '(none)'} is not ours` };
}
