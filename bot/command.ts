/**
 * A command is declared once: name, aliases, arguments (with their zod schemas), help, examples
 * and the handler. Parsing, help text, error replies and card forms are all derived from this.
 */
import type { InboundMetrics } from './metrics.js';
import type { Logger } from 'pino';
import type { Attachment, BotEvent } from './event.js';
import type { Reply } from './reply.js';
import type { ArgDef, ReadEnv } from './args.js';
import type { LocalDate } from './time.js';
import type { Db } from '../storage/db.js';
import type { ReminderDefaults } from '../storage/reminder-settings.js';
import type { Cadre, Unit } from '../storage/types.js';
import type { Config } from './config.js';

export type ArgDefs = Record<string, ArgDef<any>>;
export type InputOf<A extends ArgDefs> = { [K in keyof A]: A[K] extends ArgDef<infer T> ? T : never };

/** What a handler may use; built once by the composition root. */
export interface Deps {
  db: Db;
  config: Config;
  log: Logger;
  registry: Registry;
  /**
   * The reminder settings the environment gives (MINQING_QUIET_HOURS, MINQING_CRON_*): what the
   * scheduler runs with and /提醒 shows, under the admins' changes.
   */
  reminderDefaults: ReminderDefaults;
  /** Set by the composition root when a scheduler runs: /提醒 calls it after changing times. */
  onRemindersChanged?: () => void;
  /**
   * Evidence sent with or after a record (handlers/evidence.ts; set by the composition root):
   * `withCommand` attaches a write command's own attachments to what it recorded, inside its
   * transaction; `alone` answers a message that carries attachments and no command.
   */
  evidence?: { withCommand(ctx: Ctx): Promise<string | undefined>; alone(ctx: Ctx): Promise<HandlerResult> };
  /** Imports a roster file and returns the row report (`minqing import`; set by the composition root). */
  importRoster?: (file: string) => Promise<string>;
  /** The bytes of an attachment, from the platform that delivered it (set once adapters run). */
  fetchAttachment?: (platform: string, messageId: string | undefined, attachment: Attachment) => Promise<Buffer>;
  /** Counts each inbound message by platform and outcome (`/metrics`; set by the composition root). */
  metrics?: InboundMetrics;
}

export interface Ctx {
  event: BotEvent;
  deps: Deps;
  db: Db;
  now: Date;
  today: LocalDate;
  tz: string;
  /** The cadre bound to the sender; commands with `anyone` may see none. */
  cadre: Cadre;
  isAdmin: boolean;
  /** The unit this group chat is mapped to (/单位), if any. */
  chatUnit?: Unit;
  /** What reading this message may use: its clock, and the places the deployment knows (read once, on first use). */
  readEnv(): Promise<ReadEnv>;
  /**
   * Work that must see the command's records committed (a slow download, telling the scheduler
   * of new settings): runs once the write command's transaction commits, never if it rolls back;
   * in a read command, at once. Not awaited by the reply.
   */
  afterCommit(fn: () => unknown): void;
  log: Logger;
}

export type HandlerResult = Reply | Reply[] | string;

export interface CommandDef<A extends ArgDefs = ArgDefs> {
  name: string;
  aliases: string[];
  summary: string;
  args: A;
  examples: string[];
  /** Extra lines for /帮助 <command>. */
  notes?: string[];
  /** Help groups: 'record' | 'issue' | 'query' | 'admin'. */
  group: 'record' | 'issue' | 'query' | 'admin';
  adminOnly?: boolean;
  /** Unbound users may run it (/帮助, /绑定). */
  anyone?: boolean;
  /**
   * A message addressed to the bot with no command word that says one of these words
   * (`昨天去石门村走访了三户`) is read as this command, and the bot asks whether it is meant
   * (`这是要记录走访吗？`) before anything is stored; `what` names the action in that question.
   */
  intent?: { words: RegExp; what: string };
  /** The card form that submits this command, if it has one. */
  form?: string;
  /**
   * 'write' handlers run inside one transaction (their `ctx.db` is it) and await nothing but
   * the database; 'read' handlers may do slower work (file exports) and must not write.
   */
  mode: 'write' | 'read';
  handle(ctx: Ctx, input: InputOf<A>): Promise<HandlerResult>;
}

export function defineCommand<A extends ArgDefs>(def: CommandDef<A>): CommandDef<A> {
  if (def.name.startsWith('/')) throw new Error(`command ${def.name}: register the name without '/'`);
  return def;
}

/** All commands, looked up by any of their names. */
export class Registry {
  readonly commands: CommandDef[] = [];
  private byName = new Map<string, CommandDef>();

  constructor(commands: CommandDef<any>[], normalize: (s: string) => string) {
    for (const c of commands) {
      this.commands.push(c);
      for (const n of [c.name, ...c.aliases]) {
        const key = normalize(n);
        if (this.byName.has(key)) throw new Error(`command name ${n} is declared twice`);
        this.byName.set(key, c);
      }
    }
  }

  get(normalizedName: string): CommandDef | undefined {
    return this.byName.get(normalizedName);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}

/** `/走访 [日期] 地点 [类型] 时长 [内容]` — derived from the argument declarations. */
export function usageOf(c: CommandDef): string {
  const parts = Object.values(c.args).map((a) => (a.optional ? `[${a.label}]` : a.label));
  return ['/' + c.name, ...parts].join(' ');
}
