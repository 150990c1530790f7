/**
 * The reader finds known places among tens of thousands (a province's villages) through an index
 * of the shared names, and the cadre's own recent places beside them; the longest match wins as
 * it always did.
 */
import { describe, expect, it } from 'vitest';
import { collectArgs, findCommand, splitCommand } from '../bot/parse.js';
import { Registry } from '../bot/command.js';
import { normalize } from '../bot/normalize.js';
import { allCommands } from '../scripts/commands.js';
import type { ReadEnv } from '../bot/args.js';

const registry = new Registry(allCommands(), normalize);
const visit = findCommand(registry, '走访');
const env = (places: string[], ownPlaces?: string[]): ReadEnv => ({ now: new Date('2026-11-20T09:00:00+08:00'), tz: 'Asia/Shanghai', today: '2026-11-20', places, ownPlaces });
const placeOf = (text: string, e: ReadEnv) => collectArgs(visit, splitCommand(text, false, registry)!.body, e).raw.place;

// 24,000 village names in the shape a province has them.
const many = Array.from({ length: 24_000 }, (_, i) => `${'东西南北中'[i % 5]}${'山河湖岭坪'[Math.floor(i / 5) % 5]}${i}村`);

describe('known places', () => {
  it('finds a place among 24,000 shared names, and the longer of two that overlap', () => {
    const places = [...many, '石门', '石门村'];
    expect(placeOf('/走访 昨天去南河12村入户 2小时 走访困难户3户', env(places))).toBe('南河12村');
    expect(placeOf('/走访 昨天 石门村 入户 2小时', env(places))).toBe('石门村');
  });

  it("finds the cadre's own recent place that is not a unit", () => {
    expect(placeOf('/走访 昨天在二道拐走访 2小时', env(many, ['二道拐']))).toBe('二道拐');
    expect(placeOf('/走访 昨天在二道拐走访 2小时', env(many))).not.toBe('二道拐');
  });

  it('reads the same with the same list handed in again (the index is kept per list)', () => {
    const places = ['西河村', '东关社区'];
    const e = env(places);
    expect(placeOf('/走访 今天 东关社区 座谈 1小时', e)).toBe('东关社区');
    expect(placeOf('/走访 今天 西河村 宣讲 1小时', e)).toBe('西河村');
  });
});
