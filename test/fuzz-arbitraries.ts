/**
 * Generators of hostile input for the fuzz suite: command texts built from the real registry
 * (names, aliases, argument labels and keys) with mangled tokens, mixed full/half-width
 * punctuation and traditional characters; random Unicode; huge and empty texts; card values and
 * platform payloads of random JSON. Shared by test/fuzz.test.ts and its regressions.
 */
import fc from 'fast-check';
import * as OpenCC from 'opencc-js';
import type { DestinationStream } from 'pino';
import { Registry, type ArgDefs } from '../bot/command.js';
import { normalize } from '../bot/normalize.js';
import { createLogger } from '../bot/logger.js';
import { allCommands } from '../scripts/commands.js';

export const registry = new Registry(allCommands(), normalize);

const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });

/** Every command name and alias as declared (not normalised), so `visit` and `走访` both appear. */
export const COMMAND_WORDS = registry.commands.flatMap((c) => [c.name, ...c.aliases]);

/** Every name an argument answers to before a colon: labels, declared keys and argument keys. */
export const ARG_KEYS = [...new Set(registry.commands.flatMap((c) =>
  Object.entries(c.args as ArgDefs).flatMap(([k, a]) => [k, a.label, ...a.keys])))];

/** Tokens the parser understands (or nearly does), including edge values and phone numbers. */
export const REAL_TOKENS = [
  '昨天', '今天', '前天', '明天', '上周五', '11月20日', '11.20', '2026-11-20', '2026-02-30', '2026-13-45', '1900-01-01', '9999-12-31',
  '2小时', '1.5h', '半天', '1天', '两天', '3d', '0小时', '-1天', '99999天', '1e309h', 'NaN小时', '０.５天', '十万小时',
  '#1', '#2', '#3', '#4', '#0', '#999999999', '#-1', '#1.5', '＃１', '#V1', '#Z1', '#V0', 'V2', '#v3', '#Ｖ１',
  '@李四', '@张三', '@王强', '@', '＠张三', '@不存在', '李四（东关社区）', '张三(石门镇)',
  '石门村', '东关社区', '示范县', '石门镇', '不存在的单位', '入户', '到村', '驻村', '企业', '座谈', '宣讲', '谈心', '其他',
  '满意', '不满意', '基本满意', '退回', '通过', '导出', '公示', '本月', '本周', '本季', '本年', '上月', '10月', '2026-10', '2027',
  '13812345678', '138 1234 5678', '+8613812345678', '1381234567', '138123456789', '13800000002',
  '30天', '12月31日', '一个月', '半个月', '基础设施', '信访', '民生诉求', '困难群众', '稳定工作', '热线', '是', '否',
  '解除', '新建', '委员会', '开', '关', '列表', '预设', '添加', 'visit_count', 'month', '3', '0', '-5', '1e9', 'console:u9', 'feishu:ou_x',
  '9:00', '21:00-08:00', '0 9 * * *', '走访', '民情', '图表', '帮助', '?', '…', '——', '、', '。', '；', '！', '？', '“引号”', '「」',
];

const SEPARATORS = [' ', '　', '\n', '\r\n', '，', ',', '\t', '', ' \n ', '；', '、', '\u2005', '\u00a0'];
const COLONS = [':', '：', ' : ', '： ', '::', '：：'];
const PREFIXES = ['/', '／', '/ ', '／　', '', '//', '/\n', '＼', '/ /'];
const ODD = ['', ' ', '\n', '　', '/', '／', '@', '\u0000', '\uFEFF/走访', '\u202E/走访 石门村', '/\u0000', '\ud800', '/走访\ud800石门村 1天'];

/** The same text, sometimes in traditional characters (docs/rules.md#reading-messages: `/走訪` is accepted). */
const maybeTraditional = (a: fc.Arbitrary<string>) => fc.tuple(a, fc.integer({ min: 0, max: 4 }))
  .map(([s, k]) => (k === 0 ? toTraditional(s) : s));

/** A word with one character inserted, deleted, replaced or doubled. */
export function mutated(a: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(a, fc.nat(), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }), fc.constantFrom('insert', 'delete', 'replace', 'double'))
    .map(([w, n, c, op]) => {
      const chars = [...w];
      const i = chars.length ? n % chars.length : 0;
      if (op === 'insert') chars.splice(i, 0, c);
      else if (op === 'delete') chars.splice(i, 1);
      else if (op === 'replace') chars.splice(i, 1, c);
      else chars.splice(i, 0, chars[i] ?? c);
      return chars.join('');
    });
}

const realToken = fc.constantFrom(...REAL_TOKENS);
const keyValue = fc.tuple(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ARG_KEYS) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) }),
  fc.constantFrom(...COLONS),
  fc.oneof(realToken, fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constant('')),
).map(([k, c, v]) => k + c + v);

export const token: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: realToken },
  { weight: 3, arbitrary: keyValue },
  { weight: 2, arbitrary: mutated(realToken) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);

const commandWord = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COMMAND_WORDS) },
  { weight: 2, arbitrary: mutated(fc.constantFrom(...COMMAND_WORDS)) },
  { weight: 1, arbitrary: fc.constantFrom(...COMMAND_WORDS).map((w) => w.toUpperCase()) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
);

/** A command: a prefix, a (maybe mangled) command word, then separators and tokens. */
export function commandText(words: fc.Arbitrary<string> = commandWord, prefixes = PREFIXES): fc.Arbitrary<string> {
  return maybeTraditional(fc.tuple(
    fc.constantFrom(...prefixes), words,
    fc.array(fc.tuple(fc.constantFrom(...SEPARATORS), token), { maxLength: 12 }),
    fc.constantFrom('', ' ', '\n', '。'),
  ).map(([p, w, rest, end]) => p + w + rest.map(([s, t]) => s + t).join('') + end));
}

const TEXTS = ['石门村', '东关社区', '县福利院', '石门村三组王大爷家', '走访困难户3户，了解就医难', '道路破损影响出行', '已联系交通局，列入下月维修计划',
  '路面已修复，已电话告知群众', '需县交通局协调维修资金', '群众电话13812345678', '本周内拿出维修方案', '义工日', '王大爷', '务工', '缺劳力'];

/** Per argument of every command: tokens its recogniser takes, or texts for free-text arguments. */
function valuesFor(a: ArgDefs[string]): string[] {
  if (!a.match) return TEXTS;
  const words = a.hint.split(/[：:]/).slice(1).join('').split(/[、，,\s]|或/).map((w) => w.replace(/^如/, '')).filter(Boolean);
  const env = { now: new Date('2026-11-20T01:30:00Z'), tz: 'Asia/Shanghai', today: '2026-11-20', places: [] };
  const ok = [...new Set([...REAL_TOKENS, ...words])].filter((t) => { try { return a.match!(t, env); } catch { return false; } });
  return ok.length ? ok : REAL_TOKENS;
}

/**
 * A command close to valid: its real name, a plausible value for each argument (optional ones
 * sometimes left out), positional or `键：值`, on one line or one per line, in any order — then
 * zero to two tokens mangled. Most reach a handler; many are recorded.
 */
export const nearlyValidCommand: fc.Arbitrary<string> = fc.constantFrom(...registry.commands).chain((c) => {
  const args = Object.entries(c.args as ArgDefs).map(([key, a]) => fc.record({
    keep: a.optional ? fc.boolean() : fc.constant(true),
    keyed: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    name: fc.constantFrom(a.label, key, ...a.keys),
    value: fc.constantFrom(...valuesFor(a)),
  }));
  return maybeTraditional(fc.tuple(
    fc.constantFrom(c.name, ...c.aliases), fc.tuple(...args), fc.constantFrom(' ', '\n', ' ', '　'), fc.boolean(),
    fc.array(fc.tuple(fc.nat(), fc.oneof(token, mutated(realToken))), { maxLength: 2 }), fc.constantFrom('/', '／'),
  ).map(([name, parts, sep, shuffle, damage, slash]) => {
    const tokens = parts.filter((p) => p.keep).map((p) => (p.keyed ? `${p.name}${sep === '\n' ? '：' : ':'}${p.value}` : p.value));
    if (shuffle) tokens.reverse();
    for (const [i, t] of damage) if (tokens.length) tokens[i % tokens.length] = t;
    return `${slash}${name}${sep}${tokens.join(sep)}`;
  }));
});

const huge = fc.tuple(
  fc.constantFrom('/走访 昨天 石门村 1天 ', '/民情 石门村 ', '/志愿 ', '', '/进展 #1 '),
  fc.integer({ min: 1_990, max: 6_000 }),
  fc.constantFrom('走', '访 ', '\n', '啊，', '𠀀', '键：值 '),
).map(([p, n, c]) => p + c.repeat(Math.ceil(n / c.length)));

/** Any message text: mostly commands, the rest random Unicode, odd bytes and huge texts. */
export const messageText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: nearlyValidCommand },
  { weight: 6, arbitrary: commandText() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD) },
  { weight: 1, arbitrary: huge },
);

/** What `JSON.parse` could have produced: platforms only ever hand over parsed JSON. */
export const asJson = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T> => a.map((v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)) as T));

/** Card form values: real argument names with real or random values, or any JSON at all. */
export const cardValues: fc.Arbitrary<unknown> = asJson(fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...ARG_KEYS), fc.string({ maxLength: 8 })),
    fc.oneof(realToken, fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 40 })), { maxKeys: 8, noNullPrototype: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
));

export const FORMS = [...new Set(registry.commands.map((c) => c.form).filter((f): f is string => !!f))];
export const cardForm = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FORMS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });

/** Any JSON, with object keys sometimes taken from the platform's own field names. */
export function jsonWithKeys(keys: string[], maxDepth = 3): fc.Arbitrary<unknown> {
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
  const leaf = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.string({ unit: 'grapheme', maxLength: 20 }), messageText);
  const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', maxDepth, withCrossShrink: true },
      leaf,
      fc.array(tie('tree'), { maxLength: 4 }),
      fc.dictionary(key, tie('tree'), { maxKeys: 6, noNullPrototype: true })),
  }));
  return asJson(tree);
}

/** A pino logger writing into an array: what a test reads back instead of stderr. */
export function capturedLogger(level = 'info') {
  type Line = { level: number; msg: string; [k: string]: unknown };
  const lines: string[] = [];
  const errors: Line[] = [];
  const stream: DestinationStream = {
    write: (s: string) => {
      lines.push(s);
      const l = JSON.parse(s) as Line;
      if (l.level >= 50) errors.push(l);
    },
  };
  const log = createLogger(level, stream);
  return { log, lines, errors: () => errors, clear: () => { lines.length = 0; errors.length = 0; } };
}
