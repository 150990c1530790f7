/**
 * The core loop: one BotEvent in, the replies out. Dedupes redelivered messages, finds the
 * command, checks who may run it, validates arguments and runs the handler — a write command in
 * one transaction together with the claim of its message id, so a message is recorded once or
 * not at all.
 */
import type { BotEvent } from './event.js';
import { maskPhones, type Reply } from './reply.js';
import { AskFor, isUserError, UserError } from './errors.js';
import { argKeyOf, collectArgs, findCommand, intentOf, isQuestion, leadingCommandWord, splitCommand, validateArgs, type Reading } from './parse.js';
import type { ReadEnv } from './args.js';
import { answerDraft, isNo, isYes, question, DRAFT_MINUTES } from './drafts.js';
import { draftOf, dropDraft, dropIntentDraft, saveDraft, type Draft } from '../storage/drafts.js';
import { knownPlaces } from '../storage/places.js';
import type { CommandDef, Ctx, Deps, HandlerResult } from './command.js';
import { T } from './texts.js';
import { localDate } from './time.js';
import { normalize } from './normalize.js';
import { cadreByAccount, unitOfChat } from '../storage/identity.js';
import { addressCadre } from './address.js';
import { claimMessage, recordedReplies } from '../storage/inbound.js';
import { outboxJson } from './outgoing.js';
import type { Cadre } from '../storage/types.js';
import type { Db } from '../storage/db.js';
import type { InboundOutcome } from './metrics.js';

const DUPLICATE = new Error('message already handled');

/** How an event ended when it did not simply end handled or ignored (counted by `deps.metrics`). */
const outcomes = new WeakMap<BotEvent, InboundOutcome>();

/** Handles one inbound event. Never throws: every failure becomes a reply or a logged refusal. */
export async function handleEvent(event: BotEvent, deps: Deps): Promise<Reply[]> {
  const replies = await handleOne(event, deps);
  deps.metrics?.inbound(event.platform, outcomes.get(event) ?? (replies.length ? 'handled' : 'ignored'));
  outcomes.delete(event);
  return replies;
}

async function handleOne(event: BotEvent, deps: Deps): Promise<Reply[]> {
  const { db } = deps;
  const id = event.messageId;
  try {
    const parsed = await parse(event, deps);
    // A question `这是要记录…吗？` is not left open behind another command, for a later `好的` to
    // confirm — whether that command succeeds or is refused; a redelivered command changes nothing.
    // (A write that runs drops or replaces the draft itself, in its transaction; a refused one does not.)
    const other = !!parsed && !parsed.draft && !parsed.guessed;
    const dropQuestion = () => dropIntentDraft(db, event.platform, event.chatId, event.senderId, event.at.getTime());
    if (parsed?.command.mode === 'write') {
      try {
        return await write(event, deps, parsed);
      } catch (e) {
        if (other) await dropQuestion().catch((err: unknown) => event.log.warn({ err }, 'could not drop a question'));
        throw e;
      }
    }
    if (id) {
      const prev = await recordedReplies(db, event.platform, id);
      if (prev !== undefined) return redelivered(event, prev);
    }
    if (other) await dropQuestion();
    if (!parsed) return await remember(event, deps, event.attachments?.length && deps.evidence ? await finalize(event, deps, await deps.evidence.alone(await makeCtx(event, deps, db))) : []);
    const { ctx, input } = await authorize(event, deps, db, parsed);
    return await remember(event, deps, await finalize(event, deps, await parsed.command.handle(ctx, input as never)));
  } catch (e) {
    if (isUserError(e)) {
      outcomes.set(event, 'rejected');
      return safeRemember(event, deps, e.message);
    }
    // A fault is not remembered: the platform's redelivery of this message may then succeed.
    outcomes.set(event, 'error');
    event.log.error({ err: e }, 'command failed');
    return finalize(event, deps, T.fault).catch(() => [{ to: 'chat' as const, target: event.chatId, platform: event.platform, text: T.fault }]);
  }
}

/** Work a write command left for after its commit: started, not awaited; a failure is logged. */
function runLater(event: BotEvent, later: Array<() => unknown>): void {
  for (const fn of later) {
    void Promise.resolve().then(fn).catch((err: unknown) => event.log.warn({ err }, 'work after the commit failed'));
  }
}

function redelivered(event: BotEvent, recorded: string): Reply[] {
  outcomes.set(event, 'redelivered');
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
    const later: Array<() => unknown> = [];
    const out = await db.withWrite(async (tx) => {
      later.length = 0;
      const prev = id ? await recordedReplies(tx, event.platform, id) : undefined;
      if (prev !== undefined) return redelivered(event, prev);
      const out = await finalize(event, deps, await runWrite(event, deps, tx, parsed, later), tx);
      // Claimed last, in the same transaction: if another worker handled this message
      // meanwhile, everything above is rolled back and its replies are returned instead.
      if (id && !(await claimMessage(tx, event.platform, id, event.at.getTime(), JSON.stringify(out), outboxJson(event, out)))) throw DUPLICATE;
      return out;
    });
    runLater(event, later);
    return out;
  } catch (e) {
    if (e !== DUPLICATE) throw e;
    outcomes.set(event, 'redelivered');
    return JSON.parse((await recordedReplies(db, event.platform, id!)) ?? '[]') as Reply[];
  }
}

/**
 * The handler of a write command, with the draft kept in step: a field that must be asked for
 * becomes a draft and a question; a record made from a draft deletes it — in the same
 * transaction, so a redelivered answer finds the message claimed and makes nothing twice.
 */
async function runWrite(event: BotEvent, deps: Deps, db: Db, parsed: Parsed, later: Array<() => unknown>): Promise<HandlerResult> {
  const where = [event.platform, event.chatId, event.senderId] as const;
  let reading: Reading | undefined;
  if (parsed.guessed) return askIntent(event, deps, db, parsed);
  try {
    const { ctx, input, reading: r } = await authorize(event, deps, db, parsed, later);
    reading = r;
    const result = await parsed.command.handle(ctx, input as never);
    const attached = event.attachments?.length ? await deps.evidence?.withCommand(ctx) : undefined;
    // Any record made by this cadre here supersedes the question (a card submitted instead of an answer too).
    // The draft is gone already when another answer to it (a double tap, sent twice) committed first.
    if (!(await dropDraft(db, ...where, event.at.getTime())) && parsed.draft) throw new UserError(T.answeredTwice);
    return attached ? withLine(result, attached) : result;
  } catch (e) {
    // The reader's question carries what it understood; a handler's is asked over the reading.
    const raw = e instanceof AskFor ? e.raw ?? reading?.raw : undefined;
    if (!(e instanceof AskFor) || !raw) throw e;
    const c = parsed.command;
    if (c.adminOnly || !c.args[e.ask.key]) throw new UserError(T.badArgs([T.missing(c.args[e.ask.key]?.label ?? e.ask.key)], c));
    const now = event.at.getTime();
    const draft: Draft = {
      platform: event.platform, chatId: event.chatId, senderId: event.senderId, command: c.name,
      raw, asks: [e.ask, ...e.rest], createdAt: now, expiresAt: now + DRAFT_MINUTES * 60_000,
    };
    await saveDraft(db, draft);
    return question(c, draft, { group: !event.direct });
  }
}

/**
 * A message with no command word that reads like a record (`昨天去石门村走访了三户`): nothing is
 * stored yet; the bot asks whether that record is meant, showing what it read, and keeps a draft
 * that `是` completes (or that asks next for what is missing).
 */
async function askIntent(event: BotEvent, deps: Deps, db: Db, parsed: Parsed): Promise<HandlerResult> {
  const c = parsed.command;
  const ctx = await makeCtx(event, deps, db);
  if (!ctx.cadreOrNone) throw new UserError(T.notBound(event.platform, event.senderId));
  const reading = collectArgs(c, parsed.body ?? '', await readEnv(ctx, c));
  const now = event.at.getTime();
  const draft: Draft = {
    platform: event.platform, chatId: event.chatId, senderId: event.senderId, command: c.name, raw: reading.raw,
    asks: [{ key: '', why: 'intent', note: c.intent?.what }, ...reading.asks], createdAt: now, expiresAt: now + DRAFT_MINUTES * 60_000,
  };
  await saveDraft(db, draft);
  return question(c, draft, { group: !event.direct });
}

/** Adds a line (the evidence attached with the command) to the first reply to the chat. */
function withLine(result: HandlerResult, line: string): HandlerResult {
  if (typeof result === 'string') return `${result}\n${line}`;
  const list = Array.isArray(result) ? [...result] : [result];
  const i = list.findIndex((r) => r.to === 'chat');
  if (i < 0) return [...list, { to: 'chat', text: line }];
  list[i] = { ...list[i], text: `${list[i].text}\n${line}` };
  return list;
}

interface Parsed {
  command: CommandDef;
  /** The text after the command word, read once the sender (and so the known places) is known. */
  body?: string;
  /** Card values keyed by argument. */
  card?: Record<string, string>;
  /** Read from a message without a command word: asked about before anything is stored. */
  guessed?: boolean;
  /** A draft this message answers. */
  draft?: Draft;
  answer?: string;
}

/** The command and its raw arguments, without touching the database; null when not for the bot. */
async function parse(event: BotEvent, deps: Deps): Promise<Parsed | null> {
  const { config } = deps;
  const addressed = event.direct || event.mentionsBot;
  if (event.card) {
    const c = deps.registry.commands.find((x) => x.form === event.card!.form);
    if (!c) throw new UserError(T.badCard(String(event.card.form)));
    return { command: c, card: cardArgs(c, event.card.values) };
  }
  const text = event.text ?? '';
  if (text.length > config.MINQING_MAX_TEXT) throw new UserError(T.tooLong(config.MINQING_MAX_TEXT, text.length));
  if (!text.trim()) {
    if (addressed && event.attachments.length === 0) throw new UserError(T.empty);
    return null;
  }
  const split = splitCommand(text, event.mentionsBot, deps.registry);
  if (!split) {
    let declined = false;
    // In a direct chat any text answers the open question; in a group, an @-mention or a reply.
    if (addressed || event.replyTo) {
      const draft = await draftOf(deps.db, event.platform, event.chatId, event.senderId, event.at.getTime());
      const command = draft && deps.registry.get(draft.command);
      if (draft && command) {
        const intent = draft.asks[0]?.why === 'intent';
        // In a group the question `这是要记录…吗？` is answered only to the bot, not by a `好的` to someone else.
        if (intent && !addressed) return null;
        // `算了`, `好的，先不记了`: the question is given up, not answered with a place called 算了.
        const cancel = GIVE_UP.test(normalize(text).trim()) ? deps.registry.get('取消') : undefined;
        if (cancel) return { command: cancel, body: '' };
        if (!intent || isYes(text)) return { command, draft, answer: text };
        // `这是要记录一次走访吗？` not confirmed. A redelivered message changes nothing (its recorded
        // replies go out again), nor does a message with a photo.
        if (event.attachments.length) return null;
        if (event.messageId && (await recordedReplies(deps.db, event.platform, event.messageId)) !== undefined) return { command, draft, answer: text };
        // Nothing is kept; `不是` is answered, anything else read afresh.
        await dropDraft(deps.db, event.platform, event.chatId, event.senderId, event.at.getTime());
        if (isNo(text)) throw new UserError(T.notMeant);
        declined = true;
      }
    }
    // A photo or file with a caption that is no command is evidence, like one without a caption
    // (handlers/evidence.ts): never dropped for a greeting.
    if (!addressed || event.attachments.length) return null;
    // In a direct chat every message is addressed to the bot: with no question open, a leading
    // command word of its own needs no slash there (`走访 昨天 石门村 1天`), as after an
    // @-mention in a group; a word that only starts with one (`问题是…`, `解决了…`) is no command.
    const bare = leadingCommandWord(text, deps.registry);
    if (bare) return { command: findCommand(deps.registry, bare.word), body: bare.body };
    // A short question about a command (`走访怎么填？`) gets its help.
    const named = isQuestion(text) && text.length <= 16 ? splitCommand(text, true, deps.registry) : null;
    const help = deps.registry.get('帮助');
    if (named && help) return { command: help, body: named.word };
    const meant = intentOf(text, deps.registry);
    if (meant.length === 1) return { command: meant[0], body: text, guessed: true };
    throw new UserError(meant.length ? T.whichCommand(meant.map((c) => c.name)) : declined ? T.notMeant : T.notCommandDirect);
  }
  const command = findCommand(deps.registry, split.word);
  return { command, body: split.body };
}

// The whole message gives the question up: `算了`, `好的，先不记了` — not `算了一下，大概三个小时`.
const GIVE_UP = /^(?:好的?|嗯|那)?[\s,，]*(?:算了|不记了|先不记了?|不用记了?|不要记了?|别记了?|先别记了?|不填了|不报了|先不填了?|先不报了?|取消|不用了)(?:吧|了|啦)?(?:[\s,，。.!！~～]+(?:明天再说|回头再补|以后再说|改天再说|再说吧?|下次再说|谢谢))?[\s,，。.!！~～]*$/;

/** Who is speaking and whether they may run the command; then the validated arguments. */
async function authorize(event: BotEvent, deps: Deps, db: Db, parsed: Parsed, later?: Array<() => unknown>): Promise<{ ctx: Ctx; input: Record<string, unknown>; reading: Reading }> {
  const { command } = parsed;
  const ctx = await makeCtx(event, deps, db, later);
  if (!ctx.cadreOrNone && !command.anyone && !(command.adminOnly && ctx.isAdmin)) {
    throw new UserError(T.notBound(event.platform, event.senderId));
  }
  if (command.adminOnly && !ctx.isAdmin) throw new UserError(T.notAdmin(command.name));
  const env = await readEnv(ctx, command);
  const reading: Reading = parsed.draft ? answerDraft(command, parsed.draft, parsed.answer ?? '', env)
    : parsed.card ? { raw: parsed.card, asks: [] }
    : collectArgs(command, parsed.body ?? '', env);
  try {
    return { ctx, input: validateArgs(command, reading, env), reading };
  } catch (e) {
    // A read-only command has no draft: what it lacks is said, not asked.
    if (e instanceof AskFor && (command.mode === 'read' || command.adminOnly)) {
      throw new UserError(T.badArgs([e.ask.note ?? T.missing(command.args[e.ask.key]?.label ?? e.ask.key)], command));
    }
    throw e;
  }
}

/** The places are looked up only for a command that reads one. */
function readEnv(ctx: Ctx, command: CommandDef): Promise<ReadEnv> | ReadEnv {
  return Object.values(command.args).some((a) => a.place) ? ctx.readEnv() : { now: ctx.now, tz: ctx.tz, today: ctx.today, places: [] };
}

/** Card values keyed by argument key or label become the same raw strings a command would give. */
function cardArgs(c: CommandDef, values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (values === null || typeof values !== 'object') return out;
  for (const [name, v] of Object.entries(values)) {
    const key = argKeyOf(c, name);
    if (!key || v === null || v === undefined || v === '') continue;
    const text = Array.isArray(v) ? v.map(String).join(' ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // Places are stored in their simplified spelling, as from a typed message.
    out[key] = c.args[key].place ? normalize(text) : text;
  }
  return out;
}

type CtxWithCadre = Ctx & { cadreOrNone?: Cadre };

/**
 * `db`: the transaction of a write command, or the handle itself for a read. `later`: where a
 * write command's after-commit work waits (none: it runs at once).
 */
async function makeCtx(event: BotEvent, deps: Deps, db: Db, later?: Array<() => unknown>): Promise<CtxWithCadre> {
  const { config } = deps;
  const cadre = await cadreByAccount(db, event.platform, event.senderId);
  const isAdmin = !!cadre?.isAdmin || config.MINQING_ADMINS.includes(`${event.platform}:${event.senderId}`);
  const today = localDate(event.at, config.MINQING_TZ);
  let env: Promise<ReadEnv> | undefined;
  return {
    event,
    deps,
    db,
    now: event.at,
    today,
    tz: config.MINQING_TZ,
    readEnv(): Promise<ReadEnv> {
      return (env ??= knownPlaces(db, cadre?.id, normalize).then((p) => ({ now: event.at, tz: config.MINQING_TZ, today, places: p.shared, ownPlaces: p.own })));
    },
    cadreOrNone: cadre,
    get cadre(): Cadre {
      if (!cadre) throw new UserError(T.notBound(event.platform, event.senderId));
      return cadre;
    },
    isAdmin,
    chatUnit: event.direct ? undefined : await unitOfChat(db, event.platform, event.chatId),
    afterCommit(fn) {
      if (later) later.push(fn);
      else runLater(event, [fn]);
    },
    log: event.log,
  };
}

/** Fills in targets, reaches cadres through their accounts, masks phone numbers in groups. */
async function finalize(event: BotEvent, deps: Deps, result: HandlerResult, db: Db = deps.db): Promise<Reply[]> {
  const list = typeof result === 'string' ? [{ to: 'chat' as const, text: result }] : Array.isArray(result) ? result : [result];
  const out: Reply[] = [];
  for (const r of list) {
    if (r.to === 'chat') {
      const target = r.target ?? event.chatId;
      const inGroup = r.target ? true : !event.direct;
      out.push({ ...r, target, platform: r.platform ?? event.platform, text: inGroup ? maskPhones(r.text) : r.text });
    } else if (r.cadreId !== undefined) {
      const addressed = await addressCadre(db, r, event.platform);
      if (addressed) out.push(addressed);
      else event.log.warn({ cadreId: r.cadreId }, 'cadre has no chat account: message not delivered');
    } else {
      out.push({ ...r, target: r.target ?? event.senderId, platform: r.platform ?? event.platform });
    }
  }
  return out;
}

async function remember(event: BotEvent, deps: Deps, replies: Reply[]): Promise<Reply[]> {
  if (!event.messageId) return replies;
  const json = JSON.stringify(replies);
  if (await claimMessage(deps.db, event.platform, event.messageId, event.at.getTime(), json, outboxJson(event, replies))) return replies;
  return JSON.parse((await recordedReplies(deps.db, event.platform, event.messageId)) ?? json) as Reply[];
}

/** A refusal is remembered like an answer; if even that fails, it is still sent. */
async function safeRemember(event: BotEvent, deps: Deps, text: string): Promise<Reply[]> {
  let replies: Reply[] = [];
  try {
    replies = await finalize(event, deps, text);
    return await remember(event, deps, replies);
  } catch (e) {
    event.log.error({ err: e }, 'could not record the reply of a failed message');
    return replies.length ? replies : [{ to: 'chat', target: event.chatId, platform: event.platform, text }];
  }
}
