/**
 * Roster import (docs/rules.md#operating): rows of 姓名, 手机, 单位, 上级单位, 职级, 驻村, 账号. Units are created
 * as a tree from 单位/上级单位; a cadre is identified by phone, so re-importing updates and never
 * duplicates. Bad rows are reported by number (1 = the header line) and the good ones still import.
 */
import { z } from 'zod';
import type { Db } from './db.js';
import { cadres } from './schema.js';
import { insertRow, updateRows } from './rows.js';
import { bindAccount } from './identity.js';
import { ensureUnit, unitByName } from './units.js';

export const ROSTER_COLUMNS = ['姓名', '手机', '单位', '上级单位', '职级', '驻村', '账号'] as const;
export const REQUIRED_COLUMNS = ['姓名', '手机', '单位'] as const;

const cell = z.preprocess((v) => (v == null ? '' : String(v).trim()), z.string());
const rowSchema = z.object({
  姓名: cell.pipe(z.string().min(1, '姓名为空').max(30, '姓名太长')),
  手机: cell.pipe(z.string().regex(/^1[3-9]\d{9}$/, '手机应为11位手机号')),
  单位: cell.pipe(z.string().min(1, '单位为空').max(60, '单位名称太长')),
  上级单位: cell.pipe(z.string().max(60, '上级单位名称太长')),
  职级: cell.pipe(z.enum(['领导', '一般', ''], { message: '职级应为“领导”或“一般”' })),
  驻村: cell.pipe(z.enum(['是', '否', ''], { message: '驻村应为“是”或留空' })),
  账号: cell.pipe(z.string().regex(/^$|^([a-z]+:[^;：:\s]+)(;[a-z]+:[^;：:\s]+)*;?$/, '账号应为 平台:账号，多个用英文分号隔开，如 console:u1;feishu:ou_abc')),
});

export interface RosterResult {
  created: number;
  updated: number;
  errors: Array<{ row: number; reason: string }>;
}

export function missingColumns(header: string[]): string[] {
  return REQUIRED_COLUMNS.filter((c) => !header.includes(c));
}

/** Imports rows (objects keyed by column name); row numbers count the header as row 1. */
export async function importRoster(db: Db, rows: Array<Record<string, unknown>>, at: number, onRow?: (i: number) => void): Promise<RosterResult> {
  const result: RosterResult = { created: 0, updated: 0, errors: [] };
  await db.withWrite(async (tx) => {
    for (const [i, raw] of rows.entries()) {
      onRow?.(i);
      const rowNo = i + 2;
      const r = rowSchema.safeParse(raw);
      if (!r.success) {
        result.errors.push({ row: rowNo, reason: r.error.issues.map((x) => x.message).join('；') });
        continue;
      }
      const row = r.data;
      if (row.上级单位 === row.单位) {
        result.errors.push({ row: rowNo, reason: '上级单位不能是它自己' });
        continue;
      }
      const parent = row.上级单位 ? ((await unitByName(tx, row.上级单位)) ?? await ensureUnit(tx, row.上级单位, undefined, at)) : undefined;
      const unit = await ensureUnit(tx, row.单位, parent, at);
      const values = { name: row.姓名, unitId: unit.id, rank: row.职级 === '领导' ? 'leader' as const : 'staff' as const, residentWorker: row.驻村 === '是', active: true };
      const existing = await tx.value<number>('SELECT id FROM cadres WHERE phone = ?', [row.手机]);
      let id: number;
      if (existing !== undefined) {
        await updateRows(tx, cadres, values, 'id = ?', [existing]);
        id = existing;
        result.updated++;
      } else {
        id = await insertRow(tx, cadres, { ...values, phone: row.手机, createdAt: at }, 'RETURNING id');
        result.created++;
      }
      for (const acc of row.账号.split(';').filter(Boolean)) {
        const [platform, ...rest] = acc.split(':');
        await bindAccount(tx, platform, rest.join(':'), id, at);
      }
    }
  });
  return result;
}

/** Active cadres per unit id (own unit only, not the subtree). */
export async function cadreCountsByUnit(db: Db): Promise<Map<number, number>> {
  const rows = await db.all<{ unitId: number; n: number }>('SELECT unit_id AS "unitId", count(*) AS n FROM cadres WHERE active = TRUE GROUP BY unit_id');
  return new Map(rows.map((r) => [r.unitId, r.n]));
}

/** A phone as people type it (spaces, dashes, +86, full-width digits) in the roster's form. */
export function normalizePhone(s: string): string {
  return s.normalize('NFKC').replace(/[\s\-()（）]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
}
