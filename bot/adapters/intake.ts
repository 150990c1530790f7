/**
 * The accept / deliver / forget routine every adapter shares, written once:
 *
 * - accept a delivery unless one of its ids was taken already — a redelivery, which the router
 *   would answer with its recorded replies; dropping it here is what keeps a second copy away;
 * - run it through the core and deliver its replies (the outbox, when the composition root gives
 *   one);
 * - on failure forget its ids, so the platform's resend is taken again.
 *
 * The platform's answer (HTTP response, stream ack) waits at most `ackWithinMs` — platforms
 * resend what is not answered in a few seconds — while the work itself carries on; `idle()`
 * awaits it.
 */
import type { BotEvent } from '../event.js';
import type { Reply } from '../reply.js';
import { handleAndDeliver, InFlight, SeenIds, TIMED_OUT, within, type AdapterDeps } from './common.js';

export { TIMED_OUT } from './common.js';

export class Intake {
  private seen: SeenIds;
  private inflight = new InFlight();
  private ackWithin: number;

  constructor(private deps: AdapterDeps, private platform: string, o: { ackWithinMs?: number; now?: () => number } = {}) {
    this.seen = new SeenIds(20_000, 24 * 3_600_000, o.now ?? Date.now);
    this.ackWithin = o.ackWithinMs ?? 2_500;
  }

  /** True for a new delivery (its ids are remembered); false when `id` was taken already. */
  accept(id: string): boolean {
    return !this.seen.check(id);
  }

  /**
   * Handles the event and delivers its replies; on failure forgets `ids` (by default the event's
   * message id) so a resend is taken again. Resolves with the replies, `undefined` after a
   * failure, or `TIMED_OUT` when the ack window closed first.
   */
  take(event: BotEvent, ids: string[] = [event.messageId!]): Promise<Reply[] | undefined | typeof TIMED_OUT> {
    const work = this.track(handleAndDeliver(event, this.deps, this.platform).then((replies) => {
      if (!replies) for (const id of ids) this.seen.forget(id);
      return replies;
    }));
    return within(work, this.ackWithin);
  }

  /** Other work that may outlive the ack window (a form sent by direct message). */
  track<T>(p: Promise<T>): Promise<T> {
    return this.inflight.track(p);
  }

  idle(): Promise<void> {
    return this.inflight.idle();
  }
}
