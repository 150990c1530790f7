/**
 * /提醒 (admin): show or change when reminders go out. Changes are stored in the database and the
 * running scheduler re-declares its job schedulers at once.
 */
import { defineCommand } from '../bot/command.js';
import { choiceArg, optional, restArg } from '../bot/args.js';
import { UserError } from '../bot/errors.js';
import { cronSchema, loadReminderSettings, parseClock, updateReminderSettings, type ReminderSettings } from '../storage/reminder-settings.js';

const JOBS = { 配额: 'quota', 期限: 'deadlines', 季度: 'quarterly', 简报: 'digest' } as const;
type Job = (typeof JOBS)[keyof typeof JOBS];
const JOB_NAMES: Record<Job, string> = { quota: '配额提醒', deadlines: '期限提醒', quarterly: '义工日/季度报告', digest: '每周简报' };

const T = {
  show: (s: ReminderSettings) => [
    '当前提醒设置：',
    ...Object.entries(JOB_NAMES).map(([k, n]) => `  ${n}：cron「${s.crons[k as Job]}」`),
    `  免打扰：${s.quietStart}–${s.quietEnd}`,
    `  每周配额提醒：周${'一二三四五六日'[s.weekSlots[0] - 1] ?? '?'}；每月：${s.monthSlots.join('、')}日`,
    '修改示例：/提醒 配额 0 9 * * 1-5　/提醒 免打扰 22:00-07:30　/提醒 每月 20,27',
  ].join('\n'),
  badCron: (msg: string) => `cron 表达式有误：${msg}。\n格式：/提醒 配额|期限|季度|简报 分 时 日 月 周\n例如：/提醒 配额 0 9 * * 1-5（工作日9点）`,
  badQuiet: '免打扰时段格式有误。\n格式：/提醒 免打扰 开始-结束\n例如：/提醒 免打扰 21:00-08:00',
  badDays: '每月提醒日期有误，应为 1–31 的日期，逗号分隔。\n例如：/提醒 每月 20,27',
  saved: (what: string) => `已更新${what}，新的提醒时间立即生效。`,
};

export const remindCommand = defineCommand({
  name: '提醒', aliases: ['remind', 'reminders'], group: 'admin', mode: 'write', adminOnly: true,
  summary: '查看或设置提醒时间（配额、期限、季度、简报、免打扰）',
  args: {
    what: optional(choiceArg('项目', { ...JOBS, 免打扰: 'quiet', 每月: 'month', quiet: 'quiet' } as Record<string, string>, '项目：配额、期限、季度、简报、免打扰、每月')),
    value: optional(restArg('设置', 100, '设置值：cron（分 时 日 月 周）、时段 21:00-08:00 或日期 20,27')),
  },
  examples: ['/提醒', '/提醒 配额 0 9 * * 1-5', '/提醒 免打扰 21:00-08:00', '/提醒 每月 20,27'],
  async handle(ctx, a) {
    if (!a.what) return T.show(await loadReminderSettings(ctx.db, ctx.deps.reminderDefaults));
    if (!a.value) throw new UserError(T.badCron('缺少设置值'));
    let saved: string;
    if (a.what === 'quiet') {
      const m = /^(\S+)\s*[-–~至到]\s*(\S+)$/.exec(a.value);
      if (!m || parseClock(m[1]) === null || parseClock(m[2]) === null) throw new UserError(T.badQuiet);
      await updateReminderSettings(ctx.db, { quietStart: m[1].replace('：', ':'), quietEnd: m[2].replace('：', ':') });
      saved = '免打扰时段';
    } else if (a.what === 'month') {
      const days = a.value.split(/[,，、\s]+/).filter(Boolean).map(Number);
      if (!days.length || days.some((d) => !Number.isInteger(d) || d < 1 || d > 31)) throw new UserError(T.badDays);
      await updateReminderSettings(ctx.db, { monthSlots: days });
      saved = '每月配额提醒日期';
    } else {
      const r = cronSchema.safeParse(a.value);
      if (!r.success) throw new UserError(T.badCron(r.error.issues[0].message));
      await updateReminderSettings(ctx.db, { crons: { [a.what]: r.data } });
      saved = JOB_NAMES[a.what as Job] + '时间';
    }
    // After the commit: the scheduler reads the settings through its own connection.
    ctx.afterCommit(() => ctx.deps.onRemindersChanged?.());
    return T.saved(saved);
  },
});
