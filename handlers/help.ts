/** /帮助: the command list, or one command's form, arguments and examples — all from declarations. */
import { defineCommand, usageOf, type CommandDef } from '../bot/command.js';
import { optional, textArg } from '../bot/args.js';
import { findCommand } from '../bot/parse.js';

const GROUPS: Record<CommandDef['group'], string> = { record: '填报', issue: '问题办理', query: '查询', admin: '管理（管理员）' };

const T = {
  title: '民情助手可以帮您：',
  footer: '发送 /帮助 命令名 查看详细用法，例如 /帮助 走访。命令也可以用英文别名或繁体字，参数可以写成 键：值，或每行一个。',
  usage: (u: string) => `格式：${u}`,
  args: '参数：',
  arg: (label: string, hint: string, opt: boolean) => `  · ${label}${opt ? '（可省略）' : ''}：${hint}`,
  aliases: (xs: string[]) => `别名：${xs.map((x) => '/' + x).join(' ')}`,
  examples: '例如：',
};

export function commandHelp(c: CommandDef): string {
  const lines = [`/${c.name} — ${c.summary}`, T.usage(usageOf(c))];
  const args = Object.values(c.args);
  if (args.length) lines.push(T.args, ...args.map((a) => T.arg(a.label, a.hint, a.optional)));
  if (c.aliases.length) lines.push(T.aliases(c.aliases));
  lines.push(T.examples, ...c.examples.map((e) => '  ' + e.replace(/\n/g, '\n  ')));
  if (c.notes) lines.push(...c.notes);
  return lines.join('\n');
}

export const helpCommand = defineCommand({
  name: '帮助', aliases: ['help', '说明', '?'], group: 'query', mode: 'read', anyone: true,
  summary: '查看命令和用法',
  // A word of its own (`/帮助 走访`), read before the filler words a sentence may start with.
  args: { command: optional({ ...textArg('命令', 20, '命令名，如 走访'), match: (t: string) => !!t.trim() && t.trim().length <= 20 }) },
  examples: ['/帮助', '/帮助 走访'],
  async handle(ctx, a) {
    const reg = ctx.deps.registry;
    if (a.command) {
      return commandHelp(findCommand(reg, a.command.replace(/^[\/／]/, '')));
    }
    const lines = [T.title];
    for (const [g, title] of Object.entries(GROUPS)) {
      const cs = reg.commands.filter((c) => c.group === g);
      if (!cs.length) continue;
      lines.push(`【${title}】`, ...cs.map((c) => `  /${c.name} ${c.summary}`));
    }
    lines.push(T.footer);
    return lines.join('\n');
  },
});
