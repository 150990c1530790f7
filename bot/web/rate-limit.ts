/**
 * A fixed-window counter per key (client IP, link token) for the public pages. In memory: the
 * pages are served by one process per database (docs/rules.md#operating); several processes each keep their
 * own count, so the limit a client meets is at most that many times the figure.
 */
export interface Limit {
  /** Requests allowed per window. */
  max: number;
  windowMs: number;
}

export class RateLimiter {
  private hits = new Map<string, { start: number; n: number }>();

  constructor(private limit: Limit, private now: () => number = Date.now, private maxKeys = 50_000) {}

  /** Counts one request for `key`; returns 0 when allowed, else the seconds until it would be. */
  take(key: string): number {
    const t = this.now();
    let h = this.hits.get(key);
    if (!h || t - h.start >= this.limit.windowMs) {
      if (!h && this.hits.size >= this.maxKeys) this.sweep(t);
      h = { start: t, n: 0 };
      this.hits.set(key, h);
    }
    h.n++;
    return h.n > this.limit.max ? Math.max(1, Math.ceil((h.start + this.limit.windowMs - t) / 1000)) : 0;
  }

  /** Drops finished windows; if a flood of distinct keys leaves none finished, starts afresh. */
  private sweep(t: number): void {
    for (const [k, h] of this.hits) if (t - h.start >= this.limit.windowMs) this.hits.delete(k);
    if (this.hits.size >= this.maxKeys) this.hits.clear();
  }
}
