/**
 * Feishu events → BotEvent. Input is what `EventDispatcher` hands a handler: the event's header
 * and body fields flattened into one object (the same over HTTP and the long connection).
 *
 * Message event: https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
 * Card callback: https://open.feishu.cn/document/feishu-cards/card-callback-communication
 */
import type { Logger } from 'pino';
import { makeEvent, type Attachment, type BotEvent, type Mention } from '../../event.js';
import { instant, sha256Hex } from '../common.js';

export const PLATFORM = 'feishu';

interface RawMention { key?: string; id?: { open_id?: string; user_id?: string | null }; name?: string }

export interface FlatMessageEvent {
  event_id?: string;
  sender?: { sender_id?: { open_id?: string; user_id?: string | null; union_id?: string }; sender_type?: string };
  message?: {
    message_id?: string; chat_id?: string; chat_type?: string; message_type?: string;
    content?: string; create_time?: string; mentions?: RawMention[];
  };
}

export interface DecodeOptions {
  /** The bot's own open_id: a mention of it addresses the bot. */
  botOpenId?: string;
  /** Fallback when no open_id is configured: a mention with this name is the bot. */
  botName: string;
  log: Logger;
  now: () => number;
}

function parseJson(s: unknown): Record<string, any> {
  if (typeof s !== 'string') return typeof s === 'object' && s !== null ? s as Record<string, any> : {};
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

const listOf = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Text and evidence of a message, by type; `@_user_N` placeholders are left for the mention pass. */
function contentOf(type: string, content: Record<string, any>): { text: string; attachments: Attachment[] } {
  const attachments: Attachment[] = [];
  switch (type) {
    case 'text':
      return { text: String(content.text ?? ''), attachments };
    case 'post': {
      // Received posts are either {title, content} or keyed by locale ({zh_cn: {title, content}}).
      const post = Array.isArray(content.content) ? content : Object.values(content).find((v: any) => Array.isArray(v?.content)) ?? {};
      const lines: string[] = [];
      // Arrays checked, not assumed: a malformed post must decode to text, not throw (fuzz).
      for (const para of listOf(post.content)) {
        let line = '';
        for (const el of listOf(para)) {
          if (el?.tag === 'text' || el?.tag === 'a') line += String(el.text ?? '');
          else if (el?.tag === 'at') line += String(el.user_id ?? '');
          else if (el?.tag === 'img' && el.image_key) attachments.push({ kind: 'image', key: String(el.image_key) });
          else if (el?.tag === 'media' && el.file_key) attachments.push({ kind: 'video', key: String(el.file_key) });
        }
        lines.push(line);
      }
      // The title is not part of the command: a post titled「走访」over「/走访 今天 石门村 1天」is
      // that command, not a first line that breaks it.
      return { text: lines.join('\n').trim(), attachments };
    }
    case 'image':
      if (content.image_key) attachments.push({ kind: 'image', key: String(content.image_key) });
      break;
    case 'file':
      if (content.file_key) attachments.push({ kind: 'file', key: String(content.file_key), name: content.file_name });
      break;
    case 'audio':
      if (content.file_key) attachments.push({ kind: 'audio', key: String(content.file_key), meta: { duration: content.duration } });
      break;
    case 'media':
      if (content.file_key) attachments.push({ kind: 'video', key: String(content.file_key), name: content.file_name, meta: { image_key: content.image_key } });
      break;
    case 'location':
      attachments.push({
        kind: 'location', key: `${content.latitude},${content.longitude}`, name: content.name,
        meta: { latitude: Number(content.latitude), longitude: Number(content.longitude) },
      });
      break;
  }
  return { text: '', attachments };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Resolves `@_user_N` placeholders: the bot's own mention is removed (with one neighbouring
 * space), others become `@名字` and are listed with their open_id; `@_all` is everyone.
 */
export function resolveMentions(text: string, raw: RawMention[], o: Pick<DecodeOptions, 'botOpenId' | 'botName'>): { text: string; mentionsBot: boolean; mentions: Mention[] } {
  let out = text;
  let mentionsBot = false;
  const mentions: Mention[] = [];
  for (const m of listOf(raw)) {
    if (typeof m?.key !== 'string' || !m.key) continue;
    if (m.key === '@_all') { out = out.split(m.key).join('@所有人'); continue; }
    const openId = m.id?.open_id ?? undefined;
    const isBot = o.botOpenId ? openId === o.botOpenId : m.name === o.botName;
    if (isBot) {
      mentionsBot = true;
      out = out.replace(new RegExp(`[ \\t\\u2005]?${escapeRe(m.key)}[ \\t\\u2005]?`, 'g'), ' ');
      continue;
    }
    out = out.split(m.key).join(m.name ? `@${m.name}` : m.key);
    if (openId) mentions.push({ accountId: openId, name: m.name });
  }
  return { text: out.replace(/[ \t]{2,}/g, ' ').trim(), mentionsBot, mentions };
}

/** An `im.message.receive_v1` event; null when it is not a user's message in a chat. */
export function decodeMessage(flat: FlatMessageEvent, o: DecodeOptions): BotEvent | null {
  const msg = flat?.message;
  const senderId = str(flat?.sender?.sender_id?.open_id);
  const messageId = str(msg?.message_id);
  const chatId = str(msg?.chat_id);
  if (!msg || !messageId || !chatId || !senderId) return null;
  if (flat.sender?.sender_type && flat.sender.sender_type !== 'user') return null;
  const { text, attachments } = contentOf(str(msg.message_type) ?? 'text', parseJson(msg.content));
  const resolved = resolveMentions(text, listOf(msg.mentions), o);
  return makeEvent({
    platform: PLATFORM,
    chatId,
    direct: msg.chat_type === 'p2p',
    senderId,
    messageId,
    at: instant(msg.create_time, o.now()),
    text: resolved.text,
    mentionsBot: resolved.mentionsBot,
    mentions: resolved.mentions,
    attachments,
  }, o.log);
}

/** What our own buttons carry in `value` (`behaviors[].value`), so a click can be told apart. */
export type CardValue =
  | { minqing: 'open'; form: string; direct?: boolean; values?: Record<string, string> }
  | { minqing: 'submit'; form: string; direct?: boolean }
  | { minqing: 'command'; command: string; direct?: boolean };

export interface FlatCardAction {
  event_id?: string;
  operator?: { open_id?: string; user_id?: string; name?: string };
  action?: { value?: unknown; tag?: string; name?: string; form_value?: Record<string, unknown> };
  context?: { open_message_id?: string; open_chat_id?: string };
  open_message_id?: string;
  open_chat_id?: string;
}

export type CardDecoded =
  | { kind: 'open'; form: string; chatId: string; direct: boolean; operator: string; values?: Record<string, string> }
  | { kind: 'event'; event: BotEvent }
  | { kind: 'ignored'; reason: string };

/**
 * A `card.action.trigger` callback. A form submission becomes a card event, keyed so the same
 * filled-in form from the same person (a double click, a resend) is one message.
 */
export function decodeCardAction(flat: FlatCardAction, o: DecodeOptions & { isDirectChat: (chatId: string) => boolean }): CardDecoded {
  const operator = str(flat?.operator?.open_id);
  const cardMessage = str(flat?.context?.open_message_id ?? flat?.open_message_id);
  const chatId = str(flat?.context?.open_chat_id ?? flat?.open_chat_id);
  if (!operator || !cardMessage || !chatId) return { kind: 'ignored', reason: 'card callback without operator, message or chat' };
  const value = parseJson(flat.action?.value) as Partial<CardValue> & Record<string, unknown>;
  const direct = typeof value.direct === 'boolean' ? value.direct : o.isDirectChat(chatId);
  if (value.minqing === 'open' && typeof value.form === 'string') return { kind: 'open', form: value.form, chatId, direct, operator, values: stringValues(value.values) };
  const base = { platform: PLATFORM, chatId, direct, senderId: operator, senderName: str(flat.operator?.name), at: new Date(o.now()) };
  if (value.minqing === 'submit' && typeof value.form === 'string') {
    const values = flat.action?.form_value ?? {};
    const messageId = `card:${cardMessage}:${operator}:${sha256Hex(JSON.stringify(values)).slice(0, 16)}`;
    return { kind: 'event', event: makeEvent({ ...base, messageId, card: { form: value.form, values } }, o.log) };
  }
  if (value.minqing === 'command' && typeof value.command === 'string') {
    const messageId = `card:${cardMessage}:${operator}:${sha256Hex(value.command).slice(0, 16)}`;
    return { kind: 'event', event: makeEvent({ ...base, messageId, text: value.command, mentionsBot: true }, o.log) };
  }
  return { kind: 'ignored', reason: 'card callback from a component that is not ours' };
}

/** The values a question's card carries into its form: strings only, a few and short. */
function stringValues(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'string').slice(0, 20)
    .map(([k, x]) => [k.slice(0, 40), (x as string).slice(0, 500)]));
  return Object.keys(out).length ? out : undefined;
}
