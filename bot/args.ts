/**
 * Argument types of the command language. Each carries its Chinese label (used for `键：值`, help
 * and errors), a zod schema that turns the typed string into a value, and — for typed arguments —
 * a recogniser, so positional arguments can come in any order (`/走访 昨天 石门村 1天` and
 * `/走访 石门村 1天 昨天` mean the same).
 */
import { z } from 'zod';
import { normalize } from './normalize.js';
import { parseDate, parseDuration, type LocalDate } from './time.js';

export interface ArgDef<T> {
  label: string;
  /** Other names accepted before a colon (the label and the English key always are). */
  keys: string[];
  /** What a valid value looks like, for help and errors: '日期，如 昨天、11月20日'. */
  hint: string;
  schema: z.ZodType<T, string>;
  /** Recognises a positional token as this argument. */
  match?: (token: string) => boolean;
  /** Takes the free text left over (joined by spaces). */
  rest?: boolean;
  optional: boolean;
}

/** The clock and timezone that date arguments are read against, set by the parser per call. */
export const parseEnv = { now: new Date(), tz: 'Asia/Shanghai' };

function def<T>(label: string, hint: string, schema: z.ZodType<T, string>, extra: Partial<ArgDef<T>> = {}): ArgDef<T> {
  return { label, hint, schema, keys: [], optional: false, ...extra };
}

export function optional<T>(a: ArgDef<T>): ArgDef<T | undefined> {
  return { ...a, optional: true, schema: a.schema.optional() as unknown as z.ZodType<T | undefined, string> };
}

export function withKeys<T>(a: ArgDef<T>, ...keys: string[]): ArgDef<T> {
  return { ...a, keys: [...a.keys, ...keys] };
}

const custom = <T>(fn: (s: string) => T | null, message: (s: string) => string) =>
  z.string().transform((s, c) => {
    const v = fn(s);
    if (v === null) {
      c.addIssue({ code: 'custom', message: message(s) });
      return z.NEVER;
    }
    return v;
  });

export function dateArg(label = '日期', prefer: 'past' | 'future' = 'past'): ArgDef<LocalDate> {
  const read = (s: string) => parseDate(normalize(s), parseEnv.now, { tz: parseEnv.tz, prefer });
  return def(label, '日期，如 今天、昨天、上周五、11月20日、2026-11-20',
    custom(read, (s) => `「${s}」不是能识别的日期`), { match: (t) => read(t) !== null });
}

export function durationArg(label = '时长'): ArgDef<number> {
  const read = (s: string) => parseDuration(normalize(s))?.hours ?? null;
  return def(label, '时长，如 2小时、1.5h、半天、1天、两天', custom(read, (s) => `「${s}」不是能识别的时长`),
    { match: (t) => read(t) !== null });
}

/** One of a fixed set of words; `choices` maps every accepted spelling to its value. */
export function choiceArg<V extends string>(label: string, choices: Record<string, V>, hint?: string): ArgDef<V> {
  const table = new Map(Object.entries(choices).map(([k, v]) => [normalize(k), v]));
  const read = (s: string) => table.get(normalize(s)) ?? null;
  const names = [...new Set(Object.keys(choices))].slice(0, 12).join('、');
  return def(label, hint ?? `${label}：${names}`, custom(read, (s) => `「${s}」不是可选的${label}（可选：${names}）`),
    { match: (t) => read(t) !== null });
}

export function textArg(label: string, max = 200, hint?: string): ArgDef<string> {
  return def(label, hint ?? `${label}（${max}字以内）`, z.string().trim()
    .min(1, { message: `缺少${label}` }).max(max, { message: `${label}太长，最多${max}字` }));
}

/** The free text after the typed arguments, e.g. a visit's content. */
export function restArg(label: string, max = 1000, hint?: string): ArgDef<string> {
  return { ...textArg(label, max, hint), rest: true };
}

const ISSUE_REF = /^[#＃](\d{1,9})$/;
export function issueRefArg(): ArgDef<number> {
  const read = (s: string) => { const m = ISSUE_REF.exec(s.trim()); return m ? Number(m[1]) : null; };
  return def('问题编号', '问题编号，如 #12', custom(read, (s) => `「${s}」不是问题编号（应为 #数字，如 #12）`),
    { match: (t) => read(t) !== null });
}

export type RecordRef = { type: 'visit' | 'volunteer'; id: number };
const RECORD_REF = /^[#＃]?([VvＶｖZzＺｚ])(\d{1,9})$/;
export function recordRefArg(): ArgDef<RecordRef> {
  const read = (s: string): RecordRef | null => {
    const m = RECORD_REF.exec(s.trim());
    if (!m) return null;
    return { type: /[VvＶｖ]/.test(m[1]) ? 'visit' : 'volunteer', id: Number(m[2]) };
  };
  return def('记录编号', '记录编号：走访 #V12，志愿 #Z12',
    custom(read, (s) => `「${s}」不是记录编号（走访记录如 #V12，志愿记录如 #Z12）`), { match: (t) => read(t) !== null });
}

/** A person: `@李四` (a platform mention or a roster name); resolved against the roster later. */
export function cadreRefArg(label: string): ArgDef<string> {
  const read = (s: string) => { const v = s.trim().replace(/^[@＠]/, ''); return v ? v : null; };
  return def(label, `${label}，如 @李四`, custom(read, () => `缺少${label}`), { match: (t) => /^[@＠]\S/.test(t) });
}

export function numberArg(label: string, min: number, max: number): ArgDef<number> {
  const read = (s: string) => { const n = Number(s.normalize('NFKC')); return Number.isFinite(n) && n >= min && n <= max ? n : null; };
  return def(label, `${label}（${min}–${max} 的数）`, custom(read, (s) => `「${s}」不是 ${min}–${max} 之间的数`),
    { match: (t) => read(t) !== null });
}
