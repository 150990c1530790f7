/**
 * What the platform adapters share: the dependencies they are handed, the in-process memory of
 * deliveries already seen, the quick-ack helper, reply delivery, and the card forms derived from
 * the command declarations (so an adapter renders forms without importing `handlers/`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { BotEvent } from '../event.js';
import type { Reply } from '../reply.js';
import type { Outgoing } from '../outgoing.js';
import { usageOf, type ArgDefs, type CommandDef } from '../command.js';

/** Handed to every adapter by the composition root. */
export interface AdapterDeps {
  /** The core router: it dedupes by message id and returns the recorded replies of a redelivery. */
  handle: (e: BotEvent) => Promise<Reply[]>;
  log: Logger;
  /** `Outbound.send`: every reply goes through the per-target limiter. */
  send: (reply: Reply, key: string) => Promise<void>;
  /**
   * The reply outbox (`ReplyDelivery` in bot/delivery.ts). When present, the replies of a message
   * the router recorded are delivered from it — with retries, and never again for a redelivery;
   * replies it did not record (a fault's apology) are sent once directly.
   */
  outbox?: { settle(platform: string, messageId: string | undefined, replies: Array<Reply | Outgoing>, origin: { chatId: string; direct: boolean; senderId?: string }): Promise<void> };
  /**
   * Remembers a request proof (a DingTalk `(timestamp, sign)` pair) until `expiresAt`, durably;
   * false when it was seen before, i.e. the request is a replay.
   */
  firstSeen?: (scope: string, proof: string, expiresAt: number) => Promise<boolean>;
}

/**
 * Ids of deliveries this process has already taken. The router answers a redelivered message
 * with its recorded replies; dropping the redelivery here is what keeps a second copy of those
 * replies from being sent.
 */
export class SeenIds {
  private ids = new Map<string, number>();

  constructor(private max = 20_000, private ttlMs = 24 * 3_600_000, private now: () => number = Date.now) {}

  /** True when `id` was seen before; otherwise remembers it and returns false. */
  check(id: string): boolean {
    const t = this.now();
    const at = this.ids.get(id);
    if (at !== undefined && t - at < this.ttlMs) return true;
    this.ids.delete(id);
    this.ids.set(id, t);
    while (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value as string);
    return false;
  }

  forget(id: string): void {
    this.ids.delete(id);
  }
}

/** Work started for a delivery that may outlive the platform's ack window; `idle()` awaits it. */
export class InFlight {
  private running = new Set<Promise<unknown>>();

  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = () => { this.running.delete(p); };
    p.then(done, done);
    return p;
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

export const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `p` at most `ms`. Platforms resend a callback that is not answered in time (Feishu
 * about 3 s), so the answer goes out when the work is done or the window closes, whichever is
 * first; the work itself carries on.
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((r) => { timer = setTimeout(() => r(TIMED_OUT), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The idempotency key of the i-th reply to a message; stable across redeliveries and restarts. */
export function replyKey(platform: string, messageId: string, index: number): string {
  return `${platform}:${messageId}:${index}`;
}

/** Sends the replies in order; a failed one is logged and does not stop the others. */
export async function deliver(replies: Reply[], deps: AdapterDeps, platform: string, messageId: string, log: Logger): Promise<number> {
  let sent = 0;
  for (const [i, r] of replies.entries()) {
    try {
      await deps.send(r, replyKey(platform, messageId, i));
      sent++;
    } catch (err) {
      log.error({ err, to: r.to, target: r.target }, 'reply could not be delivered');
    }
  }
  return sent;
}

/**
 * Runs one event through the core and sends its replies. Never rejects: a failure is logged and
 * comes back as `undefined`, so the caller can forget the delivery and let a resend retry it.
 */
export async function handleAndDeliver(event: BotEvent, deps: AdapterDeps, platform: string): Promise<Reply[] | undefined> {
  try {
    const replies = await deps.handle(event);
    if (deps.outbox) await deps.outbox.settle(event.platform, event.messageId, replies, { chatId: event.chatId, direct: event.direct, senderId: event.senderId });
    else await deliver(replies, deps, platform, event.messageId ?? 'no-id', event.log);
    return replies;
  } catch (err) {
    event.log.error({ err }, 'event could not be handled');
    return undefined;
  }
}

/** The in-process fallback of `AdapterDeps.firstSeen`: forgotten on restart. */
export function memoryProofs(now: () => number = Date.now): NonNullable<AdapterDeps['firstSeen']> {
  const seen = new Map<string, number>();
  return async (scope, proof, expiresAt) => {
    const k = `${scope}\u0000${proof}`;
    const t = now();
    const until = seen.get(k);
    if (until !== undefined && until >= t) return false;
    seen.set(k, expiresAt);
    if (seen.size > 100_000) for (const [key, exp] of seen) if (exp < t) seen.delete(key);
    return true;
  };
}

/** Constant-time comparison of two strings (signatures, tokens). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A platform instant in ms, or `fallback` when it is missing, malformed or beyond what a Date holds. */
export function instant(ms: unknown, fallback: number): Date {
  const n = Number(ms);
  return new Date(Number.isFinite(n) && n > 0 && n < 8.64e15 ? n : fallback);
}

export function sha256Hex(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** One input of a card form: named by the command's argument key, so the router maps it back. */
export interface FormField {
  name: string;
  label: string;
  hint: string;
  required: boolean;
  /** The free text at the end (content, activity): a multi-line box. */
  multiline: boolean;
}

export interface FormSpec {
  form: string;
  /** The command the form submits, e.g. '走访'. */
  command: string;
  title: string;
  usage: string;
  example?: string;
  fields: FormField[];
}

export type Forms = Record<string, FormSpec>;

/** The card forms of every command that declares one — built by the composition root. */
export function formsFromCommands(commands: CommandDef<any>[]): Forms {
  const out: Forms = {};
  for (const c of commands) {
    if (!c.form) continue;
    out[c.form] = {
      form: c.form,
      command: c.name,
      title: c.summary,
      usage: usageOf(c),
      example: c.examples[0],
      fields: Object.entries(c.args as ArgDefs).map(([name, a]) => ({
        name, label: a.label, hint: a.hint, required: !a.optional, multiline: !!a.rest,
      })),
    };
  }
  return out;
}
