/**
 * The composition root: builds the database, the command registry and the logger, and hands
 * them to whichever adapters run. Nothing else constructs these.
 */
import type { Logger } from 'pino';
import { Registry, type Deps } from '../bot/command.js';
import { reminderDefaults, type Config } from '../bot/config.js';
import { createLogger } from '../bot/logger.js';
import { normalize } from '../bot/normalize.js';
import { handleEvent } from '../bot/router.js';
import type { BotEvent } from '../bot/event.js';
import type { Reply } from '../bot/reply.js';
import { openDb, type Db } from '../storage/db.js';
import { firstSeen } from '../storage/proofs.js';
import { alone, withCommand } from '../handlers/evidence.js';
import { formatImportReport, importRosterFile } from './import.js';
import type { AdapterDeps } from '../bot/adapters/common.js';
import { allCommands } from './commands.js';

export interface App {
  deps: Deps;
  handle(e: BotEvent): Promise<Reply[]>;
  /**
   * What the adapters get besides `handle`: the durable replay guard, and the reply outbox once
   * the outbound path exists (set by whoever starts the platforms).
   */
  adapterDeps: Pick<AdapterDeps, 'outbox' | 'firstSeen'>;
  /** Closes the database if the app opened it (`openApp`); a database handed in stays open. */
  close(): Promise<void>;
}

/** The app over a database the caller opened (and closes). */
export function createApp(config: Config, opts: { db: Db; log?: Logger }): App {
  return build(config, opts.db, opts.log, false);
}

/** Opens `MINQING_DB` (SQLite file or PostgreSQL URL) and builds the app; `close()` closes it. */
export async function openApp(config: Config, opts: { log?: Logger } = {}): Promise<App> {
  return build(config, await openDb(config.MINQING_DB), opts.log, true);
}

function build(config: Config, db: Db, logger: Logger | undefined, ownsDb: boolean): App {
  const log = logger ?? createLogger(config.LOG_LEVEL);
  const registry = new Registry(allCommands(), normalize);
  const deps: Deps = { db, config, log, registry, reminderDefaults: reminderDefaults(config), evidence: { alone, withCommand },
    importRoster: async (file) => formatImportReport(await importRosterFile(db, file)) };
  return {
    deps,
    handle: (e) => handleEvent(e, deps),
    adapterDeps: { firstSeen: (scope, proof, expiresAt) => firstSeen(db, scope, proof, expiresAt, Date.now()) },
    close: async () => { if (ownsDb) await db.close(); },
  };
}
