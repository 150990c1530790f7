/**
 * Matching form of a token: full-width folded to half-width (NFKC) and traditional characters
 * converted to simplified with OpenCC, so `／走訪`, `/走访` and `/ZouFang`-style variants meet.
 * Used only for recognising words; what users wrote is stored as they wrote it.
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
