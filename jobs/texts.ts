/** Everything the reminders say, in one place to read and correct together. */
import { formatDate, type LocalDate } from '../bot/time.js';

export const R = {
  quotaNudge: (name: string, missing: string) =>
    `${name}您好，提醒您：${missing}。\n完成后请及时填报，例如 /走访 今天 石门村 入户 半天 走访困难户；请假可发送 /静音 3天。`,
  leadDigest: (unit: string, n: number, lines: string[], more: number) =>
    [`【配额提醒】${unit} 有 ${n} 人还未完成：`, ...lines, ...(more > 0 ? [`……另有 ${more} 人，发送 /统计 ${unit} 查看`] : [])].join('\n'),
  deadlineSoon: (id: number, desc: string, deadline: LocalDate, days: number) =>
    `问题 #${id}「${desc}」将于 ${formatDate(deadline)} 到期（还有 ${days} 天）。请抓紧办理：/进展 #${id} 进展情况，办结后 /办结 #${id} 结果（并告知群众）。`,
  overdue: (id: number, desc: string, deadline: LocalDate, days: number) =>
    `问题 #${id}「${desc}」已超期 ${days} 天（时限 ${formatDate(deadline)}）。请尽快办结：/办结 #${id} 结果；确需延期请领导 /延期 #${id} 天数 理由。`,
  overdueLead: (id: number, desc: string, who: string, days: number) =>
    `【超期提醒】问题 #${id}「${desc}」（责任人 ${who}）已超期 ${days} 天。可发送 /督办 #${id} 督促办理。`,
  overdueCommittee: (id: number, desc: string, unit: string, who: string, days: number) =>
    `【超期督办】${unit} 问题 #${id}「${desc}」（责任人 ${who}）已超期 ${days} 天，请领导小组关注。`,
  volunteerDay: (saturday: LocalDate) =>
    `【义工日提醒】本季度最后一个周末（${formatDate(saturday)}起）是义工日，请大家参加志愿服务，结束后发送 /志愿 时长 地点 活动 填报，例如 /志愿 3小时 县福利院 义工日。`,
  quarterReport: (quarter: string, end: LocalDate) =>
    `【季度报告提醒】${quarter}将于 ${formatDate(end)} 结束，请各单位整理本季度联系服务群众情况，按时报送季度报告。发送 /统计 本季 查看本季度数据。`,
  callback: (id: number, desc: string, resolved: LocalDate) =>
    `【回访提醒】问题 #${id}「${desc}」已于 ${formatDate(resolved)} 办结，还没有群众评价。请电话回访群众，并记录回访结果：/评价 #${id} 满意 回访（或 基本满意、不满意）。`,
  rates: (r: string) => `三率：${r}`,
  digest: (label: string, lines: string[]) => [`【每周简报】${label}`, ...lines].join('\n'),
  fill: '填报',
};
