/**
 * Every platform the bot can run. A new platform is a folder under `bot/adapters/` with a
 * `platform.ts` (see `adapter.ts`) and one line here; the configuration schema, the start-up
 * checks, the outbound limits and `scripts/platforms.ts` all follow from this list.
 */
import type { z } from 'zod';
import type { Window } from '../outbound.js';
import type { PlatformDefinition } from './adapter.js';
import { dingtalkPlatform } from './dingtalk/platform.js';
import { feishuPlatform } from './feishu/platform.js';
import { wecomPlatform } from './wecom/platform.js';

export const platforms = [feishuPlatform, dingtalkPlatform, wecomPlatform] as const;

type Shapes = (typeof platforms)[number]['config'];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The variables of every platform, merged into the one configuration schema. */
export const platformConfig = Object.assign({}, ...platforms.map((p) => p.config)) as UnionToIntersection<Shapes>;

type Env = Record<string, unknown>;
const asAny = (p: (typeof platforms)[number]) => p as unknown as PlatformDefinition<z.ZodRawShape> & { enabled(e: Env): boolean; check?(e: Env): string | null };

/** The platforms the configuration switches on. */
export function enabledPlatforms(env: Env): PlatformDefinition[] {
  return platforms.map(asAny).filter((p) => p.enabled(env));
}

/** The first misconfiguration of any platform, or null. */
export function checkPlatforms(env: Env): string | null {
  for (const p of platforms.map(asAny)) { const bad = p.check?.(env); if (bad) return bad; }
  return null;
}

/** Outbound limits per platform (the console has none). */
export function platformLimits(): Record<string, Window[]> {
  return { console: [], ...Object.fromEntries(platforms.map((p) => [p.platform, p.limits])) };
}
