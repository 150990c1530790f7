/**
 * The world every corpus line starts from (test/corpus/README.md): the demo roster, known
 * places, issues #1–#30 in fixed states and a few fresh records of 张三. Built once into a
 * SQLite file — also when the suite runs on PostgreSQL: the corpus tests the reader, not the
 * database — and each line gets its own copy.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../storage/db.js';
import { seedDemo } from '../scripts/demo.js';
import { cadreByPhone } from '../storage/identity.js';
import { unitByName } from '../storage/units.js';
import { ensureContactPoint, insertHousehold } from '../storage/households.js';
import { insertIssue } from '../storage/issues.js';
import { insertVisit, insertVolunteer } from '../storage/records.js';
import type { IssueState } from '../storage/types.js';

export const WORLD_CLOCK = '2026-11-20T09:30:00+08:00';

export async function buildWorld(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'minqing-corpus-'));
  const file = join(dir, 'world.db');
  const db = await openDb(file);
  const at = new Date(WORLD_CLOCK).getTime();
  await seedDemo(db, at - 86_400_000);
  const wang = (await cadreByPhone(db, '13800000001'))!, zhang = (await cadreByPhone(db, '13800000002'))!, li = (await cadreByPhone(db, '13800000003'))!;
  const shimen = (await unitByName(db, '石门镇'))!, dongguan = (await unitByName(db, '东关社区'))!;
  for (const [name, unit, kind] of [['石门村', shimen, 'village'], ['红星村', shimen, 'village'], ['金鸡岭', shimen, 'village'],
    ['宏达机械厂', shimen, 'enterprise'], ['东关社区', dongguan, 'village'], ['幸福小区', dongguan, 'village']] as const) {
    await ensureContactPoint(db, { unitId: unit.id, name, kind, cadreId: zhang.id, at });
  }
  await insertHousehold(db, { unitId: shimen.id, cadreId: zhang.id, headName: '王大爷', at });
  for (let n = 1; n <= 30; n++) {
    const state: IssueState = n <= 10 ? 'open' : n <= 15 ? 'in_progress' : n <= 25 ? 'resolved' : 'closed';
    const unit = n >= 11 && n <= 15 ? dongguan : shimen;
    const responsible = n >= 11 && n <= 15 ? li : zhang;
    const petition = n === 8;
    await insertIssue(db, {
      unitId: unit.id, originUnitId: unit.id, ledger: petition ? 'stability' : 'livelihood', category: petition ? '信访' : '基础设施',
      place: '石门村', description: `第${n}号问题：道路破损`, responsibleCadreId: responsible.id, leadCadreId: null, department: null,
      deadline: petition ? '2026-12-10' : '2026-12-31', source: petition ? 'petition' : 'visit', visitId: null, state,
      result: state === 'resolved' || state === 'closed' ? '已修复' : null, answered: state === 'resolved' || state === 'closed' ? true : null,
      resolvedAt: state === 'resolved' || state === 'closed' ? at - 86_400_000 : null,
      reporterCadreId: wang.id, evidence: null, platform: 'console', chatId: 'g0', messageId: `world-${n}`, createdAt: at - 5 * 86_400_000,
      createdDate: '2026-11-15',
    });
  }
  const origin = { platform: 'console', chatId: 'u2', messageId: null, at: at - 5 * 60_000 };
  for (let n = 1; n <= 3; n++) {
    await insertVisit(db, { cadreId: zhang.id, unitId: zhang.unitId, date: '2026-11-19', hours: 8, place: '石门村', kind: 'household', households: 1,
      content: '入户走访', status: 'ok', backdated: false, evidence: null }, origin);
  }
  await insertVolunteer(db, { cadreId: zhang.id, unitId: zhang.unitId, date: '2026-11-18', hours: 3, place: '县福利院', activity: '义工日',
    status: 'ok', backdated: false }, origin);
  await db.close();
  return file;
}

export function copyWorld(file: string, to: string): void {
  copyFileSync(file, to);
}
