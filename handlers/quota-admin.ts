/**
 * /配额 (administrators): list the quota rules, install the preset set, switch a rule off or on,
 * add a rule. Rules are data (docs/rules.md#quotas); nothing is ever deleted — a rule no longer wanted is
 * switched off, so past evaluations stay explainable.
 *
 * Decisions: a new rule's name defaults to its description; `类型` narrows only the visit
 * metrics (a volunteer-hours rule with 类型 is refused, not silently widened); `驻村:否` means
 * "no filter" (there is no "non-resident workers only" rule in the seeds). Presets come in sets,
 * one per document (storage/quotas.ts PRESET_SETS): `/配额 预设` lists them, `/配额 预设 联户联情`
 * (or its number) installs one, `全部` all of them — cadres are nudged only about rules their
 * deployment follows. The list groups rules by document, named by its title.
 */
import { z } from 'zod';
import { defineCommand } from '../bot/command.js';
import { choiceArg, customArg, numberArg, optional, textArg, withKeys, type ArgDef } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { normalize } from '../bot/normalize.js';
import { isVisitMetric, ruleDef, type QuotaRuleDef } from '../bot/quota.js';
import { KIND_SHORT, METRIC_NAMES, ruleText } from '../bot/quota-text.js';
import {
  ALL_PRESET_SETS, allQuotaRules, IN_VILLAGE, insertQuotaRule, installPresets, PRESET_RULES, PRESET_SETS, presetRule, quotaRuleById, setQuotaRuleActive,
  type PresetSet, type PresetSetKey, type QuotaFilter, type QuotaMetric,
} from '../storage/quotas.js';
import type { QuotaRule, VisitKind } from '../storage/types.js';

const METRIC_WORDS: Record<string, QuotaMetric> = {
  ...Object.fromEntries(Object.entries(METRIC_NAMES).map(([m, name]) => [name, m as QuotaMetric])),
  次数: 'visit_count', 天数: 'visit_days', 小时: 'visit_hours', 走访时长: 'visit_hours', 地点数: 'distinct_places', 户数: 'households',
  入户户数: 'households', 志愿服务: 'volunteer_hours', 志愿时长: 'volunteer_hours', 解决问题数: 'issues_resolved', 办结问题: 'issues_resolved',
  宣讲: 'briefings', 谈心: 'talks', 谈心次数: 'talks',
  ...Object.fromEntries(Object.keys(METRIC_NAMES).map((m) => [m, m as QuotaMetric])),
};
const METRIC_TABLE = new Map(Object.entries(METRIC_WORDS).map(([k, v]) => [normalize(k), v]));
const CANONICAL_METRICS = Object.values(METRIC_NAMES).join('、');
const PERIOD_WORDS: Record<string, QuotaRule['period']> = {
  周: 'week', 月: 'month', 季度: 'quarter', 年: 'year', 每周: 'week', 每月: 'month', 每季度: 'quarter', 每年: 'year',
  季: 'quarter', week: 'week', month: 'month', quarter: 'quarter', year: 'year',
};
const RANK_WORDS: Record<string, 'leader' | 'staff' | 'all'> = {
  领导: 'leader', 一般: 'staff', 全部: 'all', 领导干部: 'leader', 一般干部: 'staff', 全体: 'all', leader: 'leader', staff: 'staff', all: 'all',
};
const YES_NO: Record<string, 'yes' | 'no'> = { 是: 'yes', 否: 'no', yes: 'yes', no: 'no', true: 'yes', false: 'no' };
const KIND_WORDS: Record<string, VisitKind> = {
  入户: 'household', 到村: 'village', 驻村: 'residency', 企业: 'enterprise', 座谈: 'meeting', 宣讲: 'briefing', 谈心: 'talk', 其他: 'other',
  入户走访: 'household', 进村: 'village', 到社区: 'village', 社区: 'village', 驻村蹲点: 'residency', 蹲点: 'residency',
  走访企业: 'enterprise', 调研: 'meeting', 调研座谈: 'meeting', 政策宣讲: 'briefing', 谈话: 'talk', 谈心谈话: 'talk',
  household: 'household', village: 'village', residency: 'residency', enterprise: 'enterprise', meeting: 'meeting', briefing: 'briefing', talk: 'talk', other: 'other',
};
const KIND_TABLE = new Map(Object.entries(KIND_WORDS).map(([k, v]) => [normalize(k), v]));
const KIND_HINT = '入户、到村、驻村、企业、座谈、宣讲、谈心、其他';

function readKinds(s: string): VisitKind[] | null {
  const parts = s.split(/[,，、/+＋;；]/).map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return null;
  const out: VisitKind[] = [];
  for (const p of parts) {
    const k = KIND_TABLE.get(normalize(p));
    if (!k) return null;
    if (!out.includes(k)) out.push(k);
  }
  return out;
}

const idArg = customArg('编号', '规则编号，如 3 或 #3', (s) => {
  const m = /^[#＃]?(\d{1,9})$/.exec(s.normalize('NFKC').trim());
  return m ? Number(m[1]) : null;
}, (s) => `「${s}」不是规则编号（应为数字，如 3）`, ['id']);

const EXAMPLE_ADD = '/配额 新增 指标:走访天数 周期:月 阈值:2 职级:领导 类型:驻村 名称:领导每月驻村';

const INSTALL_EXAMPLE = `/配额 预设 ${PRESET_SETS[0].short}`;

const T = {
  title: (n: number, on: number) => `配额规则（共 ${n} 条，启用 ${on} 条；✅ 启用　⏸ 停用）：`,
  none: `还没有配额规则。发送 /配额 预设 查看可安装的文件规定，例如 ${INSTALL_EXAMPLE}；或 /配额 新增 自定义，例如 ${EXAMPLE_ADD}`,
  group: (title: string) => `【${title}】`,
  custom: '【自定义】',
  line: (r: QuotaRule, d: QuotaRuleDef | null, clause: string | null) =>
    `#${r.id} ${r.active ? '✅' : '⏸'} ${r.name}：${d ? ruleText(d) + villageNote(d) : '（规则无法识别，不参与计算）'}${clause ? `（${clause}）` : ''}`,
  footer: `停用：/配额 停用 编号　启用：/配额 启用 编号　按文件安装预设：/配额 预设\n新增：${EXAMPLE_ADD}`,
  setsTitle: '可安装的预设配额（按文件规定分组，只安装本地执行的文件）：',
  setLine: (s: PresetSet, n: number, on: number) => `${s.no}. ${s.short}：《${s.title}》，${n} 条规则${on ? `（已启用 ${on} 条）` : ''}`,
  setsHow: `安装：/配额 预设 ${PRESET_SETS[0].short} 或 /配额 预设 ${PRESET_SETS[0].no}；安装全部：/配额 预设 全部。不执行的规则可 /配额 停用 编号。`,
  installed: (sets: PresetSet[], added: number, updated: number, total: number) =>
    `已安装${sets.map((s) => `《${s.title}》`).join('、')}的预设配额 ${total} 条：新增 ${added} 条，恢复 ${updated} 条，其余不变。发送 /配额 查看全部规则。`,
  noSet: (n: number) => `没有第 ${n} 号预设文件。发送 /配额 预设 查看可安装的文件，例如 ${INSTALL_EXAMPLE}`,
  needId: (verb: string) => `请写要${verb}的规则编号，例如 /配额 ${verb} 3。发送 /配额 查看全部规则及编号。`,
  noRule: (id: number) => `没有编号为 #${id} 的配额规则。发送 /配额 查看全部规则及编号，例如 /配额 停用 3。`,
  already: (id: number, on: boolean) => `规则 #${id} 已经是${on ? '启用' : '停用'}状态，无需操作。`,
  switched: (r: QuotaRule, on: boolean) => `已${on ? '启用' : '停用'}规则 #${r.id} ${r.name}。${on ? '从现在起计入统计和提醒。' : '不再计入统计和提醒；规则保留，可随时 /配额 启用 ' + r.id + '。'}`,
  addMissing: (fields: string[]) =>
    `新增配额缺少${fields.join('、')}。\n格式：/配额 新增 指标:… 周期:… 阈值:… [职级:…] [驻村:是] [类型:…] [名称:…]\n` +
    `指标可选：${CANONICAL_METRICS}\n周期可选：周、月、季度、年\n例如：${EXAMPLE_ADD}`,
  kindsNotVisit: (metric: QuotaMetric) =>
    `类型只对走访类指标（走访次数、走访天数、走访小时、走访地点数、走访户数）有效，「${METRIC_NAMES[metric]}」不能按类型筛选。请去掉 类型:…，例如 /配额 新增 指标:志愿小时 周期:年 阈值:20`,
  added: (r: QuotaRule, d: QuotaRuleDef) => `已新增配额规则 #${r.id} ${r.name}：${ruleText(d)}${villageNote(d)}。从现在起计入 /我的、/统计 和提醒。`,
};

/** A document named the way an administrator may type it: its short name, its title, or 全部. */
const SET_WORDS = new Map<string, PresetSetKey[]>([
  ...PRESET_SETS.flatMap((s) => [s.short, s.title, s.key].map((w) => [normalize(w), [s.key]] as [string, PresetSetKey[]])),
  ...['全部', '所有', 'all'].map((w) => [normalize(w), [...ALL_PRESET_SETS]] as [string, PresetSetKey[]]),
]);
const setArg = customArg('文件', `预设文件：${PRESET_SETS.map((s) => s.short).join('、')} 或 全部`,
  (s) => SET_WORDS.get(normalize(s.replace(/[《》]/g, ''))) ?? null,
  (s) => `「${s}」不是预设文件（可选：${PRESET_SETS.map((x) => `${x.no}. ${x.short}`).join('、')}，或 全部）`, ['set', '预设文件']);

/** The sets with how many of their rules are installed and switched on. */
function presetSets(rules: QuotaRule[]): string {
  const on = new Set(rules.filter((r) => r.active && r.preset).map((r) => r.preset));
  return [T.setsTitle, ...PRESET_SETS.map((s) => {
    const own = PRESET_RULES.filter((p) => p.set === s.key);
    return T.setLine(s, own.length, own.filter((p) => on.has(p.preset)).length);
  }), T.setsHow].join('\n');
}

/** The rules grouped by the document they come from, in the order of PRESET_SETS, custom ones last. */
function ruleList(rules: QuotaRule[]): string {
  const groups = new Map<string, string[]>();
  for (const r of rules) {
    const p = presetRule(r.preset);
    const head = p ? T.group(PRESET_SETS.find((s) => s.key === p.set)!.title) : T.custom;
    groups.set(head, [...(groups.get(head) ?? []), T.line(r, ruleDef(r), p ? p.clause : r.source === '自定义' ? null : r.source)]);
  }
  const order = [...PRESET_SETS.map((s) => T.group(s.title)), T.custom];
  const heads = [...groups.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return [T.title(rules.length, rules.filter((r) => r.active).length), ...heads.flatMap((h) => [h, ...groups.get(h)!]), T.footer].join('\n');
}

function villageNote(d: QuotaRuleDef): string {
  const ks = d.filter.kinds;
  if (!ks || ks.length !== IN_VILLAGE.length || !IN_VILLAGE.every((k) => ks.includes(k))) return '';
  return `（${IN_VILLAGE.map((k) => KIND_SHORT[k]).join('、')}均计）`;
}

export const quotaCommand = defineCommand({
  name: '配额', aliases: ['quota'], group: 'admin', mode: 'write', adminOnly: true,
  summary: '查看、安装、停用/启用、新增配额规则',
  args: {
    action: optional(choiceArg('操作', {
      查看: 'list', 预设: 'presets', 停用: 'off', 启用: 'on', 新增: 'add',
      列表: 'list', list: 'list', 安装预设: 'presets', presets: 'presets', 关闭: 'off', off: 'off', disable: 'off',
      开启: 'on', on: 'on', enable: 'on', 添加: 'add', 增加: 'add', add: 'add',
    } as const, '操作：查看、预设、停用、启用、新增')),
    id: optional(idArg),
    set: optional(setArg),
    metric: optional(customArg('指标', `指标：${CANONICAL_METRICS}`, (s) => METRIC_TABLE.get(normalize(s)) ?? null,
      (s) => `「${s}」不是可选的指标（可选：${CANONICAL_METRICS}）`, ['metric'])),
    period: optional(withKeys(choiceArg('周期', PERIOD_WORDS, '周期：周、月、季度、年'), 'period')),
    threshold: optional(withKeys(numberArg('阈值', 0.01, 100000), '目标', '数量', 'threshold')),
    rank: optional(withKeys(choiceArg('职级', RANK_WORDS, '职级：领导、一般、全部'), 'rank')),
    resident: optional(withKeys(choiceArg('驻村', YES_NO, '驻村：是 或 否'), '驻村干部', 'resident')),
    kinds: optional(customArg('类型', `类型：${KIND_HINT}，多个用逗号隔开`, readKinds,
      (s) => `「${s}」不是走访类型（可选：${KIND_HINT}，多个用逗号隔开）`, ['kinds', 'kind'])),
    name: optional(withKeys(textArg('名称', 40, '名称（40字以内），如 领导每月驻村'), 'name')),
  },
  examples: [EXAMPLE_ADD, '/配额', '/配额 预设', INSTALL_EXAMPLE, '/配额 停用 3', '/配额 启用 3'],
  notes: [
    '指标：走访次数、走访天数（按8小时折1天）、走访小时、走访地点数、走访户数、志愿小时、解决问题（作为责任人办结）、宣讲次数、谈心谈话。',
    '只计入正常和已核查的记录；退回、待核查（补报）和已撤销的记录不计。',
  ],
  async handle(ctx, a) {
    const action = a.action ?? (a.metric || a.period || a.threshold !== undefined ? 'add' : 'list');
    if (action === 'presets') {
      // A number after 预设 is the document's number in the list, not a rule id.
      const keys = a.set ?? (a.id !== undefined ? PRESET_SETS.filter((s) => s.no === a.id).map((s) => s.key) : undefined);
      if (!keys) return presetSets(await allQuotaRules(ctx.db));
      if (!keys.length) throw new UserError(T.noSet(a.id!));
      const r = await installPresets(ctx.db, ctx.now.getTime(), keys);
      const sets = PRESET_SETS.filter((s) => keys.includes(s.key));
      return T.installed(sets, r.added, r.updated, PRESET_RULES.filter((p) => keys.includes(p.set)).length);
    }
    if (action === 'on' || action === 'off') {
      const verb = action === 'on' ? '启用' : '停用';
      if (a.id === undefined) throw new UserError(T.needId(verb));
      const rule = await quotaRuleById(ctx.db, a.id);
      if (!rule) throw new UserError(T.noRule(a.id));
      if (!!rule.active === (action === 'on')) return T.already(rule.id, !!rule.active);
      await setQuotaRuleActive(ctx.db, rule.id, action === 'on');
      return T.switched(rule, action === 'on');
    }
    if (action === 'add') return addRule(ctx.db, ctx.now.getTime(), a);
    const rules = await allQuotaRules(ctx.db);
    if (!rules.length) return T.none;
    return ruleList(rules);
  },
});

type AddInput = {
  metric?: QuotaMetric; period?: QuotaRule['period']; threshold?: number; rank?: 'leader' | 'staff' | 'all';
  resident?: 'yes' | 'no'; kinds?: VisitKind[]; name?: string;
};

async function addRule(db: Parameters<typeof insertQuotaRule>[0], at: number, a: AddInput): Promise<string> {
  const missing = [a.metric ? '' : '指标', a.period ? '' : '周期', a.threshold !== undefined ? '' : '阈值'].filter(Boolean);
  if (missing.length) throw new UserError(T.addMissing(missing));
  const metric = a.metric!;
  if (a.kinds && !isVisitMetric(metric)) throw new UserError(T.kindsNotVisit(metric));
  const filter: QuotaFilter = {};
  if (a.rank && a.rank !== 'all') filter.rank = a.rank;
  if (a.resident === 'yes') filter.residentWorker = true;
  if (a.kinds && metric !== 'briefings' && metric !== 'talks') filter.kinds = a.kinds;
  const draft: QuotaRuleDef = { id: 0, name: '', metric, filter, period: a.period!, threshold: a.threshold!, preset: null, source: null };
  const name = a.name ?? `${ruleText(draft).replace(/ ≥/, '').replace(/\s+/g, '')}`;
  const row = await insertQuotaRule(db, { name, metric, filter, period: a.period!, threshold: a.threshold!, source: '自定义' }, at);
  return T.added(row, { ...draft, id: row.id, name });
}
