/**
 * The one normalisation pass every reader runs first (README "How the bot reads what cadres type"): full-width folded to
 * half-width, traditional characters converted to simplified with OpenCC, case folded. Two
 * forms:
 * - {@link normalize} for a single word (command names, choice words, keys): trimmed as well;
 * - {@link normalizeText} for a whole message: the same conversion character for character, so
 *   a span found in the normalised text is the same span of what the cadre typed — content is
 *   kept as typed, while places and units are stored in their simplified spelling.
 */
import * as OpenCC from 'opencc-js';

const convert = OpenCC.Converter({ from: 't', to: 'cn' });

/**
 * The dictionary keys behind `convert` (config t2s: its normalisation and conversion chains) that
 * change text, by their first UTF-16 unit, shortest first. OpenCC rewrites a text only where such
 * a key occurs in it (a key that maps to itself changes nothing, however it splits the text), so
 * a text containing none is returned as it is: most messages are plain simplified Chinese and skip
 * the conversion. Built once from the library's own dictionaries (constant data); should they not
 * be found, every text is converted.
 */
const CHANGING_KEYS: Map<number, string[]> | null = (() => {
  const config = (OpenCC.Locale.configs?.t2s ?? null) as { normalizationChain?: DictGroup[]; conversionChain?: DictGroup[] } | null;
  if (!config?.normalizationChain || !config.conversionChain) return null;
  const keys = new Map<number, string[]>();
  for (const dict of [...config.normalizationChain, ...config.conversionChain].flat()) {
    const pairs = typeof dict === 'string' ? dict.split('|').map((entry) => entry.split(' ')) : dict;
    for (const [key, value] of pairs) {
      if (!key || key === value) continue;
      const list = keys.get(key.charCodeAt(0)) ?? [];
      list.push(key);
      keys.set(key.charCodeAt(0), list);
    }
  }
  for (const list of keys.values()) list.sort((x, y) => x.length - y.length);
  return keys;
})();
// The same first units as flags, so that most characters cost an array read, not a Map lookup.
const KEY_STARTS = new Uint8Array(0x10000);
for (const unit of CHANGING_KEYS?.keys() ?? []) KEY_STARTS[unit] = 1;
type DictGroup = ReadonlyArray<string | ReadonlyArray<readonly [string, string]>>;

function toSimplified(s: string): string {
  return !CHANGING_KEYS || anyKeyIn(s, CHANGING_KEYS) ? convert(s) : s;
}
function anyKeyIn(s: string, keys: Map<number, string[]>): boolean {
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (KEY_STARTS[unit]) for (const key of keys.get(unit)!) if (s.startsWith(key, i)) return true;
  }
  return false;
}

// Command words, dates and kinds repeat endlessly: each is folded once.
const cache = new Map<string, string>();
const CACHE_MAX = 5000;

export function normalize(token: string): string {
  const hit = cache.get(token);
  if (hit !== undefined) return hit;
  const v = toSimplified(token.normalize('NFKC')).trim().toLowerCase();
  if (token.length <= 32) {
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(token, v);
  }
  return v;
}

/** A name in its stored spelling: full-width folded and simplified, case kept (石門鎮 → 石门镇). */
export function simplify(name: string): string {
  return toSimplified(name.normalize('NFKC')).trim();
}

// Characters OpenCC simplifies that place names keep (乾县, 乾村): 乾 is its own simplified form there.
const NAME_CHARACTERS = new Set(['乾']);
const NAME_CHARACTER_LIST = [...NAME_CHARACTERS];
function keepNameCharacters(before: string, after: string): string {
  if (before.length !== after.length || !NAME_CHARACTER_LIST.some((c) => before.includes(c))) return after;
  // By UTF-16 unit, as the lengths were compared: a character outside the BMP (𠮷, an emoji) is
  // two units, and walking code points against units would move 乾 onto its neighbour.
  let out = '';
  for (let i = 0; i < after.length; i++) out += NAME_CHARACTERS.has(before[i]) ? before[i] : after[i];
  return out;
}

/**
 * A message in matching form, with the same length as the original: character i of the result
 * is character i of `text`, folded. A character whose compatibility form is longer (㎡ → m2) is
 * left as it is, so positions never shift.
 */
export function normalizeText(text: string): string {
  const folded = foldWidths(text);
  const simple = toSimplified(folded);
  // OpenCC converts phrase by phrase; in the rare case a phrase changes length, convert each
  // character alone instead so that positions still line up.
  const out = simple.length === folded.length ? simple : [...folded].map((c) => { const s = toSimplified(c); return s.length === c.length ? s : c; }).join('');
  const kept = keepNameCharacters(folded, out);
  const lower = kept.toLowerCase();
  return lower.length === kept.length ? lower : kept;
}

// Per UTF-16 unit outside the surrogates: 1 + the unit NFKC folds it to alone, or 1 + itself when
// the fold is longer (㎡ → m2); 0 until first seen. Constant data, filled as characters appear.
const FOLD = new Uint32Array(0x10000);
function foldUnit(c: number): number {
  let f = FOLD[c];
  if (f === 0) {
    const n = String.fromCharCode(c).normalize('NFKC');
    FOLD[c] = f = 1 + (n.length === 1 ? n.charCodeAt(0) : c);
  }
  return f - 1;
}

/**
 * NFKC character by character, keeping any character whose fold is longer: the result has the
 * length of `text`. (The ideographic space folds to a plain space.)
 */
function foldWidths(text: string): string {
  let out = '', from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A text with surrogates (astral characters, two units each) takes the general path.
    if (c >= 0xd800 && c <= 0xdfff) return foldByCodePoint(text);
    const f = c < 0x80 ? c : foldUnit(c); // ASCII folds to itself
    if (f !== c) { out += text.slice(from, i) + String.fromCharCode(f); from = i + 1; }
  }
  return from === 0 ? text : out + text.slice(from);
}
function foldByCodePoint(text: string): string {
  let folded = '';
  for (const ch of text) {
    const n = ch.normalize('NFKC');
    // Astral characters are two UTF-16 units: keep them so indices stay aligned.
    folded += n.length === ch.length ? n : ch;
  }
  return folded.replace(/\u3000/g, ' ');
}
