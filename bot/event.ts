/**
 * The one inbound type every adapter produces. Built only by {@link makeEvent}, so every event
 * carries a logger tagged with its platform message id.
 */
import type { Logger } from 'pino';

export interface Mention {
  /** The platform account id of the person mentioned. */
  accountId: string;
  name?: string;
}

/** Evidence a platform delivers with a message: kept as the platform's key plus metadata. */
export interface Attachment {
  kind: 'image' | 'file' | 'location' | 'audio' | 'video';
  key: string;
  name?: string;
  meta?: Record<string, unknown>;
}

export interface BotEvent {
  platform: string;
  chatId: string;
  /** A one-to-one chat with the bot (personal data may be shown in full here). */
  direct: boolean;
  senderId: string;
  senderName?: string;
  /** The platform's message/event id; a second event with the same id is a redelivery. */
  messageId?: string;
  at: Date;
  /** Message text, with the mention of the bot itself removed by the adapter. */
  text: string;
  mentionsBot: boolean;
  /** The platform message this one quotes or replies to, when the platform says (an answer to a question). */
  replyTo?: string;
  mentions: Mention[];
  /** A submitted card form: decoded into the same command a user could have typed. */
  card?: { form: string; values: Record<string, unknown> };
  attachments: Attachment[];
  log: Logger;
}

export type EventFields = Omit<BotEvent, 'log' | 'mentions' | 'attachments' | 'mentionsBot' | 'at' | 'text'> &
  Partial<Pick<BotEvent, 'mentions' | 'attachments' | 'mentionsBot' | 'at' | 'text'>>;

export function makeEvent(fields: EventFields, log: Logger): BotEvent {
  let child: Logger | undefined;
  const e = { mentions: [], attachments: [], mentionsBot: false, text: '', ...fields, at: fields.at ?? new Date() } as Omit<BotEvent, 'log'>;
  // Most events never log; the tagged child logger is made on first use.
  return Object.defineProperty(e, 'log', {
    get: () => (child ??= log.child({ platform: fields.platform, msg_id: fields.messageId })),
    enumerable: false,
  }) as BotEvent;
}
