import { it } from 'vitest';
import { cpSync } from 'node:fs';
import { Chat } from './chat.js';
it('smoke', async () => {
  const chat = Chat.demo();
  chat.db.$client.exec("INSERT INTO units (name, parent_id, path, created_at) VALUES ('西河村', 2, '/1/2/4/', 0)");
  const days = ['2026-09-01','2026-09-10','2026-10-05','2026-10-06','2026-10-20','2026-11-02','2026-11-03','2026-11-18','2026-11-19'];
  let n = 0;
  for (const d of days) { await chat.says(n % 2 ? 'u2' : 'u3', `/走访 ${d} 石门村 入户 ${1 + (n % 3)}天 了解情况`, { at: d + 'T18:00:00+08:00' }); n++; }
  await chat.says('u2', '/民情 石门村 道路破损影响出行 类别:基础设施 时限:12月31日', { at: '2026-10-03T10:00:00+08:00' });
  await chat.says('u2', '/民情 石门村 路灯不亮 类别:基础设施 时限:12月31日');
  await chat.says('u2', '/办结 #1 已修复，已电话告知群众');
  await chat.says('u1', '/图表');
  for (const r of chat.replies) cpSync(r.image!, '/tmp/smoke/' + r.image!.split('/').pop());
  await chat.says('u1', '/导出 台账');
  cpSync(chat.replies[0].file!, '/tmp/smoke/ledger.xlsx');
});
