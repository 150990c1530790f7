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

const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

// Command words, dates and kinds repeat endlessly; the conversion is the parser's main cost.
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
function keepNameCharacters(before: string, after: string): string {
  if (before.length !== after.length || ![...NAME_CHARACTERS].some((c) => before.includes(c))) return after;
  return [...after].map((c, i) => (NAME_CHARACTERS.has(before[i]) ? before[i] : c)).join('');
}

/**
 * A message in matching form, with the same length as the original: character i of the result
 * is character i of `text`, folded. A character whose compatibility form is longer (㎡ → m2) is
 * left as it is, so positions never shift.
 */
export function normalizeText(text: string): string {
  let folded = '';
  for (const ch of text) {
    const n = ch.normalize('NFKC');
    // Astral characters are two UTF-16 units: keep them so indices stay aligned.
    folded += n.length === ch.length ? n : ch;
  }
  folded = folded.replace(/\u3000/g, ' ');
  const simple = toSimplified(folded);
  // OpenCC converts phrase by phrase; in the rare case a phrase changes length, convert each
  // character alone instead so that positions still line up.
  const out = simple.length === folded.length ? simple : [...folded].map((c) => { const s = toSimplified(c); return s.length === c.length ? s : c; }).join('');
  const kept = keepNameCharacters(folded, out);
  return kept.toLowerCase().length === kept.length ? kept.toLowerCase() : kept;
}
