/** Every sentence the core itself says (handlers keep theirs in their own files). */
import { usageOf, type CommandDef } from './command.js';

const form = (c: CommandDef) => `格式：${usageOf(c)}\n例如：${c.examples[0] ?? usageOf(c)}`;

export const T = {
  unknownCommand: (word: string, guess?: string) =>
    word
      ? `没有「/${word}」这个命令。${guess ? `您是不是想用 /${guess}？` : ''}发送 /帮助 查看全部命令。`
      : '请在 / 后面写命令名，例如 /走访、/我的。发送 /帮助 查看全部命令。',
  extraWords: (words: string, c: CommandDef) => `看不懂「${words}」。\n${form(c)}`,
  missing: (label: string) => `缺少${label}`,
  badValue: (label: string, hint: string) => `「${label}」填写有误，应为${hint}`,
  badArgs: (problems: string[], c: CommandDef) => `/${c.name} ${problems.join('；')}。\n${form(c)}\n发送 /帮助 ${c.name} 查看说明。`,
  notBound: (platform: string, account: string) =>
    `您的账号（${platform}:${account}）还没有绑定到干部名册。\n请发送：/绑定 姓名 手机号，例如 /绑定 张三 13800001111\n名册中没有您时，请联系管理员导入名册。`,
  tooLong: (max: number, got: number) => `消息太长（${got}字），一条命令最多${max}字。请分几条发送，或把内容写短一些。`,
  empty: '消息是空的。发送 /帮助 查看可用的命令，例如 /走访 昨天 石门村 入户 1天 走访困难户。',
  notAdmin: (name: string) => `/${name} 只有管理员可以使用。如需操作，请联系管理员。`,
  notCommandDirect: '您好，我是民情助手。请用命令和我对话，例如 /走访 昨天 石门村 入户 1天 走访困难户3户；发送 /帮助 查看全部命令。',
  answeredTwice: '这个问题刚才已经回答过了，记录只保存一次。',
  notMeant: '好的，这条没有记录。需要记录时请在前面写上命令，例如 /走访、/志愿、/民情；发送 /帮助 查看全部命令。',
  whichCommand: (names: string[]) => `这条消息要${names.map((n) => `/${n}`).join(' 还是 ')}？请在前面写上命令重新发送，例如 /${names[0]} 昨天 石门村 入户 2小时。`,
  fault: '抱歉，处理这条消息时出了问题，记录没有写入。请稍后再试；如果一再出现，请联系管理员。',
  badCard: (form: string) => `无法识别的表单「${form}」。请重新打开表单填写，或直接发送命令（发送 /帮助 查看）。`,
};
