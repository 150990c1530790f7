/**
 * Ask, don't guess (README "How the bot reads what cadres type"): the question the bot sends for one field, and the reading of the
 * cadre's answer into the draft. The draft itself is stored by the router (storage/drafts.ts).
 *
 * An answer is read for the field that was asked: a whole answer that reads as that field is
 * taken as it is (the cadre was asked for it — `老李家门口` is then a place), otherwise values are
 * read out of the answer the same way as from a command, and any other missing field they fill
 * is kept too. `是` confirms a suggested value. An answer that gives nothing is asked again.
 */
import type { ReadEnv } from './args.js';
import type { CommandDef } from './command.js';
import { normalize } from './normalize.js';
import { collectArgs, type Ask, type Reading } from './parse.js';
import type { Reply } from './reply.js';
import { formatDate, isLocalDate } from './time.js';

export const DRAFT_MINUTES = 30;

const YES = /^(是|是的|对|对的|嗯+|好|好的|确认|没错|正确|yes|y|ok)[!！。.]*$/;
// `不是`, `不对，石门村`: the suggestion is refused; what follows (if anything) is the answer.
const NO = /^(?:不是|不对|错了|不|no|n)(?:的)?(?=[\s,，。.!！]|$)[\s,，。.!！]*/;

/**
 * `是`, `好的`, `是的，谢谢`, `对，记上吧`: a suggestion confirmed. Anything else after the yes
 * (`对，地点是红星村`, `好的，先不要记`) is no plain yes: it is read as what it says.
 */
export function isYes(text: string): boolean {
  const [first, ...rest] = clauses(text);
  return !!first && YES.test(first) && rest.every((w) => YES_TAIL.test(w));
}
/** The answer's clauses, normalised: `是，不过走访的是红星村` → 是 · 不过走访的是红星村. */
const clauses = (text: string): string[] => normalize(text.trim()).split(/[\s,，。;；!！~～]+/).filter(Boolean);
const YES_TAIL = /^(?:谢谢[啦你您了]?|谢了|多谢|感谢|辛苦了?|麻烦了?|麻烦你了|记上吧?|记下来?吧?|记一下|记录一下|记吧|记录吧|就这样|没问题|没错|对的?|是的?|确认|收到|可以|行|好的?|好滴|嗯+|ok|吧|了|呢|啊|哈|啦)[!！。.~～]*$/;
// An answer that talks about the cadre or the question is no place (`我看看。`, `稍等 我查一下`).
const NOT_A_PLACE = /我|你|忘|等|稍|查|问|再|不好意思|想不起|来着|回头|发错|聊|看看|一下|收到|不用|算了|明天|以后/;
/** `不是`, `不对`: a suggestion refused. */
export const isNo = (text: string): boolean => NO.test(normalize(text.trim()));

interface DraftLike { raw: Record<string, string>; asks: Ask[] }

export function answerDraft(c: CommandDef, draft: DraftLike, answer: string, env: ReadEnv): Reading {
  const [ask, ...rest] = draft.asks;
  const raw = { ...draft.raw };
  const a = ask && c.args[ask.key];
  // `这是要记录一次走访吗？` — `是` goes on to what the first message lacked (the router reads anything else afresh).
  if (ask?.why === 'intent') return { raw, asks: isYes(answer) ? rest : draft.asks };
  if (!ask || !a) return { raw, asks: rest };
  let text = answer.trim();
  const options = ask.options ?? [];
  const refused = NO.exec(normalize(text));
  if (refused) text = text.slice(refused[0].length).trim();
  if (!text) return { raw, asks: [{ ...ask, why: 'missing', options: undefined, note: '好的，那请直接回复正确的' + a.label }, ...rest] };
  const norm = normalize(text);
  let value: string | undefined;
  const conflicts: Ask[] = [];
  if (ask.why === 'guess' && options.length && isYes(text) && !refused) value = options[0];
  else if (ask.why === 'several') value = options.find((o) => normalize(o) === norm);
  if (value === undefined) {
    const bareText = text.trim().replace(/[。.!！~～\s]+$/, '');
    const read = collectSafe(c, text, env);
    const found = read?.raw[ask.key];
    const others = Object.keys(read?.raw ?? {}).filter((k) => k !== ask.key && !c.args[k]?.rest);
    // The asked field first from the answer's own values; the whole answer as that field only when
    // it reads as nothing else (`前天` answering a place question is a date, not a place).
    // `地点是「石门村」吗？` — `是，不过走访的是红星村`: after a yes-word, a value the answer names only
    // as a guess is what the cadre answers (elsewhere a guess in an answer is asked again).
    const yesFirst = YES.test(clauses(text)[0] ?? '');
    const guessed = ask.why === 'guess' && yesFirst
      ? read?.asks.find((x) => x.key === ask.key && x.why === 'guess' && x.options?.length === 1)?.options?.[0] : undefined;
    if (found !== undefined && !(a.rest && Object.keys(read!.raw).length > 1)) value = found;
    else if (guessed !== undefined) value = guessed;
    // The whole answer as a place only when it is a name (`老李家门口`, `村口 老槐树下`), not a sentence.
    else if (!others.length && a.read(text, env) !== null && !(a.rest && !text) && !(a.place && (/[,，;；!！?？]/.test(bareText) || NOT_A_PLACE.test(bareText) || isYes(bareText)))) {
      value = a.place ? normalize(bareText) : text;
    }
    for (const k of others) {
      const v = read!.raw[k];
      // A value already understood and now given differently is asked about, not overwritten.
      if (raw[k] === undefined) raw[k] = v;
      else if (!sameValue(c, k, raw[k], v, env)) conflicts.push({ key: k, why: 'several', options: [raw[k], v] });
    }
  }
  if (value === undefined) return { raw, asks: [{ ...ask, note: `没看懂「${text.slice(0, 20)}」` }, ...conflicts, ...rest] };
  if (conflicts.length) { raw[ask.key] = value; return { raw, asks: [...conflicts, ...rest.filter((x) => raw[x.key] === undefined)] }; }
  raw[ask.key] = value;
  return { raw, asks: rest.filter((x) => raw[x.key] === undefined || x.why !== 'missing') };
}

/** `入户` and `入户走访`, `2小时` and `两个小时`: written differently, read the same. */
function sameValue(c: CommandDef, key: string, a: string, b: string, env: ReadEnv): boolean {
  if (a === b) return true;
  const read = (s: string) => { try { return JSON.stringify(c.args[key]?.read(s, env) ?? null); } catch { return 'null'; } };
  const ra = read(a);
  return ra !== 'null' && ra === read(b);
}

function collectSafe(c: CommandDef, text: string, env: ReadEnv): Reading | null {
  try {
    return collectArgs(c, text, env);
  } catch {
    return null;
  }
}

/** `日期 11月19日 下午 · 地点 石门村 · 时长 2小时`: what was understood, for the question. */
export function understood(c: CommandDef, raw: Record<string, string>): string {
  const parts: string[] = [];
  for (const [k, a] of Object.entries(c.args)) {
    const v = raw[k];
    if (v === undefined || a.rest) continue;
    parts.push(`${a.label} ${displayRaw(k, v)}`);
  }
  return parts.join(' · ');
}

function displayRaw(key: string, v: string): string {
  const d = /^(\d{4}-\d{2}-\d{2})(?: (.+))?$/.exec(v);
  if (d && isLocalDate(d[1])) return formatDate(d[1]).replace(/^\d{4}年/, '') + (d[2] ? ` ${d[2]}` : '');
  if (key === 'duration' && /^\d+(\.\d+)?$/.test(v)) return `${v}小时`;
  return v;
}

const Q = {
  missing: (label: string, hint: string) => `还差「${label}」：请回复${hint}。`,
  several: (label: string, options: string[]) => `您写了${options.map((o) => `「${o}」`).join('、')}，不知道哪个是${label}。请回复其中一个（或正确的${label}）。`,
  intent: (what: string) => `这是要${what}吗？回复「是」继续，回复「不是」不记录。`,
  guess: (label: string, option: string) => `${label}是「${option}」吗？回复「是」确认，或直接回复${label}。`,
  seen: (s: string) => `已识别：${s}。`,
  next: (name: string) => `（下次在前面写上 /${name}，就不用再确认。）`,
  group: '（请 @我 或引用这条消息回复）',
  cancel: `发送 /取消 放弃这条记录；${DRAFT_MINUTES}分钟内回复有效。`,
};

/** The question for the first open field of a draft, with the form filled with what was understood. */
export function question(c: CommandDef, draft: DraftLike, opts: { group: boolean }): Reply {
  const ask = draft.asks[0];
  if (ask.why === 'intent') {
    const seen = understood(c, draft.raw);
    const lines = [Q.intent(ask.note ?? c.summary), ...(seen ? [Q.seen(seen)] : []), Q.next(c.name), `${opts.group ? Q.group : ''}${Q.cancel}`];
    return { to: 'chat', text: lines.join('\n'), ...(c.form ? { card: { title: c.summary, form: c.form, values: { ...draft.raw } } } : {}) };
  }
  const a = c.args[ask.key];
  const label = a?.label ?? ask.key;
  const q = ask.why === 'several' && ask.options?.length ? Q.several(label, ask.options.map((o) => displayRaw(ask.key, o)))
    : ask.why === 'guess' && ask.options?.length ? Q.guess(label, displayRaw(ask.key, ask.options[0]))
    : Q.missing(label, a?.hint ?? label);
  const seen = understood(c, draft.raw);
  // A guess says its own question (`日期是「昨天」吗`); other notes say what was not understood.
  const head = ask.why === 'guess' && ask.note ? `${ask.note}？回复「是」确认，或直接回复${label}。` : ask.note ? `${ask.note}。${q}` : q;
  const lines = [head, ...(seen ? [Q.seen(seen)] : []), `${opts.group ? Q.group : ''}${Q.cancel}`];
  return {
    to: 'chat', text: lines.join('\n'),
    ...(c.form ? { card: { title: `补充${label}`, form: c.form, values: { ...draft.raw } } } : {}),
  };
}
