/**
 * SQLite checkpoints off the event loop. In WAL mode every commit appends to the log; now and
 * then the log is copied back into the database file and synced (a checkpoint). SQLite runs it
 * on the connection that commits, inside that COMMIT: on a busy bot a group commit would wait a
 * few milliseconds for the copy and the fsync — the whole event loop with it — every thousand
 * pages. Here a worker thread with its own connection runs PASSIVE checkpoints (they never block
 * the writer or wait for it) a few times a second, so the bot's commits only append.
 *
 * The writer keeps an automatic checkpoint as a safety net, at a larger size: if the worker
 * cannot run (or falls behind), the log is still checkpointed, only on the event loop again.
 * The worker starts after the first few hundred commits, so short-lived handles (the tests, the
 * CLI) never pay for a thread.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** Commits before the worker starts. */
const START_AFTER = 200;
/** How long the worker naps once it caught up with the log. */
const EVERY_MS = 20;
/** The writer's own automatic checkpoint (pages of the log), used only when the worker is behind. */
export const SAFETY_NET_PAGES = 8000;

// While the log grows the worker goes round again at once (it is a second core's work, and the
// writer can restart the log only after a pass that caught up); once caught up it naps.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
let timer, stopped = false, last = -1;
const pass = () => {
  if (stopped) return;
  let behind = false;
  // Again at once only while a pass moves on: a reader holding an old snapshot (a report, another
  // process) stops it short of the end, and spinning against it would hold a core for nothing.
  try { const r = db.pragma('wal_checkpoint(PASSIVE)')[0]; behind = r.busy === 0 && r.checkpointed < r.log && r.checkpointed > last; last = r.checkpointed; } catch {}
  timer = behind ? setImmediate(pass) : setTimeout(pass, workerData.every);
};
timer = setTimeout(pass, workerData.every);
parentPort.on('message', () => { stopped = true; clearTimeout(timer); clearImmediate(timer); try { db.close(); } catch {} parentPort.close(); });
`;

export class Checkpointer {
  private commits = 0;
  private worker: Worker | undefined;
  /** Settles when the worker's thread has ended (listened for from the start: it may end early). */
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly file: string) {}

  /** Called after each commit of the writer. */
  committed(): void {
    if (this.worker || this.stopped || ++this.commits < START_AFTER) return;
    try {
      const module = createRequire(import.meta.url).resolve('better-sqlite3');
      const w = new Worker(WORKER, { eval: true, workerData: { file: this.file, module, every: EVERY_MS } });
      // The bot's process ends when its work ends, whatever this thread does.
      w.unref();
      // A worker that dies leaves the writer's own automatic checkpoint doing the work.
      w.on('error', () => undefined);
      this.exited = new Promise<void>((res) => w.once('exit', () => res()));
      this.worker = w;
    } catch {
      this.stopped = true;
    }
  }

  /** Stops the worker and closes its connection (before the writer closes, so the log can go). */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    w.postMessage('stop');
    // A worker stuck in a checkpoint is ended rather than waited for.
    const timer = setTimeout(() => void w.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
