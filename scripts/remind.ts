/**
 * `minqing remind --at`: one reminder pass of every kind for an instant, delivered (or listed)
 * now — and, like the daily prune-exports job, the export files past their retention deleted (or
 * listed, with --dry-run) as of that instant.
 */
import type { Logger } from 'pino';
import { Outbound } from '../bot/outbound.js';
import { consoleSender } from '../bot/adapters/console/sender.js';
import type { Db } from '../storage/db.js';
import type { Reply } from '../bot/reply.js';
import { JOB_KINDS, loadReminderSettings, type ReminderDefaults } from '../storage/reminder-settings.js';
import { deliverMany, runPass } from '../jobs/pass.js';
import { pruneExports } from '../jobs/retention.js';

/** Reminders claimed, sent and marked together. */
const BATCH = 200;

const SKIP = { 'quiet-hours': '免打扰时段，跳过', 'not-a-workday': '非工作日，跳过' };

export async function runRemindOnce(db: Db, o: { at: Date; dryRun: boolean; tz: string; log: Logger; write: (l: string) => void; envSettings?: ReminderDefaults; enrich?: (r: Reply) => Promise<Reply>; exports?: { dir: string; retentionDays: number } }): Promise<number> {
  const settings = await loadReminderSettings(db, o.envSettings);
  const outbound = new Outbound({ log: o.log, limits: {} });
  // Operators read what went out: every platform prints here (adapters deliver in `start`).
  for (const p of ['console', 'feishu', 'dingtalk', 'wecom']) outbound.register(consoleSender(o.write, false, p));
  let total = 0;
  for (const kind of JOB_KINDS) {
    const r = await runPass(db, { kind, at: o.at, tz: o.tz, settings, dryRun: o.dryRun });
    o.write(`【${kind}】${r.date}：${r.skipped ? SKIP[r.skipped] : `应发 ${r.planned}，${o.dryRun ? '将新发' : '新记录'} ${r.fresh.length}`}`);
    const fresh = r.fresh.filter((rem) => rem.reply);
    total += fresh.length;
    if (o.dryRun) {
      for (const rem of fresh) o.write(`  [${rem.key}] → ${rem.to === 'user' ? `干部#${rem.cadreId}` : `${rem.platform}:${rem.target}`}：${JSON.parse(rem.reply!).text}`);
      continue;
    }
    // Claimed and marked a batch at a time (two transactions per batch, not per reminder).
    for (let i = 0; i < fresh.length; i += BATCH) {
      const d = await deliverMany(db, fresh.slice(i, i + BATCH).map((rem) => rem.key), { outbound, worker: `remind-${process.pid}`, log: o.log, enrich: o.enrich });
      for (const f of d.failed) o.write(`  [${f.key}] 未发出：${f.error.message}（已释放，下次提醒时重发）`);
    }
  }
  if (o.exports) {
    const p = pruneExports(o.exports.dir, { now: o.at, retentionDays: o.exports.retentionDays, dryRun: o.dryRun });
    o.write(`【导出文件】保存 ${o.exports.retentionDays} 天：${o.dryRun ? '将删除' : '已删除'} ${p.deleted.length} 个，保留 ${p.kept} 个`);
    if (o.dryRun) for (const f of p.deleted) o.write(`  ${f}`);
  }
  return total;
}
