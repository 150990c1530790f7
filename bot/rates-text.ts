/**
 * How the three rates (三率, storage/rates.ts) read in chat — /统计 and the weekly digest say
 * them the same way. Typed structurally so that bot/ stays free of storage/.
 */
export interface RateLike { n: number; of: number }
export interface ThreeRatesLike { response: RateLike; resolution: RateLike; satisfaction: RateLike }

export const RATE_NAMES = { response: '响应率', resolution: '解决率', satisfaction: '满意率' } as const;

/** '90%', or '—' when nothing was measured. Rounded down below 100%, so 99.6% never reads 100%. */
export function percent(r: RateLike): string {
  if (!r.of) return '—';
  const p = (r.n / r.of) * 100;
  return `${r.n < r.of ? Math.min(99, Math.round(p)) : 100}%`;
}

/** `响应率 90%（9/10） · 解决率 —（无到期问题） · 满意率 100%（2/2）` */
export function ratesText(r: ThreeRatesLike): string {
  const one = (k: keyof typeof RATE_NAMES) => `${RATE_NAMES[k]} ${percent(r[k])}${r[k].of ? `（${r[k].n}/${r[k].of}）` : ''}`;
  return (['response', 'resolution', 'satisfaction'] as const).map(one).join(' · ');
}
