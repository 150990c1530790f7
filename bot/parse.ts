/**
 * The command language of SPEC §3: `/` or `／` (or an @-mention of the bot) then a command name;
 * arguments positional, as `键：值` pairs, or one per line. Everything here is derived from the
 * command declarations, so a new command needs no change in this file.
 */
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { parseEnv, type ArgDef } from './args.js';
import { UserError } from './errors.js';
import { normalize } from './normalize.js';
import { usageOf, type CommandDef, type Registry } from './command.js';
import { T } from './texts.js';

export interface CommandText {
  /** The command word as typed, e.g. '走訪'. */
  word: string;
  body: string;
}

const PREFIX = /^[\/／]\s*/;

/**
 * Splits off the command word. Returns null when the message is not a command: no slash, and
 * either the bot was not mentioned or the first word names no command.
 */
export function splitCommand(text: string, mentionsBot: boolean, registry: Registry): CommandText | null {
  const t = text.trim();
  const slashed = PREFIX.test(t);
  if (!slashed && !mentionsBot) return null;
  const rest = t.replace(PREFIX, '');
  const m = /^(\S+?)(?:[\s\u3000]|$)([\s\S]*)$/.exec(rest);
  if (!m) return slashed ? { word: '', body: '' } : null;
  const [, word, body] = m;
  if (!slashed && !registry.get(normalize(word))) return null;
  return { word, body };
}

export function findCommand(registry: Registry, word: string): CommandDef {
  const c = registry.get(normalize(word));
  if (c) return c;
  const names = registry.names;
  const guess = names.length ? closest(normalize(word), names) : undefined;
  const near = guess && distance(normalize(word), guess) <= Math.max(2, Math.ceil(guess.length / 2));
  throw new UserError(T.unknownCommand(word, near ? registry.get(guess)!.name : undefined));
}

interface Token { text: string; fromLine: boolean }

const SPACES = /[\s\u3000]+/;
const KV = /^([^:：\s]{1,10})[:：]([\s\S]*)$/;

function tokenize(body: string): Token[] {
  const lines = body.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const out: Token[] = [];
  lines.forEach((line, i) => {
    // A later line that is a `键：值` pair is one argument even with spaces in its value.
    if (i > 0 && KV.test(line)) out.push({ text: line, fromLine: true });
    else for (const w of line.split(SPACES)) if (w) out.push({ text: w, fromLine: false });
  });
  return out;
}

function keyTable(c: CommandDef): Map<string, string> {
  const m = new Map<string, string>();
  for (const [key, a] of Object.entries(c.args)) for (const k of [key, a.label, ...a.keys]) m.set(normalize(k), key);
  return m;
}
const keyTables = new WeakMap<CommandDef, Map<string, string>>();

/** Turns the text after the command word into raw strings per argument key. */
export function collectArgs(c: CommandDef, body: string): Record<string, string> {
  let keys = keyTables.get(c);
  if (!keys) keyTables.set(c, (keys = keyTable(c)));
  const args = Object.entries(c.args) as Array<[string, ArgDef<unknown>]>;
  const raw: Record<string, string> = {};
  const tokens = tokenize(body);
  const free: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const m = KV.exec(tokens[i].text);
    const key = m && keys.get(normalize(m[1]));
    if (m && key) {
      let value = m[2].trim();
      if (!value && i + 1 < tokens.length && !tokens[i + 1].fromLine) value = tokens[++i].text;
      raw[key] = value;
    } else free.push(tokens[i].text);
  }
  const rest: string[] = [];
  for (const tok of free) {
    const typed = args.find(([k, a]) => a.match && !(k in raw) && a.match(tok));
    if (typed) { raw[typed[0]] = tok; continue; }
    const plain = args.find(([k, a]) => !a.match && !a.rest && !(k in raw));
    if (plain && rest.length === 0) { raw[plain[0]] = tok; continue; }
    rest.push(tok);
  }
  if (rest.length) {
    const restArg = args.find(([k, a]) => a.rest && !(k in raw));
    if (!restArg) throw new UserError(T.extraWords(rest.join(' '), c));
    raw[restArg[0]] = rest.join(' ');
  }
  return raw;
}

const schemas = new WeakMap<CommandDef, z.ZodType>();
function schemaOf(c: CommandDef): z.ZodType {
  let s = schemas.get(c);
  if (!s) {
    s = z.object(Object.fromEntries(Object.entries(c.args).map(([k, a]) => [k, a.schema])));
    schemas.set(c, s);
  }
  return s;
}

/** Validates raw argument strings with the command's zod schema; errors name the argument. */
export function validateArgs(c: CommandDef, raw: Record<string, unknown>, now: Date, tz: string): Record<string, unknown> {
  parseEnv.now = now;
  parseEnv.tz = tz;
  const r = schemaOf(c).safeParse(raw);
  if (r.success) return r.data as Record<string, unknown>;
  const problems = r.error.issues.map((i) => {
    const a = c.args[String(i.path[0])];
    if (!a) return i.message;
    if (raw[String(i.path[0])] === undefined) return T.missing(a.label);
    return i.code === 'custom' || i.message.startsWith(a.label) || i.message.startsWith('缺少')
      ? i.message : T.badValue(a.label, a.hint);
  });
  throw new UserError(T.badArgs(problems, c));
}

export { usageOf };
