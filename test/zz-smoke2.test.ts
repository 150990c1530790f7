import { it } from 'vitest';
import { Chat } from './chat.js';
import { coverageReply } from '../handlers/reports.js';
it('smoke', async () => {
  const chat = Chat.demo();
  chat.db.$client.exec("UPDATE cadres SET created_at = " + Date.parse('2026-08-15T00:00:00+08:00'));
  const days = ['2026-09-01','2026-09-10','2026-10-05','2026-10-06','2026-10-20','2026-11-02'];
  let n = 0;
  for (const d of days) { await chat.says(n % 2 ? 'u2' : 'u3', `/走访 ${d} 石门村 入户 1天 了解情况`, { at: d + 'T18:00:00+08:00' }); n++; }
  await chat.says('u2', '/联系户 王大爷 13912345678 地点:石门村');
  await chat.says('u2', '/联系户 李大妈 13912345679 地点:西河村');
  await chat.says('u1', '/导出 覆盖'); console.log(chat.lastReply);
  const { makeEvent } = await import('../bot/event.js');
  await chat.says('u1', '/帮助 导出'); console.log(chat.lastReply);
  await chat.says('u1', '/帮助 联系户'); console.log(chat.lastReply);
  await chat.says('u1', '/帮助 图表'); console.log(chat.lastReply);
  // coverage text through a fake ctx: use the router via a temporary command? print directly
  const ctx: any = { db: chat.db, today: '2026-11-20', tz: 'Asia/Shanghai', isAdmin: true, cadre: { id: 1, unitId: 1, rank: 'leader' }, chatUnit: undefined };
  console.log(coverageReply(ctx, '示范县'));
});
