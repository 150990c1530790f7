/**
 * The addressed outgoing message: a handler's {@link Reply} once the core has decided where it
 * goes. Senders get this, never a bare `Reply`, so they need no side memory of the inbound half
 * (which chat was one-to-one) and no check for a missing target.
 */
import type { Reply } from './reply.js';

export interface Outgoing extends Omit<Reply, 'cadreId' | 'target' | 'platform'> {
  platform: string;
  /** chat id (to: 'chat') or platform account id (to: 'user'). */
  target: string;
  /** A one-to-one conversation: personal data may be shown, cards open forms in place. */
  direct: boolean;
  /**
   * A reply into a one-to-one chat: the account on the other side. Platforms whose chat id is
   * not an account (DingTalk `conversationId`) reach the person by this after a restart.
   */
  peer?: string;
}

/** Where the answered message came from: a reply to its own chat shares its one-to-one-ness. */
export interface Origin { platform: string; chatId: string; direct: boolean; senderId?: string }

/**
 * The outgoing form of an addressed reply (the router's or `addressCadre`'s output). A reply to
 * a user is direct; a reply to a chat is direct only when it is the origin's own one-to-one chat.
 */
export function outgoingOf(r: Reply, origin?: Origin): Outgoing {
  const platform = r.platform ?? origin?.platform;
  if (!r.target || !platform) throw new Error(`reply is not addressed (to: ${r.to}, cadre: ${r.cadreId ?? '-'})`);
  const { cadreId: _, target, platform: __, ...rest } = r;
  const own = !!origin && origin.direct && origin.platform === platform && origin.chatId === target;
  const direct = (r as Partial<Outgoing>).direct ?? (r.to === 'user' || own);
  const peer = r.to === 'chat' && own && origin?.senderId ? { peer: origin.senderId } : {};
  return { ...rest, platform, target, direct, ...peer };
}

/**
 * Reads a stored message: outbox rows hold an `Outgoing`; older stored replies (reminders,
 * `inbound_messages.replies`) hold an addressed `Reply` without `direct`, read the same way as
 * when they were written (to a user: direct; to a chat: a group).
 */
export function readOutgoing(json: string): Outgoing {
  return outgoingOf(JSON.parse(json) as Reply);
}

/** Parts of at most `maxBytes` UTF-8 bytes each, cut at line ends where possible, never inside a character. */
export function splitText(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return [text];
  const parts: string[] = [];
  let cur = '';
  let curBytes = 0;
  const flush = () => { if (cur) parts.push(cur.replace(/\n+$/, '')); cur = ''; curBytes = 0; };
  for (const line of text.split(/(?<=\n)/)) {
    const b = Buffer.byteLength(line, 'utf8');
    if (curBytes + b <= maxBytes) { cur += line; curBytes += b; continue; }
    flush();
    if (b <= maxBytes) { cur = line; curBytes = b; continue; }
    // A single line longer than the limit: cut by code points.
    for (const ch of line) {
      const cb = Buffer.byteLength(ch, 'utf8');
      if (curBytes + cb > maxBytes) flush();
      cur += ch;
      curBytes += cb;
    }
  }
  flush();
  return parts.filter((p) => p.length > 0);
}

/**
 * Text limits per message, in UTF-8 bytes, a little under what each platform documents so JSON
 * escaping does not push a part over:
 * - WeCom app `message/send` text: content ≤ 2048 bytes (developer.work.weixin.qq.com/document/path/90236);
 *   the same figure for wechaty, which drives a WeCom/WeChat client with no documented limit.
 * - DingTalk robot `msgParam` ≤ 15,000 bytes (open.dingtalk.com …/the-robot-sends-a-group-message).
 * - Feishu text request body ≤ 150 KB (open.feishu.cn …/im-v1/message/create).
 */
export const TEXT_LIMITS = {
  wecom: 2048,
  dingtalk: 12_000,
  feishu: 120_000,
} as const;

/**
 * The outbox rows of a handled message's replies (JSON each), for `claimMessage`. Not among them:
 * a reply the router could not address (it was logged when addressing failed), and replies to
 * the console, which prints the router's answer itself and runs no delivery.
 */
export function outboxJson(origin: Origin, replies: Reply[]): string[] {
  const out: string[] = [];
  for (const r of replies) {
    // The console prints its answers; skipped before the message is even built.
    if (!r.target || (r.platform ?? origin.platform) === 'console') continue;
    out.push(JSON.stringify(outgoingOf(r, origin)));
  }
  return out;
}
