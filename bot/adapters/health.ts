/**
 * The state each adapter reports (and `/healthz` shows), and the back-off its connection
 * supervisors share.
 */

/**
 * - `starting`: not yet connected for the first time.
 * - `ready`: taking events (HTTP routes are ready once the server listens).
 * - `reconnecting`: the connection dropped or failed; a retry is scheduled.
 * - `failed`: given up until the host restarts the adapter (the detail says why).
 * - `stopped`: closed on purpose.
 */
export type AdapterState = 'starting' | 'ready' | 'reconnecting' | 'failed' | 'stopped';

export interface AdapterHealth {
  platform: string;
  transport: string;
  state: AdapterState;
  /** When the state last changed (ISO time). */
  since: string;
  /** Why it is not ready, in words an operator can act on. */
  detail?: string;
  /** Failed connection attempts in a row. */
  attempts: number;
  /** Times the host restarted the adapter after a fault. */
  restarts: number;
}

/** One adapter's health, updated by its transport and read by the host. */
export class HealthCell {
  private h: AdapterHealth;

  constructor(platform: string, transport: string, private now: () => number = Date.now) {
    this.h = { platform, transport, state: 'starting', since: new Date(now()).toISOString(), attempts: 0, restarts: 0 };
  }

  set(state: AdapterState, detail?: string, attempts?: number): void {
    if (state !== this.h.state) this.h.since = new Date(this.now()).toISOString();
    this.h.state = state;
    this.h.detail = detail;
    if (attempts !== undefined) this.h.attempts = attempts;
    else if (state === 'ready') this.h.attempts = 0;
  }

  restarted(): void {
    this.h.restarts++;
  }

  get(): AdapterHealth {
    return { ...this.h };
  }
}

/** Exponential back-off with ±25 % jitter: min, 2·min, 4·min … up to max. */
export class Backoff {
  private delay: number;

  constructor(private min = 1_000, private max = 60_000, private random: () => number = Math.random) {
    this.delay = min;
  }

  next(): number {
    const d = Math.round(this.delay * (0.75 + this.random() * 0.5));
    this.delay = Math.min(this.delay * 2, this.max);
    return d;
  }

  reset(): void {
    this.delay = this.min;
  }
}

/** A cancellable wait; `cancel()` resolves it early with false. */
export function pause(ms: number): { done: Promise<boolean>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let resolve!: (v: boolean) => void;
  const done = new Promise<boolean>((r) => { resolve = r; timer = setTimeout(() => r(true), ms); });
  return { done, cancel: () => { clearTimeout(timer); resolve(false); } };
}
