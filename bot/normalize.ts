/**
 * Matching form of a token: full-width folded to half-width (NFKC) and traditional characters
 * converted to simplified with OpenCC, so `／走訪`, `/走访` and `/ZouFang`-style variants meet.
 * Used only for recognising words; what users wrote is stored as they wrote it.
 */
import * as OpenCC from 'opencc-js';

const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

export function normalize(token: string): string {
  return toSimplified(token.normalize('NFKC')).trim().toLowerCase();
}
