/**
 * MINQING_NAMES_IN_GROUPS=false (issue 14 item 6): no cadre's name in a group message; the
 * laggards of /统计 go to the unit's leads by direct message only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../bot/config.js';
import { Chat } from './chat.js';

let chat: Chat;
afterEach(() => chat.close());

describe('/统计 in a group', () => {
  it('keeps the laggards\' names out of the group and sends them to the lead', async () => {
    chat = Chat.demo({ MINQING_NAMES_IN_GROUPS: false });
    await chat.says('u1', '/走访 昨天 石门村 入户 1天');
    await chat.says('u1', '/统计 本月', { group: true });
    expect(chat.lastReply).toContain('尚未走访 2 人，名单已私信发给本单位领导（群内不显示干部姓名）。');
    for (const name of ['张三', '李四', '王强']) expect(chat.lastReply).not.toContain(name);
    expect(chat.directMessages).toHaveLength(1);
    expect(chat.directMessages[0].target).toBe('u1');
    expect(chat.directMessages[0].text).toMatch(/^示范县 2026年11月尚未走访（2 人）：张三（石门镇）、李四（东关社区）$/);
    // In a direct chat the lead reads the names as before.
    await chat.says('u1', '/统计 本月');
    expect(chat.lastReply).toContain('尚未走访（2 人）：张三（石门镇）、李四（东关社区）');
    expect(chat.directMessages).toHaveLength(0);
  });

  it('shows the names in the group when the deployment allows it (the default)', async () => {
    chat = Chat.demo();
    expect(configSchema.parse({}).MINQING_NAMES_IN_GROUPS).toBe(true);
    expect(configSchema.parse({ MINQING_NAMES_IN_GROUPS: 'false' }).MINQING_NAMES_IN_GROUPS).toBe(false);
    expect(configSchema.safeParse({ MINQING_NAMES_IN_GROUPS: 'maybe' }).success).toBe(false);
    await chat.says('u1', '/统计 本月', { group: true });
    expect(chat.lastReply).toContain('张三（石门镇）');
    expect(chat.directMessages).toHaveLength(0);
  });
});
