/**
 * The console's JSONL face (README "JSONL mode"), the scriptable interface of the bot: one JSON object per
 * input line, exactly one `{"replies":[…]}` line out for each, in order. A bad line is answered,
 * never fatal.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { makeEvent, type BotEvent } from '../../event.js';
import type { Reply } from '../../reply.js';

export const PLATFORM = 'console';

const line = z.object({
  user: z.string().min(1).max(200),
  chat: z.string().min(1).max(200).optional(),
  group: z.boolean().optional(),
  text: z.string().optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  id: z.string().min(1).max(200).optional(),
  /** The message this one replies to (a quote of the bot's question in a group). */
  replyTo: z.string().min(1).max(200).optional(),
  name: z.string().max(100).optional(),
  card: z.string().min(1).max(100).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
}).refine((l) => l.text !== undefined || l.card !== undefined, { message: '需要 text（消息）或 card（表单）', path: ['text'] });

const T = {
  notJson: '这一行不是有效的 JSON。每行应为一个 JSON 对象，例如 {"user":"u1","text":"/我的"}',
  badField: (field: string, msg: string) => `这一行的字段「${field}」有误：${msg}。每行应为一个 JSON 对象，例如 {"user":"u1","chat":"g1","group":true,"text":"/走访 昨天 石门村 入户 1天","id":"m1"}`,
};

/** Leading `@民情` (the bot's name) addresses the bot, as a mention does on the platforms. */
export function stripBotMention(text: string, botName: string): { text: string; mentionsBot: boolean } {
  const m = new RegExp(`^\\s*[@＠](?:${botName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|bot)(?:[\\s\\u3000]+|$)`, 'i').exec(text);
  return m ? { text: text.slice(m[0].length), mentionsBot: true } : { text, mentionsBot: false };
}

export type Decoded = { event: BotEvent } | { error: string };

export function decodeLine(raw: string, log: Logger, botName: string): Decoded {
  let json: unknown;
  try { json = JSON.parse(raw); } catch { return { error: T.notJson }; }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { error: T.notJson };
  const r = line.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    return { error: T.badField(String(i.path[0] ?? '?'), i.message) };
  }
  const l = r.data;
  const group = l.group ?? false;
  const { text, mentionsBot } = stripBotMention(l.text ?? '', botName);
  return {
    event: makeEvent({
      platform: PLATFORM,
      chatId: l.chat ?? (group ? 'group' : l.user),
      direct: !group,
      senderId: l.user,
      senderName: l.name,
      messageId: l.id,
      at: l.at ? new Date(l.at) : new Date(),
      text,
      mentionsBot,
      replyTo: l.replyTo,
      card: l.card ? { form: l.card, values: l.values ?? {} } : undefined,
    }, log),
  };
}

/** What a reply looks like on a JSONL output line. */
export function encodeReply(r: Reply): Record<string, unknown> {
  const out: Record<string, unknown> = { to: r.to, target: r.target, text: r.text };
  if (r.card || r.actions?.length) out.card = { ...(r.card ?? {}), ...(r.actions?.length ? { actions: r.actions } : {}) };
  if (r.file) out.file = r.file;
  if (r.image) out.image = r.image;
  return out;
}

export async function runJsonl(opts: {
  input: Readable; output: Writable; log: Logger; botName: string;
  handle: (e: BotEvent) => Promise<Reply[]>;
}): Promise<void> {
  const rl = createInterface({ input: opts.input, crlfDelay: Infinity });
  for await (const raw of rl) {
    if (!raw.trim()) continue;
    const d = decodeLine(raw, opts.log, opts.botName);
    const replies = 'error' in d
      ? [{ to: 'chat', target: PLATFORM, text: d.error }]
      : (await opts.handle(d.event)).map(encodeReply);
    opts.output.write(JSON.stringify({ replies }) + '\n');
  }
}
