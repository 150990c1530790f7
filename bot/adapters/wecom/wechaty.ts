/**
 * WeCom/WeChat through wechaty: a puppet chosen by name (e.g. `wechaty-puppet-service` with a
 * token for a WeCom account) drives a client account; messages in rooms and one-to-one chats
 * become BotEvents, replies go out with `room.say` / `contact.say`.
 *
 * wechaty is a client, not the WeCom server API: there are no cards, so a reply's buttons become
 * a line saying which command to send. The bot's own messages come back as events and are
 * dropped (`message.self()`).
 */
import { WechatyBuilder, types, type Message, type Wechaty } from 'wechaty';
import { FileBox } from 'file-box';
import type { Logger } from 'pino';
import type { Sender } from '../../outbound.js';
import type { Reply } from '../../reply.js';
import { splitText, TEXT_LIMITS } from '../../outgoing.js';
import { makeEvent, type Attachment, type BotEvent } from '../../event.js';
import type { AdapterDeps, Forms } from '../common.js';
import { Intake } from '../intake.js';
import { stackMentions, type PlatformAdapter } from '../adapter.js';
import { HealthCell } from '../health.js';

export const PLATFORM = 'wecom';

const T = {
  fill: (label: string, usage: string) => `${label}：发送 ${usage}`,
};

export interface WechatyAdapterOptions {
  /** A puppet module name (`wechaty-puppet-service`, …) or a puppet instance (tests: PuppetMock). */
  puppet: string | object;
  puppetOptions?: Record<string, unknown>;
  /** Session name: wechaty keeps the login in `<name>.memory-card.json`. */
  name?: string;
  forms?: Forms;
  /** Clock override (tests, replays); otherwise the message's own time is used. */
  now?: () => number;
}

export interface WechatyAdapter extends PlatformAdapter {
  platform: typeof PLATFORM;
  bot: Wechaty;
  sender: Sender;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A reply as plain text: fields as lines, buttons as the command to send. */
export function replyText(r: Reply, forms: Forms): string {
  const lines = [r.text];
  if (r.card?.title && !r.text.startsWith(r.card.title)) lines.unshift(`【${r.card.title}】`);
  for (const [k, v] of r.card?.fields ?? []) lines.push(`${k}：${v}`);
  for (const a of r.actions ?? []) lines.push(T.fill(a.label, (a.form && forms[a.form]?.usage) || a.command));
  return lines.filter(Boolean).join('\n');
}

const ATTACHMENT_KINDS: Partial<Record<number, Attachment['kind']>> = {
  [types.Message.Image]: 'image',
  [types.Message.Attachment]: 'file',
  [types.Message.Audio]: 'audio',
  [types.Message.Video]: 'video',
  [types.Message.Location]: 'location',
};

export function createWechatyAdapter(o: WechatyAdapterOptions, deps: AdapterDeps): WechatyAdapter {
  const log: Logger = deps.log.child({ adapter: PLATFORM });
  const forms = o.forms ?? {};
  // No ack window: wechaty does not resend, so the work is simply awaited.
  const intake = new Intake(deps, PLATFORM, { ackWithinMs: 24 * 3_600_000, now: o.now });
  const rooms = new Set<string>();
  // wechaty fetches a message's file from the message object itself: the recent ones with a
  // file are kept (bounded) so evidence can be fetched after the router decided to keep it.
  const withFiles = new Map<string, Message>();
  const health = new HealthCell(PLATFORM, 'wechaty');
  const bot = WechatyBuilder.build({ name: o.name ?? 'minqing', puppet: o.puppet as never, puppetOptions: o.puppetOptions as never });

  async function decode(m: Message): Promise<BotEvent | null> {
    const room = m.room();
    const talker = m.talker();
    const type = m.type();
    let text = '';
    const attachments: Attachment[] = [];
    if (type === types.Message.Text) text = m.text();
    else if (ATTACHMENT_KINDS[type]) attachments.push({ kind: ATTACHMENT_KINDS[type]!, key: m.id, meta: { wechatyType: type } });
    else return null;
    let mentionsBot = false;
    let mentions: BotEvent['mentions'] = [];
    if (room) {
      mentionsBot = await m.mentionSelf();
      const self = bot.currentUser;
      if (mentionsBot) text = text.replace(new RegExp(`[@＠]${escapeRe(self.name())}(?:[\\s\\u2005]+|$)`, 'g'), '');
      mentions = (await m.mentionList()).filter((c) => c.id !== self.id).map((c) => ({ accountId: c.id, name: c.name() }));
      rooms.add(room.id);
    }
    return makeEvent({
      platform: PLATFORM,
      chatId: room ? room.id : talker.id,
      direct: !room,
      senderId: talker.id,
      senderName: talker.name(),
      messageId: m.id,
      at: new Date(o.now ? o.now() : m.date().getTime()),
      text: text.trim(),
      mentionsBot,
      mentions,
      attachments,
    }, log);
  }

  async function onMessage(m: Message): Promise<void> {
    if (m.self()) return;
    if (!intake.accept(m.id)) { log.info({ msg_id: m.id }, 'redelivered message dropped'); return; }
    const event = await decode(m);
    if (!event) return;
    if (event.attachments.length) {
      withFiles.set(m.id, m);
      if (withFiles.size > 1000) withFiles.delete(withFiles.keys().next().value as string);
    }
    await intake.take(event, [m.id]);
  }

  async function sayTo(reply: Reply): Promise<{ say(s: string | FileBox): Promise<unknown> }> {
    const id = reply.target!;
    if (reply.to === 'chat' && (rooms.has(id) || !(await bot.Contact.find({ id })))) {
      const room = await bot.Room.find({ id });
      if (room) return room;
    }
    const contact = await bot.Contact.find({ id });
    if (!contact) throw new Error(`wechaty: no room or contact ${id}`);
    return contact;
  }

  const sender: Sender = {
    platform: PLATFORM,
    async download(messageId) {
      const m = messageId ? withFiles.get(messageId) : undefined;
      if (!m) throw new Error('wechaty: the message is no longer at hand to fetch its file');
      return (await m.toFileBox()).toBuffer();
    },
    async send(reply) {
      const to = await sayTo(reply);
      const text = replyText(reply, forms);
      for (const part of text ? splitText(text, TEXT_LIMITS.wecom) : []) await to.say(part);
      if (reply.image) await to.say(FileBox.fromFile(reply.image));
      if (reply.file) await to.say(FileBox.fromFile(reply.file));
    },
  };

  bot.on('message', (m: Message) => { void intake.track(onMessage(m).catch((err) => log.error({ err }, 'message handling failed'))); });
  bot.on('error', (err: unknown) => log.warn({ err }, 'wechaty error'));
  bot.on('scan', (qrcode: string, status: number) => {
    health.set('starting', '等待扫码登录');
    log.info({ status, qrcode }, 'wechaty: scan the QR code to log in');
  });
  bot.on('login', (user: { name(): string }) => {
    health.set('ready');
    log.info({ user: user.name() }, 'wechaty logged in');
  });
  // A logout (from the phone, or the account kicked off) stops every message; the puppet shows a
  // new QR code, so it waits for a scan rather than for a restart.
  bot.on('logout', (user: { name(): string }, reason?: string) => {
    health.set('failed', `已退出登录${reason ? `（${reason}）` : ''}：请重新扫码登录`);
    log.error({ user: user.name(), reason }, 'wechaty logged out: no messages until someone logs in again');
  });

  return {
    platform: PLATFORM,
    transport: 'wechaty',
    bot,
    sender,
    routes: () => [],
    async start() {
      health.set('starting');
      await bot.start();
      if (bot.isLoggedIn) health.set('ready');
    },
    async stop() {
      await bot.stop();
      health.set('stopped');
    },
    health: () => health.get(),
    owns: (err) => stackMentions(err, 'node_modules/wechaty', 'adapters/wecom/wechaty'),
    idle: () => intake.idle(),
  };
}
