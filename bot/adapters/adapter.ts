/**
 * The one shape every platform adapter has, so a new platform touches `bot/adapters/` alone: it
 * declares its configuration, its limits and how it is built (`PlatformDefinition`), and what
 * it builds (`PlatformAdapter`) says how events arrive, how replies leave, how it starts and
 * stops, and how it is doing. The host (`host.ts`) runs them and `scripts/platforms.ts` loops
 * over the registered definitions (`registry.ts`).
 */
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Sender, Window } from '../outbound.js';
import type { RouteDef } from '../http-server.js';
import type { AdapterDeps, Forms } from './common.js';
import { HealthCell, type AdapterHealth } from './health.js';

export interface PlatformAdapter {
  readonly platform: string;
  /** How events arrive: 'http' (routes on the shared server) or a long connection ('stream', 'ws', 'wechaty'). */
  readonly transport: string;
  readonly sender: Sender;
  /** HTTP routes on the shared server; [] for a long connection. */
  routes(): RouteDef[];
  /**
   * Opens the long connection (if any) and returns once it is under way — not necessarily
   * connected: `health()` says when it is. Throws only for a fault a retry cannot cure.
   */
  start(): Promise<void>;
  /** Closes the connection and clears its timers; the adapter may be started again. */
  stop(): Promise<void>;
  health(): AdapterHealth;
  /** Resolves when every event taken so far has been answered. */
  idle(): Promise<void>;
  /**
   * True for an error thrown out of the event loop by this adapter's SDK (an uncaught exception
   * from one of its timers or sockets), so the host restarts this adapter and no other.
   */
  owns(err: unknown): boolean;
}

/** What the composition root hands every adapter besides `AdapterDeps`. */
export interface PlatformContext extends AdapterDeps {
  forms: Forms;
  botName: string;
  log: Logger;
}

/**
 * A platform as the registry knows it. `config` is a zod object over environment variables;
 * its keys are merged into the one configuration schema, so a bad value stops the program at
 * start-up with the variable's name.
 */
export interface PlatformDefinition<C extends z.ZodRawShape = z.ZodRawShape> {
  platform: string;
  /** The platform's environment variables. */
  config: C;
  /** Whether these variables switch the platform on. */
  enabled(env: z.output<z.ZodObject<C>>): boolean;
  /** A misconfiguration worth stopping for (half a pair of variables …), or null. */
  check?(env: z.output<z.ZodObject<C>>): string | null;
  /** Outbound limits per target (docs/platforms.md#limits). */
  limits: Window[];
  /** Builds the adapter for the variables given; `describe` is one line for the start-up banner. */
  create(env: z.output<z.ZodObject<C>>, ctx: PlatformContext): Promise<{ adapter: PlatformAdapter; describe: string }>;
}

/** Matches an error by the SDK files on its stack. */
export function stackMentions(err: unknown, ...markers: string[]): boolean {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  return markers.some((m) => stack.includes(m));
}

/** Two variables that go together set by half: which one is missing, as a start-up error; or null. */
export function unpaired<E>(env: E, a: keyof E & string, b: keyof E & string): string | null {
  if (!!env[a] === !!env[b]) return null;
  return `${env[a] ? b : a} 未设置（${a} 与 ${b} 需成对设置）`;
}

/** Declares a platform with its variables' types inferred from `config`. */
export function definePlatform<C extends z.ZodRawShape>(d: PlatformDefinition<C>): PlatformDefinition<C> {
  return d;
}

/** An adapter whose events arrive on HTTP routes only: ready once the server listens, nothing to open. */
export function httpAdapter(a: { platform: string; sender: Sender; routes(): RouteDef[]; idle(): Promise<void> }, marker: string): PlatformAdapter {
  const health = new HealthCell(a.platform, 'http');
  health.set('ready');
  return {
    platform: a.platform,
    transport: 'http',
    sender: a.sender,
    routes: () => a.routes(),
    async start() { health.set('ready'); },
    async stop() { health.set('stopped'); },
    health: () => health.get(),
    idle: () => a.idle(),
    owns: (err) => stackMentions(err, marker),
  };
}
