/**
 * The command language: `/` or `／` (or an @-mention of the bot) then a command name; arguments
 * as `键：值` pairs, or read out of the whole text — positional words in any order, values inside
 * sentences, one per line. Everything here is derived from the command declarations, so a new
 * command needs no change in this file.
 *
 * How a body is read (README "How the bot reads what cadres type"):
 * 1. one normalisation pass (bot/normalize.ts), positions kept;
 * 2. keyed fields (`时限：12月31日`) are taken out first;
 * 3. every typed argument's recogniser runs over the whole text; overlapping spans keep the
 *    longest;
 * 4. the head of the message — the leading run of values, separators and filler words (去, 在,
 *    用时 …) — is where dates, references and places count; the rest is content;
 * 5. a value that is missing, ambiguous, or could only be a guess becomes a question
 *    ({@link Reading.asks}) instead of a default or a leftover word.
 */
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import type { ArgDef, ReadEnv } from './args.js';
import { AskFor, UserError, type Ask } from './errors.js';
import { normalize, normalizeText } from './normalize.js';
import { PLACE_SUFFIXES, placeShapeAt, placeTailAt, VILLAGE_WORD, type Found } from './spans.js';
import { usageOf, type CommandDef, type Registry } from './command.js';
import { T } from './texts.js';

export interface CommandText {
  /** The command word as typed, e.g. '走訪'. */
  word: string;
  body: string;
}

const PREFIX = /^[\/／]\s*/;
const POLITE = /^(?:请|麻烦|帮忙|帮我)\s?/;
const WORD_END = /[\s\u3000,，.。;；:：!！?？、#＃@＠\d]/;

/**
 * Splits off the command word. The word ends at a space, any punctuation, `#` or a digit
 * (`/走访：昨天…`, `/督办#28`, `/我的。`); voice input glues it to the arguments (`/走访昨天石门村`),
 * so the longest command name the text starts with wins. Returns null when the message is not a
 * command: no slash, and either the bot was not mentioned or the first word names no command.
 */
export function splitCommand(text: string, mentionsBot: boolean, registry: Registry): CommandText | null {
  const t = text.trim();
  const slashed = PREFIX.test(t);
  if (!slashed && !mentionsBot) return null;
  // `@民情 请督办 #10`, `/麻烦登记一下…`: a polite word before the command word is no part of it.
  const bare = t.replace(PREFIX, '');
  const polite = POLITE.exec(bare);
  const rest = polite && registry.get(normalize(bare.slice(polite[0].length, polite[0].length + 2))) ? bare.slice(polite[0].length) : bare;
  if (!rest) return slashed ? { word: '', body: '' } : null;
  // Only the start decides the command: no need to fold the whole message twice.
  const norm = normalizeText(rest.slice(0, 40));
  let end = 0;
  while (end < norm.length && !WORD_END.test(norm[end])) end++;
  if (end > 0 && registry.get(normalize(rest.slice(0, end)))) return { word: rest.slice(0, end), body: rest.slice(end) };
  // Longest registered name that the text starts with.
  for (let n = Math.min(end, 12); n > 0; n--) {
    if (registry.get(norm.slice(0, n))) return { word: rest.slice(0, n), body: rest.slice(n) };
  }
  if (!slashed) return null;
  return { word: rest.slice(0, end || 1), body: rest.slice(end || 1) };
}

// A question to the bot (`走访怎么填？`, `我这个月走访了几次`) is no record, whatever words it has.
const ASKING = /[?？]|怎么|如何|多少|几次|几户|吗$|呢$/;

export const isQuestion = (text: string): boolean => /[?？]/.test(text) || ASKING.test(normalizeText(text).trim());

/** The commands a message without a command word may mean, by their intent words (bot/command.ts). */
export function intentOf(text: string, registry: Registry): CommandDef[] {
  if (isQuestion(text)) return [];
  const norm = normalizeText(text);
  return registry.commands.filter((c) => c.intent?.words.test(norm));
}

/** `走访 昨天 石门村 1天`: a registered name that is the whole first word (not `问题是…`). */
export function leadingCommandWord(text: string, registry: Registry): CommandText | null {
  const t = text.trim();
  const norm = normalizeText(t.slice(0, 40));
  let end = 0;
  while (end < norm.length && !WORD_END.test(norm[end])) end++;
  return end > 0 && registry.get(normalize(t.slice(0, end))) ? { word: t.slice(0, end), body: t.slice(end) } : null;
}

export function findCommand(registry: Registry, word: string): CommandDef {
  const c = registry.get(normalize(word));
  if (c) return c;
  const names = registry.names;
  const guess = names.length ? closest(normalize(word), names) : undefined;
  const near = guess && distance(normalize(word), guess) <= Math.max(2, Math.ceil(guess.length / 2));
  throw new UserError(T.unknownCommand(word, near ? registry.get(guess)!.name : undefined));
}

export type { Ask } from './errors.js';

export interface Reading {
  /** Canonical raw strings per argument key; `read` of each gives the value. */
  raw: Record<string, string>;
  asks: Ask[];
}

// Words around values in a sentence that belong to no value: `昨天下午去石门村走访了三户，用时两个小时`.
// Spoken fillers (`嗯 那个昨天…`, `下午哈在县福利院`) and `延两个礼拜`, `往后延30天` lead the head too.
const FILLER = /^(?:嗯+|呃|那个(?=[昨今前上本这大周\d一二三四五六七八九十])|哈(?=[在去到\s])|一早就|一早|下基层|走了一?趟|往后延|往后推|顺延|延(?:到|至)?(?=[\d一二两三四五六七八九十半明今下本])|(?:和|与|跟|同)[\u4e00-\u9fa5]{1,6}?一起|\d{1,2}点(?:半|\d{1,2}分?)?钟?|[一二三四五六七八九十]{1,3}点(?:半)?钟?|\d{1,2}:\d{2}|这边|那边|这里|那里|跑了|再给|再延长|今天补报|今天补录|今天补填|补报一下|补报|补录|补填|忘记报了|忘了报了?|今天我|我们|我|本人|和|与|及|跟|同|对|给|为|共计|共|合计|总计|约|大约|大概|左右|用时|历时|耗时|花了|花费|用了|时长|时间|一共|去了|去|到了|到|在|赴|前往|来到|深入|下沉到?|走访了?|入户走访了?|看望了?|慰问了?|开展了?|进行了?|参加了?|参与了?|组织了?|申请延期|延期到|延期至|延期|延长到|延长至|延长|推迟到|推迟|再延|了(?!解)|的|是|在那里|其中)/;

export function isSeparatorAt(s: string, i: number): boolean {
  const c = s[i];
  if (c === undefined) return false;
  if (/[\s,;!?，。、；！？…~～·]/.test(c)) return true;
  // `.` and `:` separate, except between digits (1.5h, 11.20, 9:00) and inside ASCII words
  // (feishu:ou_abc, 1.5h); the full-width colon always separates.
  if (c === '：') return !(/\d/.test(s[i - 1] ?? '') && /\d/.test(s[i + 1] ?? ''));
  if (c === '.' || c === ':') return !(/[\w-]/.test(s[i - 1] ?? '') && /[\w-]/.test(s[i + 1] ?? ''));
  return false;
}

function keyTable(c: CommandDef): Map<string, string> {
  const m = new Map<string, string>();
  for (const [key, a] of Object.entries(c.args)) for (const k of [key, a.label, ...a.keys]) m.set(normalize(k), key);
  return m;
}
// What collectArgs derives from a command's declarations alone, made once per command (constant
// data, nothing a message said).
interface CommandTable {
  keys: Map<string, string>; re: RegExp | null;
  args: Array<[string, ArgDef<unknown>]>; order: Map<string, number>; placeKey?: string; dateKey?: string;
}
const keyTables = new WeakMap<CommandDef, CommandTable>();
function keysOf(c: CommandDef): CommandTable {
  let k = keyTables.get(c);
  if (!k) {
    const keys = keyTable(c);
    const words = [...keys.keys()].filter(Boolean).sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    const args = Object.entries(c.args) as Array<[string, ArgDef<unknown>]>;
    k = {
      keys, re: words.length ? new RegExp(`(${words.join('|')})\\s*[:：]`, 'g') : null,
      args, order: new Map(args.map(([key], i) => [key, i])),
      placeKey: args.find(([, a]) => a.place)?.[0], dateKey: args.find(([, a]) => a.dateLike)?.[0],
    };
    keyTables.set(c, k);
  }
  return k;
}

/** The argument a key, label or other name stands for (`地点`, `place`, `地方`), as keyed fields and cards name them. */
export function argKeyOf(c: CommandDef, name: string): string | undefined {
  return keysOf(c).keys.get(normalize(name));
}

interface Span extends Found { key: string }

/**
 * Known place names by their first UTF-16 unit, built once per list: the router passes the same
 * array while the deployment's names are unchanged (derived data keyed by that array, dropped
 * with it).
 */
const placeIndexes = new WeakMap<readonly string[], Map<string, string[]>>();
function placeIndex(places: readonly string[]): Map<string, string[]> {
  let index = placeIndexes.get(places);
  if (!index) {
    index = new Map();
    for (const p of new Set(places)) {
      if (!p) continue;
      const list = index.get(p[0]);
      if (list) list.push(p); else index.set(p[0], [p]);
    }
    placeIndexes.set(places, index);
  }
  return index;
}

/** Turns the text after the command word into canonical raw strings per argument key. */
export function collectArgs(c: CommandDef, body: string, env: ReadEnv): Reading {
  const { keys, re, args, order, placeKey, dateKey } = keysOf(c);
  const norm = normalizeText(body);
  const masked = new Array<boolean>(body.length).fill(false);
  const raw: Record<string, string> = {};
  const asks: Ask[] = [];
  // Where each keyed field stands, and text no argument's span may come from (the value of a key
  // that belongs to another field: `帮扶形式：企业结对` says nothing of the visit's kind).
  const keyedAt = new Map<string, [number, number]>();
  const quiet = new Array<boolean>(body.length).fill(false);

  // 2. Keyed fields.
  if (re) {
    const hits: Array<{ key: string; start: number; valueStart: number }> = [];
    re.lastIndex = 0;
    for (let m = re.exec(norm); m; m = re.exec(norm)) {
      const key = keys.get(m[1]);
      if (key) hits.push({ key, start: m.index, valueStart: m.index + m[0].length });
    }
    hits.forEach((h, i) => {
      const a = c.args[h.key] as ArgDef<unknown>;
      const limit = Math.min(i + 1 < hits.length ? hits[i + 1].start : body.length, lineEnd(norm, h.valueStart));
      let end = h.valueStart;
      while (end < limit && /\s/.test(norm[end])) end++;
      const vStart = end;
      // A field on a line of its own (`困难：孩子上学远 就医难`) runs to the end of that line.
      const atLineStart = /\n\s*$/.test(norm.slice(0, h.start));
      const freeText = !a.match && !a.find && !a.place;
      if (a.rest || (atLineStart && !a.list)) end = limit;
      // Free text runs on over commas (`意见:路已修好，很满意`) up to a space; typed values stop at any separator.
      else if (freeText) while (end < limit && !/\s/.test(norm[end])) end++;
      else while (end < limit && !(a.list ? /[\s;；。]/.test(norm[end]) : isSeparatorAt(norm, end))) end++;
      let value = (a.rest || freeText ? body : norm).slice(vStart, end).trim();
      if (!value && !a.rest && i + 1 >= hits.length) {
        // `时限：` with the value on the next word.
        const m = /^\s*(\S+)/.exec(norm.slice(end));
        if (m) { value = m[1]; end += m[0].length; }
      }
      // `儿子务工地点：`, `联系方式：138…`, `上次走访时间：`: a key inside a longer word names another
      // field — left in the text, and no span of it is taken — unless the word names the record
      // (`具体时间：`, `实际用时：`) or the key is glued to the previous keyed value (`石门村日期：`);
      // a value that is not this argument (`会议形式：线上`) is another field's too.
      const midWord = /[\u4e00-\u9fa5]/.test(norm[h.start - 1] ?? '');
      const before = norm.slice(Math.max(0, h.start - 6), h.start);
      // `地点：石门村日期：前天`: a key glued to the previous keyed value is a key of its own.
      const glued = i > 0 && !/[\s,，。;；]/.test(norm.slice(hits[i - 1].valueStart, h.start));
      const ofRecord = RECORD_WORD.test(before) && !OTHER_TIME.test(before);
      if (!a.rest && midWord && (!(ofRecord || glued) || OTHER_SUBJECT.test(before) || (value && !a.dateLike && a.read(value, env) === null))) {
        for (let j = h.start; j < end; j++) quiet[j] = true;
        return;
      }
      // `日期：昨天 下午`: the part of the day after the date is the date's.
      const after = a.dateLike && value ? PART_AFTER.exec(norm.slice(end, limit)) : null;
      if (after && a.read(`${value} ${after[1]}`, env) !== null) { value = `${value} ${after[1]}`; end += after[0].length; }
      // `时间：昨天 14:00-17:30`, or `日期：昨天` and then `时间：9点到11点半`: a date key's value that
      // is not a date keeps the longest leading words that are one, and what is not a date (a time
      // range) is left to the other arguments' readers; a second date key never replaces the first.
      if (a.dateLike && value && a.read(value, env) === null) {
        // `昨天下午2点到5点` typed as one word: the longest leading part that is a date is a word of its own.
        let k = value.length - 1;
        while (!/\s/.test(value) && k > 1 && a.read(value.slice(0, k), env) === null) k--;
        if (!/\s/.test(value) && k > 1) value = `${value.slice(0, k)} ${value.slice(k)}`;
        const words = value.split(/\s+/);
        let n = words.length - 1;
        while (n > 0 && a.read(words.slice(0, n).join(' '), env) === null) n--;
        let p = vStart;
        for (const w of words.slice(0, n)) p = norm.indexOf(w, p) + w.length;
        let kept = words.slice(0, n).join(' ');
        // `本周三 下午2点到5点`: the part of the day goes with the date, the clock range is the duration.
        const part = PART_LEAD.exec(words[n] ?? '')?.[0];
        if (part && a.read(`${kept || raw[h.key] || ''} ${part}`.trim(), env) !== null) {
          kept = kept ? `${kept} ${part}` : part;
          p = norm.indexOf(words[n], p) + part.length;
        }
        if (kept) { value = kept; end = p; }
        else if (h.key in raw || args.some(([k, o]) => k !== h.key && o.find && o.read(value, env) !== null)) { value = ''; end = vStart; }
      }
      for (let j = h.start; j < end; j++) masked[j] = true;
      if (value) keyedAt.set(h.key, [h.start, end]);
      // `日期：昨天` and `时间：下午` make one date; two different dates are asked about.
      if (value && a.dateLike && h.key in raw) {
        const both = [`${raw[h.key]} ${value}`, `${value} ${raw[h.key]}`].find((b) => a.read(b, env) !== null);
        const [now, had] = [value, raw[h.key]].map((s) => a.read(s, env) as { date?: string; part?: string } | null);
        if (both) raw[h.key] = both;
        else if ((now?.date ?? value) !== (had?.date ?? raw[h.key]) || (now?.part && had?.part && now.part !== had.part)) {
          asks.push({ key: h.key, why: 'several', options: [raw[h.key], value] });
        }
        // The same day twice, one with its part of the day (`日期：11月19日 时间：昨天下午`): that one.
        else if (now?.part && !had?.part) raw[h.key] = value;
        return;
      }
      if (value) raw[h.key] = a.place ? normalize(value) : value;
    });
  }

  // 3. Spans of every typed argument.
  const candidates: Span[] = [];
  for (const [key, a] of args) {
    if (key in raw || !a.find) continue;
    for (const f of a.find(norm, env)) {
      // A span never starts or ends with a space: the head scan steps over spaces.
      let { start, end } = f;
      while (start < end && /\s/.test(norm[start])) start++;
      while (end > start && /\s/.test(norm[end - 1])) end--;
      // Built field by field: one object shape for the spans of every reader, much cheaper than a spread.
      if (end > start && !anyMasked(masked, start, end) && !anyMasked(quiet, start, end)) {
        candidates.push({ start, end, raw: f.raw, relative: f.relative, headOnly: f.headOnly, partOnly: f.partOnly, kind: f.kind, key });
      }
    }
  }
  if (placeKey && !(placeKey in raw)) {
    const add = (i: number, p: string) => {
      if (!anyMasked(masked, i, i + p.length)) candidates.push({ start: i, end: extendPlace(norm, i + p.length), raw: '', key: placeKey });
    };
    // The shared names through their index (a province knows tens of thousands), the cadre's own
    // few directly.
    const index = placeIndex(env.places);
    for (let i = 0; i < norm.length; i++) {
      const starting = index.get(norm[i]);
      if (starting) for (const p of starting) if (norm.startsWith(p, i)) add(i, p);
    }
    for (const p of env.ownPlaces ?? []) {
      if (!p) continue;
      for (let i = norm.indexOf(p); i >= 0; i = norm.indexOf(p, i + 1)) add(i, p);
    }
  }
  candidates.sort((x, y) => (y.end - y.start) - (x.end - x.start) || order.get(x.key)! - order.get(y.key)! || x.start - y.start);
  const taken: Span[] = [];
  for (const s of candidates) if (!taken.some((t) => s.start < t.end && t.start < s.end)) taken.push(s);
  taken.sort((x, y) => x.start - y.start);

  // 4. The head.
  const inHead = new Set<Span>();
  const chunkArgs = new Set<string>();
  let pos = 0;
  let sentence = false;
  // Where the last value of the head ends: filler words after it (`1天 走访困难户…`) are content.
  let valueEnd = 0;
  for (;;) {
    pos = skipFrom(norm, masked, pos);
    if (pos >= norm.length) break;
    const span = taken.find((s) => s.start === pos);
    // `与石门村村委会主任谈心`: a place followed by a person's title is whom, not where — content.
    if (span && span.key === placeKey && PERSON_TITLE.test(norm.slice(extendPlace(norm, span.end)))) break;
    if (span) {
      // A second value of the same argument starts the content (`宣讲 半天 宣讲医保政策`), unless
      // the argument asks when it has two (`昨天和前天都去了`: which day?).
      const several = ((c.args[span.key] as ArgDef<unknown>).several ?? 'ask') !== 'ask';
      if (several && [...inHead].some((t) => t.key === span.key)) break;
      inHead.add(span); pos = valueEnd = span.end; continue;
    }
    const chunkEnd = nextSeparator(norm, masked, pos);
    const chunk = norm.slice(pos, chunkEnd);
    const typed = args.find(([k, a]) => a.match && !a.find && !(k in raw) && !chunkArgs.has(k) && a.match(chunk, env));
    if (typed) { raw[typed[0]] = chunk; chunkArgs.add(typed[0]); pos = valueEnd = chunkEnd; continue; }
    if (placeKey && !(placeKey in raw) && ![...inHead].some((t) => t.key === placeKey)) {
      const shape = placeShapeAt(norm, pos);
      const end = shape === null ? pos : extendPlace(norm, shape);
      if (shape !== null && !PERSON_TITLE.test(norm.slice(end)) && !taken.some((t) => t.start < shape && pos < t.end && t.key !== placeKey)) {
        const s: Span = { start: pos, end, raw: '', key: placeKey };
        taken.push(s); inHead.add(s); pos = valueEnd = s.end; continue;
      }
    }
    const filler = FILLER.exec(norm.slice(pos, chunkEnd));
    if (filler && filler[0].length) { pos += filler[0].length; sentence ||= VERB.test(filler[0]); continue; }
    const plain = args.find(([k, a]) => !a.match && !a.find && !a.rest && !a.place && !a.keyedOnly && !(k in raw));
    if (plain) { raw[plain[0]] = body.slice(pos, chunkEnd).trim(); pos = valueEnd = chunkEnd; continue; }
    break;
  }
  const headEnd = pos;
  const contentStart = Math.max(valueEnd, skipFrom(norm, masked, valueEnd));

  // A head that stops at a word that looks like a date we could not read (`明儿上午`) must not
  // quietly become today.
  const stopWord = norm.slice(headEnd, nextSeparator(norm, masked, headEnd));
  const dateInHead = taken.some((t) => t.key === dateKey && inHead.has(t));
  if (dateKey && !(dateKey in raw) && !dateInHead && DATEISH.test(stopWord) && !taken.some((t) => t.start === headEnd)) {
    asks.push({ key: dateKey, why: 'missing', note: `没看懂「${body.slice(headEnd, headEnd + stopWord.length)}」是哪一天` });
  } else if (dateKey && !(dateKey in raw) && !dateInHead) {
    // `入户走访王大爷，昨天去的`: a day named relative to today later in the message is most likely
    // the visit's — but it is not at the head, so it is asked about rather than taken or ignored.
    const later = taken.filter((t) => t.key === dateKey && t.relative && !t.partOnly);
    const days = [...new Set(later.map((t) => body.slice(t.start, t.end)))];
    const slip = days.length ? undefined : daySlipIn(norm);
    if (days.length === 1) asks.push({ key: dateKey, why: 'guess', options: [later[0].raw], note: `日期是「${days[0]}」吗` });
    else if (days.length > 1) asks.push({ key: dateKey, why: 'several', options: days });
    else if (slip) asks.push({ key: dateKey, why: 'guess', options: [slip.day], note: `「${body.slice(slip.at, slip.at + 2)}」是「${slip.day}」吗` });
    else if (DAY_LIKE.test(stopWord) && !NOT_A_DAY.has(stopWord)) {
      asks.push({ key: dateKey, why: 'missing', note: `没看懂「${body.slice(headEnd, headEnd + stopWord.length)}」是哪一天` });
    }
  }

  // 5. Values per argument.
  const placeSpans = taken.filter((s) => s.key === placeKey);
  for (const [key, a] of args) {
    if (key in raw || key === placeKey) continue;
    const spans = taken.filter((s) => s.key === key && (inHead.has(s) || ((a.where ?? 'head') === 'anywhere' && !s.headOnly)));
    if (!spans.length) continue;
    if (a.several === 'sum') {
      // A count that is not a number (`两三户`) is kept as typed, so it is asked about.
      const vague = spans.find((s) => !/^\d+$/.test(s.raw));
      raw[key] = vague ? vague.raw : String(spans.reduce((n, s) => n + Number(s.raw), 0));
      continue;
    }
    let values = [...new Set(spans.map((s) => s.raw))];
    // A time of day on its own completes the date found beside it (`昨天去石门村，下午入户`).
    const parts = spans.filter((s) => s.partOnly), dates = spans.filter((s) => !s.partOnly);
    // Two different parts (`上午去王大爷家 下午去李大娘家`): the visit took both, none is its time of day.
    const allParts = taken.filter((s) => s.key === key && s.partOnly);
    if (parts.length && dates.length) {
      const part = new Set(allParts.map((s) => s.raw.slice(11))).size === 1 ? parts[0].raw.slice(11) : '';
      values = [...new Set(dates.map((s) => (s.raw.length > 10 || !part ? s.raw : `${s.raw} ${part}`)))];
    }
    const sameKind = spans.filter((s) => s.kind === 'amount').length > 1 || spans.filter((s) => s.kind === 'range').length > 1;
    if (sameKind && a.several === 'ask') asks.push({ key, why: 'several', options: spans.map((s) => body.slice(s.start, s.end)) });
    else if (a.several === 'first' || values.length === 1) raw[key] = values[0];
    else asks.push({ key, why: 'several', options: spans.map((s) => body.slice(s.start, s.end)) });
  }
  if (placeKey && !(placeKey in raw)) {
    // The head's place and every known place named anywhere: two different ones are asked about;
    // a known place named only in the content (`儿子在宏达机械厂上班`) is asked about, not taken.
    const names = [...new Set(placeSpans.map((s) => norm.slice(s.start, s.end)))];
    const inHeadPlace = placeSpans.some((s) => inHead.has(s));
    if (names.length === 1 && !inHeadPlace) asks.push({ key: placeKey, why: 'guess', options: names });
    else if (names.length === 1) raw[placeKey] = names[0];
    else if (names.length > 1) asks.push({ key: placeKey, why: 'several', options: names });
    else {
      const guess = shapedPlaceIn(norm, headEnd, taken);
      if (guess) asks.push({ key: placeKey, why: 'guess', options: [guess] });
    }
  }

  // `上午县福利院 下午县敬老院`: another place for another part of the day is a second place, asked about.
  if (placeKey && raw[placeKey] !== undefined) {
    // A household (`下午去李大娘家`) is within the visit's place, not another one.
    const here = raw[placeKey];
    const other = placesByPartOfDay(norm, env).find((p) => !here.startsWith(p) && !p.startsWith(here) && !p.endsWith('家'));
    if (other) {
      asks.push({ key: placeKey, why: 'several', options: [raw[placeKey], other] });
      delete raw[placeKey];
    }
  }

  // `时长：2小时 … 内容：…实际用时3小时`: a value contradicted where the reading above did not look —
  // elsewhere than a keyed field's own place, or inside another keyed field — is asked about.
  for (const [key, a] of keyedAt.size ? args : []) {
    if (!a.oneValue || !a.find || raw[key] === undefined || asks.some((x) => x.key === key)) continue;
    const own = keyedAt.get(key);
    const mine = JSON.stringify(a.read(raw[key], env));
    // A head value or a clock range is the record's own; elsewhere the argument says (`实际用时3小时`).
    const own2 = (f: Found) => (f.start <= headEnd && !anyMasked(masked, f.start, f.end)) || f.kind === 'range' || a.oneValue!(norm, f);
    const other = a.find(norm, env).find((f) => (own ? f.end <= own[0] || f.start >= own[1] : anyMasked(masked, f.start, f.end))
      && !anyMasked(quiet, f.start, f.end) && own2(f) && JSON.stringify(a.read(f.raw, env)) !== mine);
    if (other) asks.push({ key, why: 'several', options: [raw[key], body.slice(other.start, other.end)] });
  }

  // `县福利院和县敬老院都去了`: two places joined are two places, asked about.
  const headPlace = placeSpans.find((t) => inHead.has(t));
  if (placeKey && raw[placeKey] !== undefined && headPlace) {
    const placeEnd = extendPlace(norm, headPlace.end);
    const join = /^\s?(?:和|与|及|、|跟|还有|以及)\s?/.exec(norm.slice(placeEnd));
    const other = join && placeAt(norm, placeEnd + join[0].length, env);
    if (other && other !== raw[placeKey]) {
      asks.push({ key: placeKey, why: 'several', options: [raw[placeKey], other] });
      delete raw[placeKey];
    }
  }

  // The rest: content as typed, without the keyed fields and the tagged words taken out of it.
  const restKey = args.find(([k, a]) => a.rest && !(k in raw))?.[0];
  const tail: string[] = [];
  let p = contentStart;
  while (p < body.length) {
    while (p < body.length && masked[p]) p++;
    let q = p;
    while (q < body.length && !masked[q]) q++;
    if (q > p) tail.push(takeChunks(body.slice(p, q), norm.slice(p, q), args, raw, env));
    p = q;
  }
  const rest = tail.join(' ').replace(/^[\s,，。;；:：、]+|[\s,，;；:：、]+$/g, '').trim();
  // `往后延30天吧`: a particle left over says nothing (a reason of `吧` would be no reason).
  if (PARTICLES_ONLY.test(rest) && restKey) {
    if (sentence) raw[restKey] = body.trim();
  } else if (rest) {
    if (restKey) raw[restKey] = rest;
    else throw new UserError(T.extraWords(rest, c));
  } else if (restKey && sentence) {
    // A sentence made only of values (`昨天下午去石门村走访了三户`) is its own content.
    raw[restKey] = body.trim();
  }
  return { raw, asks };
}

const PARTICLES_ONLY = /^[吧啊呀哦呢嘛哈嗯了!！。.~～\s]+$/;

const PERSON_TITLE = /^(?:副?主任|副?书记|支书|村长|组长|社长|厂长|经理|老板|负责人|网格员|委员|会计|主席|校长|院长|所长|站长|队长|干部|工作人员)/;

// Fillers that make a message a sentence (`去石门村走访了三户`), which is then its own content.
const VERB = /去|到|在|赴|走访|看望|慰问|开展|进行|参加|参与|组织|前往|来到|深入|下沉/;
const DATEISH = /^(?:[今昨明前后大]|上个?周|下个?周|本周|这周|周[一二三四五六日天末]|周末|星期|礼拜|\d{1,2}[号日]|[一二三四五六七八九十]{1,3}[号日])/;

// Slips of a phone keyboard or of voice input for a day word (`作天去石门村`): the day is asked
// about, never left to become today.
const DAY_SLIPS = new Map(Object.entries({
  作天: '昨天', 坐天: '昨天', 做天: '昨天', 左天: '昨天', 咋天: '昨天', 昨夭: '昨天', 昨添: '昨天',
  钱天: '前天', 潜天: '前天', 前夭: '前天', 金天: '今天', 今夭: '今天',
}));
// Not inside a longer word: 工作天数, 合作天地, 金天气 are no days.
const DAY_SLIP = new RegExp(`(?<![工操合写创协制动运耕])(?:${[...DAY_SLIPS.keys()].join('|')})(?![气然数下地空津安堂])`);
function daySlipIn(norm: string): { at: number; day: string } | undefined {
  const m = DAY_SLIP.exec(norm);
  return m ? { at: m.index, day: DAY_SLIPS.get(m[0])! } : undefined;
}
// A two-character word ending in 天 or 日 where the head stopped (`那天`, `当日`) is a day we could not read.
const DAY_LIKE = /^[\u4e00-\u9fff][天日]$/;
const NOT_A_DAY = new Set(['聊天', '生日', '节日', '白天', '每天', '天天', '整天', '全天', '半天', '多日', '工作日']);

function skipFrom(s: string, masked: boolean[], from: number): number {
  let i = from;
  while (i < s.length && (isSeparatorAt(s, i) || masked[i])) i++;
  return i;
}
function lineEnd(s: string, from: number): number {
  const i = s.indexOf('\n', from);
  return i < 0 ? s.length : i;
}
function anyMasked(masked: boolean[], start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (masked[i]) return true;
  return false;
}
function nextSeparator(s: string, masked: boolean[], from: number): number {
  let i = from;
  while (i < s.length && !isSeparatorAt(s, i) && !masked[i]) i++;
  return i;
}
/** A place followed by its sub-places, adjacent or after one space: 石门镇 石门村三组王大爷家. */
function extendPlace(s: string, end: number): number {
  for (;;) {
    // After a space only a sub-place joins (`石门村 三组`); a whole new place joins only when glued;
    // nothing joins a village through a word that starts with 村 (`李庄村民王大爷家`).
    if (s[end - 1] === '村' && VILLAGE_WORD.test(s[end] ?? '')) return end;
    const gap = s[end] === ' ' ? 1 : 0;
    const next = placeTailAt(s, end + gap) ?? (gap ? null : placeShapeAt(s, end) ?? bareSuffixAt(s, end) ?? shortPlaceAt(s, end));
    if (next === null) return end;
    end = next;
  }
}
const NOT_IN_PLACE_END = /(?:走访|入户|开展|宣讲|座谈|调研|谈心|慰问|看望|帮助|协调|反映|了解|核实|到|去|在|了|的|和|与)$/;
const BARE_SUFFIX = new RegExp(`^(?:${PLACE_SUFFIXES.filter((w) => w.length >= 2).join('|')})`);
// Numerals, measure words, pronouns and verbs start no place word (`一站式`, `各站点`, `那所`, `是站`).
const SHORT_PLACE_NOT_FIRST = /[的了在到去和与给一二两三四五六七八九十几各每这那哪我你他她它是有该本此某全整所]/;
/** A two-character place word glued to a place: 县中心血站, 石门镇派出所 (`血站`, `出所` alone start nothing). */
function shortPlaceAt(s: string, i: number): number | null {
  return /^[\u4e00-\u9fa5](?:站|所|馆)/.test(s.slice(i, i + 2)) && !SHORT_PLACE_NOT_FIRST.test(s[i]) ? i + 2 : null;
}
/** A place word with no name of its own, glued to a place: 石门村小学, 石门镇卫生院. */
function bareSuffixAt(s: string, i: number): number | null {
  const m = BARE_SUFFIX.exec(s.slice(i));
  return m ? i + m[0].length : null;
}

// Words before a key that name the record itself (`走访时间：`, `具体地点：`, `实际用时：`), and
// times of something else (`上次走访时间：`).
const RECORD_WORD = /(?:走访|入户|到访|调研|座谈|宣讲|具体|本次|此次|服务|志愿|活动|开展|办理|办结|完成|整改|解决|问题|记录|实际|累计|总)$/;
const OTHER_TIME = /(?:上次|下次|每天|每次|每周|以前|之前)(?:走访|入户|到访|服务|活动)?$/;
const OTHER_SUBJECT = /(?:联系|帮扶|结对|申请|路上|会议|上学|就医|就诊|住院|出生|入学|发放|缴费|补贴|救助|低保|医保|社保)$/;
const PARTS = '上午|下午|中午|晚上|早上|傍晚';
const PART_LEAD = new RegExp(`^(?:${PARTS})`);
const PART_AFTER = new RegExp(`^\\s*(${PARTS})`);
const PART_THEN = new RegExp(`(?:${PARTS})\\s?(?:又|再)?(?:在|去|到|赴)?\\s?`, 'g');
/** The places right after a part of the day (`上午县福利院 下午县敬老院`), known or shaped. */
function placesByPartOfDay(s: string, env: ReadEnv): string[] {
  const out: string[] = [];
  PART_THEN.lastIndex = 0;
  for (let m = PART_THEN.exec(s); m; m = PART_THEN.exec(s)) {
    const p = placeAt(s, m.index + m[0].length, env);
    if (p) out.push(p);
  }
  return out;
}

/** A known or place-shaped name starting exactly at `at`, with its sub-places. */
function placeAt(s: string, at: number, env: ReadEnv): string | null {
  const known = (placeIndex(env.places).get(s[at]) ?? []).filter((p) => s.startsWith(p, at)).sort((x, y) => y.length - x.length)[0];
  const end = known ? at + known.length : placeShapeAt(s, at);
  return end === null ? null : s.slice(at, extendPlace(s, end));
}

/** The first place-shaped word in the content, offered as a question, never taken. */
function shapedPlaceIn(s: string, from: number, taken: Span[]): string | null {
  for (let i = from; i < s.length; i++) {
    if (taken.some((t) => i >= t.start && i < t.end)) continue;
    // Only at the start of a word: after a separator, a value, or a verb (`协调县医院` offers 县医院).
    const before = s.slice(from, i);
    if (i > from && !isSeparatorAt(s, i - 1) && !taken.some((t) => t.end === i) && !NOT_IN_PLACE_END.test(before)) continue;
    const end = placeShapeAt(s, i);
    if (end !== null) {
      const word = s.slice(i, end).replace(FILLER, '');
      if (word.length >= 2) return word;
    }
  }
  return null;
}

/** Whole words in the content that are typed values with no span reader (类别, @责任人) are taken out. */
function takeChunks(orig: string, norm: string, args: Array<[string, ArgDef<unknown>]>, raw: Record<string, string>, env: ReadEnv): string {
  let out = '';
  let i = 0;
  while (i < norm.length) {
    let j = i;
    while (j < norm.length && !isSeparatorAt(norm, j)) j++;
    const chunk = norm.slice(i, j);
    const typed = chunk && args.find(([k, a]) => a.match && !(k in raw) && !a.rest && (!a.find || a.where === 'anywhere') &&
      (/^[@＠]/.test(chunk) || !a.find) && a.match(chunk, env));
    if (typed) raw[typed[0]] = typed[1].find ? chunk.replace(/^[@＠]/, '') : chunk;
    else out += orig.slice(i, j);
    if (j < norm.length) out += orig[j];
    i = j + 1;
  }
  return out.replace(/\s{2,}/g, ' ');
}

/**
 * Validates raw argument strings with the command's readers, given this message's clock and
 * places. Throws AskFor for the first field to ask about, UserError for a bad value.
 */
export function validateArgs(c: CommandDef, reading: Reading, env: ReadEnv): Record<string, unknown> {
  const { raw, asks } = reading;
  // The raw strings are external input: their shape is checked by the command's zod schema
  // (built once per command), then each is read with this message's clock and places.
  const shape = shapeOf(c).safeParse(raw);
  if (!shape.success) throw new UserError(T.badArgs(shape.error.issues.map((i) => i.message), c));
  const data: Record<string, unknown> = {};
  const bad: Array<{ key: string; message: string }> = [];
  for (const [k, a] of Object.entries(c.args)) {
    const v = raw[k];
    if (v === undefined) continue;
    const out = a.read(v, env);
    if (out === null) bad.push({ key: k, message: a.bad(v) });
    else data[k] = out;
  }
  if (bad.length && c.mode === 'write' && !c.adminOnly) {
    // A value that cannot be read is asked for again, saying what was not understood.
    const { key, message } = bad[0];
    const { [key]: _bad, ...kept } = raw;
    throw AskFor.of({ key, why: 'missing', note: message }, kept, asks.filter((x) => x.key !== key));
  }
  if (bad.length) throw new UserError(T.badArgs(bad.map((b) => b.message), c));
  const missing: Ask[] = Object.entries(c.args).filter(([k, a]) => !a.optional && raw[k] === undefined && !asks.some((x) => x.key === k))
    .map(([key]) => ({ key, why: 'missing' }));
  const open = [...asks, ...missing];
  if (open.length) throw AskFor.of(open[0], raw, open.slice(1));
  return data;
}

const shapes = new WeakMap<CommandDef, z.ZodType>();
function shapeOf(c: CommandDef): z.ZodType {
  let s = shapes.get(c);
  if (!s) {
    s = z.object(Object.fromEntries(Object.entries(c.args).map(([k, a]) =>
      [k, z.string().max(5000, { message: `${a.label}太长` }).optional()])));
    shapes.set(c, s);
  }
  return s;
}

export { usageOf };
