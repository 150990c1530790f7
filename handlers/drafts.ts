/**
 * /取消: drops the record the bot is asking about (a draft, bot/drafts.ts). Any new record command
 * also replaces the draft, so a cadre who starts over never completes the old one by accident.
 */
import { defineCommand } from '../bot/command.js';
import { dropDraft } from '../storage/drafts.js';

const T = {
  cancelled: '已取消，刚才那条记录没有保存。需要时请重新发送，例如 /走访 昨天 石门村 入户 2小时。',
  nothing: '没有待补充的记录，无需取消。已保存的记录可在10分钟内 /撤销。',
};

export const cancelCommand = defineCommand({
  name: '取消', aliases: ['cancel', '算了', '不记了'], group: 'record', mode: 'write', anyone: true,
  summary: '放弃机器人正在追问的那条记录',
  args: {},
  examples: ['/取消'],
  async handle(ctx) {
    const e = ctx.event;
    return (await dropDraft(ctx.db, e.platform, e.chatId, e.senderId, ctx.now.getTime())) ? T.cancelled : T.nothing;
  },
});
