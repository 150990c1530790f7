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
  close(): void;
}

export function createApp(config: Config, opts: { db?: Db; log?: Logger } = {}): App {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const db = opts.db ?? openDb(config.MINQING_DB);
  const registry = new Registry(allCommands(), normalize);
  const deps: Deps = { db, config, log, registry, reminderDefaults: reminderDefaults(config), evidence: { alone, withCommand },
    importRoster: async (file) => formatImportReport(await importRosterFile(db, file)) };
  return {
    deps,
    handle: (e) => handleEvent(e, deps),
    adapterDeps: { firstSeen: (scope, proof, expiresAt) => firstSeen(db, scope, proof, expiresAt, Date.now()) },
    close: () => { if (!opts.db) db.$client.close(); },
  };
}
