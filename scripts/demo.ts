/**
 * The demo roster of the README's quick start: a county, two sub-units, a leader (also admin)
 * and two staff, bound to console users u1–u3, with the preset quotas switched on.
 */
import type { Db } from '../storage/db.js';
import { importRoster } from '../storage/roster.js';
import { cadreByPhone } from '../storage/identity.js';
import { cadres } from '../storage/schema.js';
import { updateRows } from '../storage/rows.js';
import { ALL_PRESET_SETS, installPresets } from '../storage/quotas.js';

export const DEMO_ROSTER = [
  { 姓名: '王强', 手机: '13800000001', 单位: '示范县', 上级单位: '', 职级: '领导', 驻村: '', 账号: 'console:u1' },
  { 姓名: '张三', 手机: '13800000002', 单位: '石门镇', 上级单位: '示范县', 职级: '一般', 驻村: '是', 账号: 'console:u2' },
  { 姓名: '李四', 手机: '13800000003', 单位: '东关社区', 上级单位: '示范县', 职级: '一般', 驻村: '', 账号: 'console:u3' },
];

/** All of it or none of it: a failed seed leaves no half a demo behind. */
export async function seedDemo(db: Db, at = Date.now()): Promise<void> {
  await db.withWrite(async (tx) => {
    await importRoster(tx, DEMO_ROSTER, at);
    const lead = (await cadreByPhone(tx, DEMO_ROSTER[0].手机))!;
    await updateRows(tx, cadres, { isAdmin: true }, 'id = ?', [lead.id]);
    // Every document's set: the demo shows each kind of rule (/我的, /统计, the nudges); a real
    // deployment installs only the sets it follows (/配额 预设).
    await installPresets(tx, at, ALL_PRESET_SETS);
  });
}
