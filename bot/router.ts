/**
 * The core loop: one BotEvent in, the replies out. Dedupes redelivered messages, finds the
 * command, checks who may run it, validates arguments and runs the handler — a write command in
 * one transaction together with the claim of its message id, so a message is recorded once or
 * not at all.
 */
import type { BotEvent } from './event.js';
import { maskPhones, type Reply } from './reply.js';
import { isUserError, UserError } from './errors.js';
import { collectArgs, findCommand, splitCommand, validateArgs } from './parse.js';
import type { CommandDef, Ctx, Deps, HandlerResult } from './command.js';
import { T } from './texts.js';
import { localDate } from './time.js';
import { normalize } from './normalize.js';
import { inGroupCommit } from '../storage/db.js';
import { cadreByAccount, unitOfChat } from '../storage/identity.js';
import { addressCadre } from './address.js';
import { claimMessage, recordedReplies } from '../storage/inbound.js';
import { outboxJson } from './outgoing.js';
import type { Cadre } from '../storage/types.js';

const DUPLICATE = new Error('message already handled');

/** Handles one inbound event. Never throws: every failure becomes a reply or a logged refusal. */
export async function handleEvent(event: BotEvent, deps: Deps): Promise<Reply[]> {
  const { db } = deps;
  const id = event.messageId;
  try {
    const parsed = parse(event, deps);
    if (parsed?.command.mode === 'write') return await write(event, deps, parsed);
    if (id) {
      const prev = recordedReplies(db, event.platform, id);
      if (prev !== undefined) return redelivered(event, prev);
    }
    if (!parsed) return remember(event, deps, event.attachments?.length && deps.evidence ? finalize(event, deps, await deps.evidence.alone(makeCtx(event, deps))) : []);
    const { ctx, input } = authorize(event, deps, parsed);
    return remember(event, deps, finalize(event, deps, await parsed.command.handle(ctx, input as never)));
  } catch (e) {
    if (isUserError(e)) return safeRemember(event, deps, finalize(event, deps, e.message));
    // A fault is not remembered: the platform's redelivery of this message may then succeed.
    event.log.error({ err: e }, 'command failed');
    return finalize(event, deps, T.fault);
  }
}

function redelivered(event: BotEvent, recorded: string): Reply[] {
  event.log.info('redelivered message: answering with the recorded replies');
  return JSON.parse(recorded) as Reply[];
}

/**
 * A write command, entirely inside its group commit: the redelivery check, who is speaking, the
 * handler and the claim of the message id all read and write in one transaction.
 */
async function write(event: BotEvent, deps: Deps, parsed: Parsed): Promise<Reply[]> {
  const { db } = deps;
  const id = event.messageId;
  try {
    return await inGroupCommit(db, () => {
      const prev = id ? recordedReplies(db, event.platform, id) : undefined;
      if (prev !== undefined) return redelivered(event, prev);
      const { ctx, input } = authorize(event, deps, parsed);
      const result = parsed.command.handle(ctx, input as never);
      if (result instanceof Promise) throw new Error(`write command /${parsed.command.name} returned a promise`);
      if (event.attachments?.length) deps.evidence?.withCommand(ctx);
      const out = finalize(event, deps, result);
      // Claimed last, in the same transaction: if another worker handled this message
      // meanwhile, everything above is rolled back and its replies are returned instead.
      if (id && !claimMessage(db, event.platform, id, event.at.getTime(), JSON.stringify(out), outboxJson(event, out))) throw DUPLICATE;
      return out;
    });
  } catch (e) {
    if (e !== DUPLICATE) throw e;
    return JSON.parse(recordedReplies(db, event.platform, id!) ?? '[]') as Reply[];
  }
}

interface Parsed { command: CommandDef; raw: Record<string, unknown> }

/** The command and its raw arguments, without touching the database; null when not for the bot. */
function parse(event: BotEvent, deps: Deps): Parsed | null {
  const { config } = deps;
  const addressed = event.direct || event.mentionsBot;
  if (event.card) {
    const c = deps.registry.commands.find((x) => x.form === event.card!.form);
    if (!c) throw new UserError(T.badCard(String(event.card.form)));
    return { command: c, raw: cardArgs(c, event.card.values) };
  }
  const text = event.text ?? '';
  if (text.length > config.MINQING_MAX_TEXT) throw new UserError(T.tooLong(config.MINQING_MAX_TEXT, text.length));
  if (!text.trim()) {
    if (addressed && event.attachments.length === 0) throw new UserError(T.empty);
    return null;
  }
  const split = splitCommand(text, event.mentionsBot, deps.registry);
  if (!split) {
    if (addressed) throw new UserError(T.notCommandDirect);
    return null;
  }
  const command = findCommand(deps.registry, split.word);
  return { command, raw: collectArgs(command, split.body) };
}

/** Who is speaking and whether they may run the command; then the validated arguments. */
function authorize(event: BotEvent, deps: Deps, { command, raw }: Parsed): { ctx: Ctx; input: Record<string, unknown> } {
  const ctx = makeCtx(event, deps);
  if (!ctx.cadreOrNone && !command.anyone && !(command.adminOnly && ctx.isAdmin)) {
    throw new UserError(T.notBound(event.platform, event.senderId));
  }
  if (command.adminOnly && !ctx.isAdmin) throw new UserError(T.notAdmin(command.name));
  return { ctx, input: validateArgs(command, raw, ctx.now, ctx.tz) };
}

/** Card values keyed by argument key or label become the same raw strings a command would give. */
function cardArgs(c: CommandDef, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byName = new Map<string, string>();
  for (const [k, a] of Object.entries(c.args)) for (const n of [k, a.label, ...a.keys]) byName.set(normalize(n), k);
  if (values === null || typeof values !== 'object') return out;
  for (const [name, v] of Object.entries(values)) {
    const key = byName.get(normalize(name));
    if (!key || v === null || v === undefined || v === '') continue;
    out[key] = Array.isArray(v) ? v.map(String).join(' ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

type CtxWithCadre = Ctx & { cadreOrNone?: Cadre };

function makeCtx(event: BotEvent, deps: Deps): CtxWithCadre {
  const { db, config } = deps;
  const cadre = cadreByAccount(db, event.platform, event.senderId);
  const isAdmin = !!cadre?.isAdmin || config.MINQING_ADMINS.includes(`${event.platform}:${event.senderId}`);
  return {
    event,
    deps,
    db,
    now: event.at,
    today: localDate(event.at, config.MINQING_TZ),
    tz: config.MINQING_TZ,
    cadreOrNone: cadre,
    get cadre(): Cadre {
      if (!cadre) throw new UserError(T.notBound(event.platform, event.senderId));
      return cadre;
    },
    isAdmin,
    chatUnit: event.direct ? undefined : unitOfChat(db, event.platform, event.chatId),
    log: event.log,
  };
}

/** Fills in targets, reaches cadres through their accounts, masks phone numbers in groups. */
function finalize(event: BotEvent, deps: Deps, result: HandlerResult): Reply[] {
  const list = typeof result === 'string' ? [{ to: 'chat' as const, text: result }] : Array.isArray(result) ? result : [result];
  const out: Reply[] = [];
  for (const r of list) {
    if (r.to === 'chat') {
      const target = r.target ?? event.chatId;
      const inGroup = r.target ? true : !event.direct;
      out.push({ ...r, target, platform: r.platform ?? event.platform, text: inGroup ? maskPhones(r.text) : r.text });
    } else if (r.cadreId !== undefined) {
      const addressed = addressCadre(deps.db, r, event.platform);
      if (addressed) out.push(addressed);
      else event.log.warn({ cadreId: r.cadreId }, 'cadre has no chat account: message not delivered');
    } else {
      out.push({ ...r, target: r.target ?? event.senderId, platform: r.platform ?? event.platform });
    }
  }
  return out;
}

function remember(event: BotEvent, deps: Deps, replies: Reply[]): Reply[] {
  if (!event.messageId) return replies;
  const json = JSON.stringify(replies);
  if (claimMessage(deps.db, event.platform, event.messageId, event.at.getTime(), json, outboxJson(event, replies))) return replies;
  return JSON.parse(recordedReplies(deps.db, event.platform, event.messageId) ?? json) as Reply[];
}

function safeRemember(event: BotEvent, deps: Deps, replies: Reply[]): Reply[] {
  try {
    return remember(event, deps, replies);
  } catch (e) {
    event.log.error({ err: e }, 'could not record the reply of a failed message');
    return replies;
  }
}
