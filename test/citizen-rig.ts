/** The citizen pages' test rig: a demo chat with public pages on and the pages on a real port. */
import { Chat } from './chat.js';
import { HttpServer } from '../bot/http-server.js';
import { createLogger } from '../bot/logger.js';
import { publicPageRoutes, type PageDeps } from '../handlers/citizen-pages.js';
import { importRoster } from '../storage/roster.js';
import { bindAccount } from '../storage/identity.js';
import { findCjkFont } from '../bot/chart.js';
import { oneWhere } from './db-probe.js';
import { cadres } from '../storage/schema.js';

export const PUBLIC = 'https://minqing.example.gov.cn';

export interface Rig { chat: Chat; http: HttpServer; base: string; kicks: number; close(): Promise<void> }

/** A demo chat with public pages on, 赵六 leading 石门镇, and the pages on a real port. */
export async function rig(limits?: PageDeps['limits'], at?: string): Promise<Rig> {
  const chat = await Chat.demo({ MINQING_PUBLIC_URL: PUBLIC });
  chat.app.deps.config.MINQING_EXPORT_DIR = chat.dir;
  if (at) chat.at = at;
  await importRoster(chat.db, [{ 姓名: '赵六', 手机: '13800000004', 单位: '石门镇', 上级单位: '示范县', 职级: '领导', 驻村: '', 账号: 'console:u4;feishu:ou_zhao' }], Date.now());
  await bindAccount(chat.db, 'feishu', 'ou_li', await lookup(chat, '李四'), Date.now());
  const r: Rig = { chat, http: undefined as never, base: '', kicks: 0, close: async () => { await r.http.close(); await chat.close(); } };
  r.http = new HttpServer({ log: createLogger('silent') });
  for (const route of publicPageRoutes({ db: chat.db, config: chat.app.deps.config, log: createLogger('silent'), now: () => new Date(chat.at), onOutbox: () => { r.kicks++; }, limits, font: findCjkFont().file })) r.http.route(route);
  r.base = `http://127.0.0.1:${await r.http.listen(0, '127.0.0.1')}`;
  return r;
}

const lookup = async (chat: Chat, name: string) => (await oneWhere(chat.db, cadres, { name }))!.id;

/** The link in a reply, pointed at the test server. */
export function linkIn(text: string, base: string): string {
  const m = /https:\/\/minqing\.example\.gov\.cn(\/[cg]\/[A-Za-z0-9_-]{22})/.exec(text);
  if (!m) throw new Error(`no link in: ${text}`);
  return base + m[1];
}

export const ROAD = '/民情 石门村 道路破损影响出行，联系电话13912345678 类别:基础设施 责任人:@李四 时限:12月31日';

