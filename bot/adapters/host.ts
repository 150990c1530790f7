/**
 * Runs the adapters side by side so that none of them can take the others — or the process —
 * down: a start that fails, or an uncaught exception an adapter's SDK throws out of the event
 * loop (`dingtalk-stream` 2.1.5's heartbeat pinging a socket that is still connecting), is
 * logged and that adapter alone is restarted after a back-off; the others go on.
 *
 * An uncaught exception that no adapter owns is logged and the process carries on too: every
 * write the bot makes is a SQLite transaction, so there is no half-written state to flee from.
 */
import type { Logger } from 'pino';
import type { PlatformAdapter } from './adapter.js';
import { Backoff, pause, type AdapterHealth } from './health.js';

export interface HostOptions {
  log: Logger;
  /** Back-off of restarts after a fault. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Install `uncaughtException` / `unhandledRejection` handlers (off in tests that call `fault`). */
  processHandlers?: boolean;
}

interface Slot { adapter: PlatformAdapter; backoff: Backoff; restarting?: Promise<void>; wait?: ReturnType<typeof pause>; restarts: number; lastFault?: string }

export class AdapterHost {
  private slots: Slot[] = [];
  private stopped = false;
  private keepAlive?: NodeJS.Timeout;
  private onUncaught = (err: unknown) => { this.fault(err, 'uncaught exception'); };
  private onRejection = (err: unknown) => { this.fault(err, 'unhandled rejection'); };

  constructor(private o: HostOptions) {}

  /** How many adapters it runs. */
  get size(): number {
    return this.slots.length;
  }

  add(adapter: PlatformAdapter): this {
    this.slots.push({ adapter, backoff: new Backoff(this.o.minDelayMs ?? 1_000, this.o.maxDelayMs ?? 60_000), restarts: 0 });
    return this;
  }

  get adapters(): PlatformAdapter[] {
    return this.slots.map((s) => s.adapter);
  }

  /** Starts every adapter; one that fails to start is retried in the background. */
  async start(): Promise<void> {
    if (this.o.processHandlers !== false) {
      process.on('uncaughtException', this.onUncaught);
      process.on('unhandledRejection', this.onRejection);
    }
    // A long connection's retry timer may be all that is pending; the bot must not exit
    // (Node's exit code 13) just because every platform is between attempts.
    this.keepAlive = setInterval(() => {}, 1 << 30);
    await Promise.all(this.slots.map((s) => this.startSlot(s)));
  }

  private async startSlot(s: Slot): Promise<void> {
    try {
      await s.adapter.start();
    } catch (err) {
      this.o.log.error({ err, platform: s.adapter.platform }, 'adapter could not start: restarting it');
      this.restart(s, (err as Error)?.message ?? String(err));
    }
  }

  /**
   * Takes an error no caller caught. The adapter whose SDK threw it is restarted; the error is
   * logged either way and never ends the process.
   */
  fault(err: unknown, kind = 'uncaught exception'): PlatformAdapter | undefined {
    const s = this.slots.find((x) => { try { return x.adapter.owns(err); } catch { return false; } });
    if (!s) {
      this.o.log.error({ err, kind }, 'error outside any adapter: logged, the bot carries on');
      return undefined;
    }
    this.o.log.error({ err, kind, platform: s.adapter.platform }, 'adapter fault: restarting that adapter');
    this.restart(s, (err as Error)?.message ?? String(err));
    return s.adapter;
  }

  private restart(s: Slot, reason: string): void {
    if (this.stopped || s.restarting) return;
    s.lastFault = reason;
    s.restarting = (async () => {
      try { await s.adapter.stop(); } catch (err) { this.o.log.warn({ err, platform: s.adapter.platform }, 'adapter stop failed during restart'); }
      const ms = s.backoff.next();
      s.wait = pause(ms);
      const go = await s.wait.done;
      s.wait = undefined;
      if (!go || this.stopped) return;
      s.restarts++;
      try {
        await s.adapter.start();
        this.o.log.info({ platform: s.adapter.platform, restarts: s.restarts }, 'adapter restarted');
      } catch (err) {
        s.restarting = undefined;
        this.o.log.error({ err, platform: s.adapter.platform }, 'adapter restart failed: trying again');
        this.restart(s, (err as Error)?.message ?? String(err));
        return;
      }
      s.restarting = undefined;
    })();
  }

  /** Each adapter's state, restarts and last fault included. */
  health(): AdapterHealth[] {
    return this.slots.map((s) => {
      const h = s.adapter.health();
      return { ...h, restarts: s.restarts, ...(s.restarting && h.state !== 'ready' ? { state: 'failed', detail: `已重启中：${s.lastFault}` } : {}) };
    });
  }

  /** What `/healthz` answers: 200 when every adapter is ready, else 503; each adapter's state. */
  healthz(): { status: number; body: { ok: boolean; adapters: AdapterHealth[] } } {
    const adapters = this.health();
    const ok = adapters.every((a) => a.state === 'ready');
    return { status: ok ? 200 : 503, body: { ok, adapters } };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.slots) s.wait?.cancel();
    await Promise.allSettled(this.slots.map((s) => s.restarting));
    for (const s of [...this.slots].reverse()) {
      try { await s.adapter.stop(); } catch (err) { this.o.log.warn({ err, platform: s.adapter.platform }, 'adapter stop failed'); }
    }
    await Promise.allSettled(this.slots.map((s) => s.adapter.idle()));
    clearInterval(this.keepAlive);
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onRejection);
  }
}
