/**
 * The console's JSONL face (README "JSONL mode"), the scriptable interface of the bot: one JSON object per
 * input line, exactly one `{"replies":[…]}` line out for each, in order. A bad line is answered,
 * never fatal. Lines are handled concurrently, in order per sender and per chat ({@link runJsonl}).
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

// The pattern of a bot name, compiled once per name (a constant of the deployment).
const mentionPatterns = new Map<string, RegExp>();

/** Leading `@民情` (the bot's name) addresses the bot, as a mention does on the platforms. */
export function stripBotMention(text: string, botName: string): { text: string; mentionsBot: boolean } {
  let re = mentionPatterns.get(botName);
  if (!re) mentionPatterns.set(botName, (re = new RegExp(`^\\s*[@＠](?:${botName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|bot)(?:[\\s\\u3000]+|$)`, 'i')));
  const m = re.exec(text);
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

/** Lines read ahead and not yet written, at most (the default of {@link runJsonl}'s `inFlight`). */
export const IN_FLIGHT = 256;

/**
 * Reads ahead and handles up to `inFlight` lines at once, so write commands share the group
 * commits of storage/db.ts, and writes each answer in input order. A line still sees everything
 * the earlier lines of its sender and of its chat did: lines sharing a sender or a chat run one
 * after the other, each once the latest earlier line with either key is answered (lines of other
 * senders in other chats may overtake it). A line's `at` is its clock, as it always was.
 * Output waits for `drain` when the reader is slow, and reading waits for output: memory stays
 * flat however long the input.
 */
export async function runJsonl(opts: {
  input: Readable; output: Writable; log: Logger; botName: string;
  handle: (e: BotEvent) => Promise<Reply[]>;
  /** Lines read but not yet written, at most (default {@link IN_FLIGHT}; 1 handles one line at a time). */
  inFlight?: number;
}): Promise<void> {
  const limit = Math.max(1, Math.floor(opts.inFlight ?? IN_FLIGHT));
  const rl = createInterface({ input: opts.input, crlfDelay: Infinity });
  const keys = new KeyChains();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failed: { error: unknown } | undefined;
  /** The writer: one step per line, in input order. */
  let written: Promise<void> = Promise.resolve();
  const writer = new LineWriter(opts.output);

  const answer = (raw: string): Promise<string> => {
    const d = decodeLine(raw, opts.log, opts.botName);
    if ('error' in d) return Promise.resolve(JSON.stringify({ replies: [{ to: 'chat', target: PLATFORM, text: d.error }] }) + '\n');
    const e = d.event;
    return keys.run([`user:${e.senderId}`, `chat:${e.chatId}`], () => opts.handle(e))
      .then((replies) => JSON.stringify({ replies: replies.map(encodeReply) }) + '\n');
  };

  for await (const raw of rl) {
    if (!raw.trim()) continue;
    while (inFlight >= limit && !failed) await new Promise<void>((res) => { wake = res; });
    if (failed) break;
    inFlight++;
    const out = answer(raw);
    // A line stays in flight until the stream took it; the writer moves on to the next line at
    // once, so the lines answered in one turn go out in one write.
    const release = () => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    written = written.then(async () => {
      let line: string;
      try {
        line = await out;
      } catch (error) {
        // As before, a line whose handling threw ends the run: nothing after it is written (lines
        // after it already under way still finish, as a crash would leave them).
        failed ??= { error };
        return release();
      }
      if (failed) return release();
      writer.write(line).then(release, (error: unknown) => { failed ??= { error }; release(); });
    });
  }
  await written;
  try {
    await writer.end();
  } catch (error) {
    failed ??= { error };
  }
  if (failed) throw failed.error;
}

/**
 * Lines written together once per turn of the event loop: a pipe write is a system call, and the
 * lines of a group commit are answered together. Order is kept (one buffer, appended in order).
 * `write` resolves once its line is in the stream — after `drain` when the stream's buffer was
 * full — so a line counts as in flight until then and memory stays flat.
 */
class LineWriter {
  private buffer: string[] = [];
  private batch: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** The previous batch, until the stream took it. */
  private previous: Promise<void> = WRITTEN;

  constructor(private readonly output: Writable) {}

  write(line: string): Promise<void> {
    this.buffer.push(line);
    if (!this.batch) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      this.batch = { promise, resolve, reject };
      setImmediate(() => this.flush());
    }
    return this.batch.promise;
  }

  /** Writes what is buffered now and waits until the stream took it. */
  async end(): Promise<void> {
    this.flush();
    await this.previous;
  }

  private flush(): void {
    const batch = this.batch;
    if (!batch) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.batch = undefined;
    // Behind the previous batch's wait for drain, never beside it.
    const done = this.previous === WRITTEN ? writeLine(this.output, text) : this.previous.then(() => writeLine(this.output, text));
    done.then(batch.resolve, batch.reject);
    if (done === WRITTEN) return;
    const tail: Promise<void> = done.then(() => { if (this.previous === tail) this.previous = WRITTEN; });
    tail.catch(() => undefined);
    this.previous = tail;
  }
}

const WRITTEN = Promise.resolve();

/**
 * Per-key order: a task starts once the latest earlier task sharing any of its keys settled.
 * Only keys with a task pending are kept.
 */
class KeyChains {
  private tails = new Map<string, Promise<void>>();

  run<T>(keys: string[], task: () => Promise<T>): Promise<T> {
    const before = [...new Set(keys)].flatMap((k) => this.tails.get(k) ?? []);
    const result = before.length ? Promise.all(before).then(task) : start(task);
    const done = result.then(() => undefined, () => undefined);
    for (const k of keys) this.tails.set(k, done);
    void done.then(() => { for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k); });
    return result;
  }
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try { return task(); } catch (e) { return Promise.reject(e); }
}

/** Writes `line`; when the stream's buffer is full, resolves on `drain` (rejects if it fails first). */
function writeLine(output: Writable, line: string): Promise<void> {
  if (output.write(line)) return WRITTEN;
  // Closed already: its 'close' has been emitted and would never be heard.
  if (output.destroyed || output.closed) return Promise.reject(new Error('output closed'));
  return new Promise<void>((resolve, reject) => {
    const done = (e?: unknown) => {
      output.off('drain', onDrain).off('error', onError).off('close', onClose);
      if (e) reject(e); else resolve();
    };
    const onDrain = () => done();
    const onError = (e: unknown) => done(e);
    const onClose = () => done(new Error('output closed'));
    output.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}
