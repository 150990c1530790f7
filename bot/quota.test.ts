import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat, testDialect } from '../test/chat.js';
import { oneWhere, rowsWhere, setWhere } from '../test/db-probe.js';
import { insertRow } from '../storage/rows.js';
import { cadres, issues, quotaRules, units, visits } from '../storage/schema.js';
import { evaluateQuotas, quotaCompletion, type QuotaStatus } from './quota.js';
import { missingText } from './quota-text.js';
import { ALL_PRESET_SETS, insertQuotaRule, installPresets, PRESET_RULES, PRESET_SETS, setQuotaRuleActive } from '../storage/quotas.js';
import { cadresByName } from '../storage/identity.js';

let chat: Chat;
let ids: { wang: number; zhang: number; li: number };
beforeEach(async () => {
  chat = await Chat.demo();
  const id = async (n: string) => (await cadresByName(chat.db, n))[0].id;
  ids = { wang: await id('王强'), zhang: await id('张三'), li: await id('李四') };
});
afterEach(async () => { await chat.close(); });

/** Reports through the bot with its clock set to `at` (Asia/Shanghai). */
const sayAt = (user: string, at: string, text: string) => chat.says(user, text, { at });
const ruleId = async (preset: string) => (await oneWhere(chat.db, quotaRules, { preset }))!.id;
const status = async (at: string | Date, cadreId: number, preset: string): Promise<QuotaStatus | undefined> =>
  (await evaluateQuotas(chat.db, { at, cadreIds: [cadreId], ruleIds: [await ruleId(preset)] }))[0];

describe('month boundaries (Asia/Shanghai)', () => {
  it('a visit on 2026-11-30 counts for November and not for December', async () => {
    await sayAt('u2', '2026-11-30T10:00:00+08:00', '/走访 今天 石门村 1天');
    expect(chat.lastReply).toContain('已记录走访');
    const nov = (await status('2026-11-30', ids.zhang, 'monthly-village-visit'))!;
    expect(nov).toMatchObject({ actual: 1, threshold: 1, missing: 0, met: true });
    expect(nov.period).toMatchObject({ start: '2026-11-01', end: '2026-11-30', key: '2026-11' });
    const dec = (await status('2026-12-01', ids.zhang, 'monthly-village-visit'))!;
    expect(dec).toMatchObject({ actual: 0, missing: 1, met: false });
    expect(dec.period.key).toBe('2026-12');
  });

  it('reads an instant in Shanghai time: 23:30 on the 30th is November, 16:30 UTC that day is December', async () => {
    await sayAt('u2', '2026-11-30T23:30:00+08:00', '/走访 今天 石门村 驻村 1天');
    expect({ date: (await oneWhere(chat.db, visits))?.date }).toEqual({ date: '2026-11-30' });
    expect((await status(new Date('2026-11-30T15:59:00Z'), ids.zhang, 'monthly-residency-days'))!.actual).toBe(1);
    expect((await status(new Date('2026-11-30T16:30:00Z'), ids.zhang, 'monthly-residency-days'))!.actual).toBe(0);
  });

  it('counts visit days as hours ÷ 8 and says exactly how much is missing', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 半天');
    await sayAt('u2', '2026-11-20T09:01:00+08:00', '/走访 今天 石门村 驻村 4小时');
    await sayAt('u2', '2026-11-20T09:02:00+08:00', '/走访 今天 石门村 驻村 2小时');
    expect(await status('2026-11-20', ids.zhang, 'monthly-residency-days')).toMatchObject({ actual: 1.25, missing: 0.75, met: false });
  });
});

describe('ISO weeks, quarters and years', () => {
  it('a week runs Monday to Sunday', async () => {
    await sayAt('u3', '2026-11-15T10:00:00+08:00', '/走访 今天 东关社区 8小时'); // Sunday of the week before
    await sayAt('u3', '2026-11-16T10:00:00+08:00', '/走访 今天 东关社区 6小时'); // Monday
    await sayAt('u3', '2026-11-22T10:00:00+08:00', '/走访 今天 东关社区 4小时'); // Sunday
    await sayAt('u3', '2026-11-23T10:00:00+08:00', '/走访 今天 东关社区 16小时'); // next Monday
    const s = (await status('2026-11-20', ids.li, 'staff-weekly-hours'))!;
    expect(s.period).toMatchObject({ start: '2026-11-16', end: '2026-11-22', key: '2026-W47' });
    expect(s).toMatchObject({ actual: 10, threshold: 20, missing: 10, met: false });
    expect((await status('2026-11-15', ids.li, 'staff-weekly-hours'))!.actual).toBe(8);
    expect((await status('2026-11-29', ids.li, 'staff-weekly-hours'))!.actual).toBe(16);
  });

  it('a week across New Year belongs to one ISO week', async () => {
    await sayAt('u3', '2026-12-28T10:00:00+08:00', '/走访 今天 东关社区 10小时'); // Monday of 2026-W53
    await sayAt('u3', '2027-01-03T10:00:00+08:00', '/走访 今天 东关社区 10小时'); // its Sunday
    const s = (await status('2027-01-01', ids.li, 'staff-weekly-hours'))!;
    expect(s.period.key).toBe('2026-W53');
    expect(s).toMatchObject({ actual: 20, met: true });
  });

  it('2026-12-31 counts for 2026, 2027-01-01 for 2027', async () => {
    await sayAt('u2', '2026-12-31T18:00:00+08:00', '/志愿 15小时 县福利院 义工日');
    await sayAt('u2', '2027-01-01T09:00:00+08:00', '/志愿 6小时 县福利院 元旦志愿服务');
    expect(await status('2026-12-31', ids.zhang, 'yearly-volunteer-hours')).toMatchObject({ actual: 15, missing: 5, met: false });
    expect(await status('2027-01-01', ids.zhang, 'yearly-volunteer-hours')).toMatchObject({ actual: 6, missing: 14, met: false });
    expect((await status('2027-06-30', ids.zhang, 'yearly-volunteer-hours'))!.period).toMatchObject({ start: '2027-01-01', end: '2027-12-31' });
  });

  it('Q4 runs from October 1st to December 31st', async () => {
    const q = await insertQuotaRule(chat.db, { name: '每季度入户', metric: 'visit_count', filter: { kinds: ['household'] }, period: 'quarter', threshold: 3 }, 0);
    await sayAt('u2', '2026-09-30T10:00:00+08:00', '/走访 今天 石门村 入户 2小时');
    await sayAt('u2', '2026-10-01T10:00:00+08:00', '/走访 今天 石门村 入户 2小时');
    await sayAt('u2', '2026-12-31T10:00:00+08:00', '/走访 今天 石门村 入户 2小时');
    await sayAt('u2', '2027-01-01T10:00:00+08:00', '/走访 今天 石门村 入户 2小时');
    const at = async (d: string) => (await evaluateQuotas(chat.db, { at: d, cadreIds: [ids.zhang], ruleIds: [q.id] }))[0];
    expect((await at('2026-11-20')).period).toMatchObject({ start: '2026-10-01', end: '2026-12-31', key: '2026-Q4' });
    expect(await at('2026-11-20')).toMatchObject({ actual: 2, missing: 1 });
    expect(await at('2026-09-30')).toMatchObject({ actual: 1, missing: 2 });
    expect(await at('2027-01-01')).toMatchObject({ actual: 1 });
  });
});

describe('only counted records count', () => {
  it('a returned, voided or pending (backdated) record does not count; a verified one does', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 1天'); // V1: returned below
    await sayAt('u2', '2026-11-20T09:01:00+08:00', '/走访 今天 石门村 驻村 1天'); // V2: voided by /撤销
    await sayAt('u2', '2026-11-20T09:02:00+08:00', '/撤销');
    expect(chat.lastReply).toContain('已撤销走访记录 #V2');
    await sayAt('u2', '2026-11-20T09:20:00+08:00', '/走访 11月2日 石门村 驻村 1天'); // V3: backdated, pending
    expect(chat.lastReply).toContain('补报');
    await sayAt('u1', '2026-11-20T09:30:00+08:00', '/核查 #V1 退回 日期不符');
    expect((await status('2026-11-20', ids.zhang, 'monthly-residency-days'))!.actual).toBe(0);
    await sayAt('u1', '2026-11-20T09:31:00+08:00', '/核查 #V3 通过');
    expect((await status('2026-11-20', ids.zhang, 'monthly-residency-days'))!.actual).toBe(1);
    await sayAt('u1', '2026-11-20T09:32:00+08:00', '/核查 #V1 通过');
    expect((await status('2026-11-20', ids.zhang, 'monthly-residency-days'))!.actual).toBe(2);
  });

  it('counts an issue once it is resolved by the cadre responsible, not when voided or reopened', async () => {
    const ins = (responsibleCadreId: number, state: string, reporterCadreId: number, resolvedDate: string, voidedAt: number | null) =>
      insertRow(chat.db, issues, {
        unitId: 1, originUnitId: 1, ledger: 'livelihood', category: '基础设施', place: '石门村', description: '道路破损',
        responsibleCadreId, deadline: '2026-12-31', source: 'visit', state, reporterCadreId, platform: 'console', createdAt: 0,
        createdDate: '2026-11-01', resolvedDate, voidedAt,
      });
    await ins(ids.wang, 'resolved', ids.wang, '2026-11-17', null); // this week
    await ins(ids.wang, 'closed', ids.wang, '2026-11-22', null); // Sunday: same week
    await ins(ids.wang, 'resolved', ids.wang, '2026-11-15', null); // last week
    await ins(ids.wang, 'resolved', ids.wang, '2026-11-18', 1); // voided
    await ins(ids.wang, 'in_progress', ids.wang, '2026-11-19', null); // reopened after 不满意
    await ins(ids.li, 'resolved', ids.wang, '2026-11-18', null); // someone else is responsible
    expect(await status('2026-11-20', ids.wang, 'leader-weekly-issue')).toMatchObject({ actual: 2, met: true });
    expect(await status('2026-11-20', ids.wang, 'leader-yearly-issues')).toMatchObject({ actual: 3, met: true });
    expect(await status('2026-11-20', ids.li, 'staff-yearly-issues')).toMatchObject({ actual: 1, met: true });
  });
});

describe('filters', () => {
  it('kinds narrow the visit metrics', async () => {
    await sayAt('u1', '2026-11-16T10:00:00+08:00', '/走访 今天 县开发区某公司 企业 2小时');
    await sayAt('u1', '2026-11-17T10:00:00+08:00', '/走访 今天 石门村 宣讲 2小时');
    await sayAt('u1', '2026-11-18T10:00:00+08:00', '/走访 今天 石门村 入户 1天');
    await sayAt('u1', '2026-11-19T10:00:00+08:00', '/走访 今天 石门村 谈心 1小时');
    expect((await status('2026-11-20', ids.wang, 'leader-weekly-enterprise'))!.actual).toBe(1);
    expect((await status('2026-11-20', ids.wang, 'leader-yearly-briefings'))!.actual).toBe(1);
    expect((await status('2026-11-20', ids.wang, 'leader-yearly-talks'))!.actual).toBe(1);
    // 到村 counts village, residency and household visits, not the enterprise or a briefing.
    expect((await status('2026-11-20', ids.wang, 'monthly-village-visit'))!.actual).toBe(1);
    expect((await status('2026-11-20', ids.wang, 'monthly-village-days'))!.actual).toBe(1);
    // A field day counts every kind: 2 + 2 + 8 + 1 hours.
    expect(await status('2026-11-20', ids.wang, 'leader-weekly-field-day')).toMatchObject({ actual: 1.625, met: true });
  });

  it('rank and resident-worker filters pick whom a rule applies to', async () => {
    const rules = async (cadreId: number) => (await evaluateQuotas(chat.db, { at: '2026-11-20', cadreIds: [cadreId] })).map((s) => s.rule.preset).sort();
    const everyone = ['monthly-residency-days', 'monthly-village-days', 'monthly-village-visit', 'yearly-volunteer-hours'];
    expect(await rules(ids.wang)).toEqual([...everyone, 'leader-weekly-enterprise', 'leader-weekly-field-day', 'leader-weekly-issue',
      'leader-yearly-briefings', 'leader-yearly-issues', 'leader-yearly-talks'].sort());
    expect(await rules(ids.zhang)).toEqual([...everyone, 'resident-monthly-days', 'staff-weekly-hours', 'staff-yearly-briefings', 'staff-yearly-issues'].sort());
    expect(await rules(ids.li)).toEqual([...everyone, 'staff-weekly-hours', 'staff-yearly-briefings', 'staff-yearly-issues'].sort());
  });

  it('a switched-off rule and an inactive cadre are not evaluated', async () => {
    await setQuotaRuleActive(chat.db, await ruleId('staff-weekly-hours'), false);
    await setWhere(chat.db, cadres, { active: false }, { id: ids.li });
    const all = await evaluateQuotas(chat.db, { at: '2026-11-20' });
    expect(all.some((s) => s.rule.preset === 'staff-weekly-hours')).toBe(false);
    expect(all.some((s) => s.cadre.id === ids.li)).toBe(false);
    expect(new Set(all.map((s) => s.cadre.id))).toEqual(new Set([ids.wang, ids.zhang]));
  });

  it('a unit scope covers the unit and only its cadres', async () => {
    const shimen = (await oneWhere(chat.db, units, { name: '石门镇' }))!;
    const st = await evaluateQuotas(chat.db, { at: '2026-11-20', unitIds: [shimen.id] });
    expect(new Set(st.map((s) => s.cadre.name))).toEqual(new Set(['张三']));
  });
});

describe('the rendering and the totals', () => {
  it('says what is missing per period, nearest deadline first, one item per measure', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 12小时');
    const st = await evaluateQuotas(chat.db, { at: '2026-11-20', cadreIds: [ids.zhang] });
    expect(missingText(st)).toBe(
      '本周还差：下基层 8 小时（截至11月22日）；' +
      '本月还差：到村 8.5 天、驻村蹲点 0.5 天（截至11月30日）；' +
      '本年还差：志愿服务 20 小时、解决问题 1 件、政策宣讲 2 次（截至12月31日）');
    expect(missingText(st.filter((s) => s.met))).toBe('');
  });

  it('completion agrees with the per-cadre evaluation', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 2天');
    await sayAt('u3', '2026-11-20T09:00:00+08:00', '/走访 今天 东关社区 3小时');
    const all = await evaluateQuotas(chat.db, { at: '2026-11-20', periods: ['month'] });
    const c = await quotaCompletion(chat.db, { at: '2026-11-20', periods: ['month'] });
    expect(c.total).toBe(all.length);
    expect(c.total).toBe(10); // 3 cadres × 3 rules for everyone + 1 resident-worker rule
    expect(c.met).toBe(all.filter((s) => s.met).length);
    expect(c.met).toBe(4); // 张三: 到村 1 次, 到村 2 天, 驻村 2 天; 李四: 到村 1 次
  });

  it('completion stays exact for a unit, with an inactive cadre who has records', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 2天');
    await sayAt('u3', '2026-11-20T09:00:00+08:00', '/走访 今天 东关社区 3小时');
    await setWhere(chat.db, cadres, { active: false }, { id: ids.li });
    for (const unitIds of [undefined, [2], [3]]) {
      const q = { at: '2026-11-20', periods: ['month' as const], unitIds };
      const all = await evaluateQuotas(chat.db, q);
      const c = await quotaCompletion(chat.db, q);
      expect([c.total, c.met]).toEqual([all.length, all.filter((s) => s.met).length]);
    }
    expect(await quotaCompletion(chat.db, { at: '2026-11-20', periods: ['month'], unitIds: [2] })).toMatchObject({ total: 4, met: 3 });
  });

  it('with onlyUnmet hands out exactly the pairs a full evaluation marks unmet', async () => {
    await sayAt('u2', '2026-11-20T09:00:00+08:00', '/走访 今天 石门村 驻村 2天');
    await sayAt('u3', '2026-11-20T09:00:00+08:00', '/走访 今天 东关社区 3小时');
    const key = (s: QuotaStatus) => [s.cadre.id, s.rule.id, s.period.key, s.actual, s.missing];
    const all = await evaluateQuotas(chat.db, { at: '2026-11-20' });
    const unmet = await evaluateQuotas(chat.db, { at: '2026-11-20', onlyUnmet: true });
    expect(unmet.map(key)).toEqual(all.filter((s) => !s.met).map(key));
    expect(unmet.every((s) => !s.met)).toBe(true);
    expect(all.length - unmet.length).toBe(4); // 张三: 到村 1 次, 到村 2 天, 驻村 2 天; 李四: 到村 1 次
    // Statuses of one period share one Period object.
    expect(new Set(unmet.filter((s) => s.rule.period === 'month').map((s) => s.period)).size).toBe(1);
  });

  it('completion counts everyone as met when a threshold rounds to nothing, as the evaluation does', async () => {
    await insertQuotaRule(chat.db, { name: '极小', metric: 'visit_hours', filter: {}, period: 'month', threshold: 0.0000001 }, 0);
    const all = await evaluateQuotas(chat.db, { at: '2026-11-20', periods: ['month'] });
    const c = await quotaCompletion(chat.db, { at: '2026-11-20', periods: ['month'] });
    expect([c.total, c.met]).toEqual([all.length, all.filter((s) => s.met).length]);
    expect([c.total, c.met]).toEqual([13, 3]);
  });

  // SQLite only: the SQLite queries check for the index (sqlite_master) and name it (INDEXED BY);
  // the PostgreSQL ones leave the choice to its planner, so there is no second path to compare.
  it.skipIf(testDialect() === 'postgres')('gives the same numbers with and without the partial covering index of counted visits', async () => {
    const plain = await Chat.demo();
    const indexed = await Chat.demo();
    try {
      // The migrations create the index; the plain database goes without it (the fallback path).
      plain.db.sqlite!.exec('DROP INDEX visits_counted');
      for (const c of [plain, indexed]) {
        await c.says('u2', '/走访 今天 石门村 驻村 2天');
        await c.says('u2', '/走访 今天 石门村 入户 3小时 走访2户');
        await c.says('u1', '/走访 今天 县开发区某公司 企业 2小时');
        await c.says('u1', '/撤销', { at: '2026-11-20T09:31:00+08:00' });
      }
      const numbers = async (c: Chat) => (await evaluateQuotas(c.db, { at: '2026-11-20' })).map((s) => [s.cadre.id, s.rule.id, s.actual]);
      expect(await numbers(indexed)).toEqual(await numbers(plain));
      expect(await numbers(plain)).toContainEqual([ids.zhang, await ruleId('monthly-village-days'), 2.375]);
      expect(await numbers(plain)).toContainEqual([ids.wang, await ruleId('leader-weekly-enterprise'), 0]);
    } finally {
      await plain.close();
      await indexed.close();
    }
  });

  it('installs the presets once, however often it runs, and switches them back on', async () => {
    const count = () => chat.count('quotaRules');
    expect(await count()).toBe(PRESET_RULES.length);
    expect(await installPresets(chat.db, 0, ALL_PRESET_SETS)).toEqual({ added: 0, updated: 0 });
    await setQuotaRuleActive(chat.db, await ruleId('leader-yearly-talks'), false);
    expect(await installPresets(chat.db, 0, ALL_PRESET_SETS)).toEqual({ added: 0, updated: 1 });
    expect(await count()).toBe(PRESET_RULES.length);
    expect(new Set(PRESET_RULES.map((p) => p.preset)).size).toBe(PRESET_RULES.length);
  });

  it('installs only the documents a deployment follows, each rule named by its document\'s title', async () => {
    const rows = async () => (await rowsWhere(chat.db, quotaRules, {}, 'id')).map((r) => ({ preset: r.preset!, source: r.source! }));
    // Plain SQL both dialects read alike (db-probe has no delete).
    await chat.db.run('DELETE FROM quota_rules');
    expect(await installPresets(chat.db, 0, ['zou-jiceng'])).toEqual({ added: 2, updated: 0 });
    expect(await rows()).toEqual([
      { preset: 'resident-monthly-days', source: '《走基层制度化常态化实施意见》二（2）' },
      { preset: 'yearly-volunteer-hours', source: '《走基层制度化常态化实施意见》二（4）' },
    ]);
    expect(await installPresets(chat.db, 0, ['lianhu-lianqing'])).toEqual({ added: 8, updated: 0 });
    expect((await rows()).filter((r) => r.source.startsWith('《文旅局“联户联情”工作方案》'))).toHaveLength(8);
    expect((await rows()).some((r) => /\d{3} §/.test(r.source))).toBe(false);
    // A rule stored before the sets existed ('004 §3') gets its document's title back.
    await setWhere(chat.db, quotaRules, { source: '004 §3' }, { preset: 'monthly-village-visit' });
    expect(await installPresets(chat.db, 0, ['lianhu-lianqing'])).toEqual({ added: 0, updated: 1 });
    // Every preset belongs to exactly one of the three documents, and the three cover all 14.
    expect(PRESET_SETS.map((s) => PRESET_RULES.filter((p) => p.set === s.key).length)).toEqual([8, 2, 4]);
  });
});
