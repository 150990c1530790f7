import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { formatImportReport, importRosterFile } from '../scripts/import.js';
import { accounts, cadres, units } from '../storage/schema.js';
import { oneWhere, rowsWhere } from './db-probe.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

let chat: Chat;
beforeEach(async () => { chat = await Chat.create({ MINQING_ADMINS: ['console:z1'] }); });
afterEach(async () => { await chat.close(); });

/** The cadre with that phone: name, rank, resident worker, unit and the unit's parent (null at the root). */
async function cadre(phone: string) {
  const c = await oneWhere(chat.db, cadres, { phone });
  if (!c) return undefined;
  const u = (await oneWhere(chat.db, units, { id: c.unitId }))!;
  const p = u.parentId === null ? undefined : await oneWhere(chat.db, units, { id: u.parentId });
  return { name: c.name, rank: c.rank, resident: c.residentWorker, unit: u.name, parent: p?.name ?? null };
}
/** The accounts (`platform:accountId`) bound to the cadre with that phone, sorted. */
async function accountsOf(phone: string): Promise<string[]> {
  const c = await oneWhere(chat.db, cadres, { phone });
  if (!c) return [];
  return (await rowsWhere(chat.db, accounts, { cadreId: c.id })).map((a) => `${a.platform}:${a.accountId}`).sort();
}

describe('importRosterFile: CSV', () => {
  it('imports a UTF-8 CSV with a BOM, building the unit tree and binding accounts', async () => {
    expect(readFileSync(fixture('roster.csv')).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const r = await importRosterFile(chat.db, fixture('roster.csv'), { progress: true });
    expect(r).toEqual({ created: 4, updated: 0, errors: [], rows: 4 });
    expect(formatImportReport(r)).toBe('导入完成：新增 4 人，更新 0 人。');
    expect(await cadre('13900000001')).toEqual({ name: '赵一', rank: 'leader', resident: false, unit: '示范县', parent: null });
    expect(await cadre('13900000002')).toEqual({ name: '钱二', rank: 'staff', resident: true, unit: '城关镇', parent: '示范县' });
    // “139 0000 0003” and “一般干部” are tidied; “√” means 驻村.
    expect(await cadre('13900000003')).toEqual({ name: '孙三', rank: 'staff', resident: false, unit: '城关镇', parent: '示范县' });
    expect(await cadre('13900000004')).toEqual({ name: '李五', rank: 'staff', resident: true, unit: '北街社区', parent: '城关镇' });
    expect(await accountsOf('13900000002')).toEqual(['console:z2', 'feishu:ou_qian']);
    await chat.says('z2', '/走访 今天 城关村 1天');
    expect(chat.lastReply).toContain('已记录走访');
  });

  it('re-imports by updating, never duplicating', async () => {
    await importRosterFile(chat.db, fixture('roster.csv'));
    const again = await importRosterFile(chat.db, fixture('roster.csv'));
    expect(again).toEqual({ created: 0, updated: 4, errors: [], rows: 4 });
    expect(await chat.count('cadres')).toBe(4);
    expect(await chat.count('units')).toBe(3);
    expect(await chat.count('accounts')).toBe(4);

    // 孙三 moves to 北街社区 and becomes a lead; a new person joins.
    const moved = join(chat.dir, '名册-更新.csv');
    writeFileSync(moved, '姓名,手机,单位,上级单位,职级,驻村,账号\n孙三,13900000003,北街社区,城关镇,领导,,console:z3\n何新,13900000011,城关镇,示范县,,,\n');
    const r = await importRosterFile(chat.db, moved);
    expect(r).toEqual({ created: 1, updated: 1, errors: [], rows: 2 });
    expect(formatImportReport(r)).toBe('导入完成：新增 1 人，更新 1 人。');
    expect(await chat.count('cadres')).toBe(5);
    expect(await cadre('13900000003')).toEqual({ name: '孙三', rank: 'leader', resident: false, unit: '北街社区', parent: '城关镇' });
    expect(await accountsOf('13900000003')).toEqual(['console:z3']);
  });

  it('reports bad rows by their row number and still imports the good ones', async () => {
    const r = await importRosterFile(chat.db, fixture('roster-bad.csv'));
    expect(r.created).toBe(2);
    expect(r.updated).toBe(0);
    expect(r.rows).toBe(6);
    expect(r.errors).toEqual([
      { row: 3, reason: '手机应为11位手机号' },
      { row: 4, reason: '单位为空' },
      { row: 6, reason: '职级应为“领导”或“一般”' },
      { row: 7, reason: '手机号与第2行重复，已跳过（同一人请只写一行）' },
    ]);
    expect((await rowsWhere(chat.db, cadres, {}, 'id')).map((c) => ({ name: c.name }))).toEqual([{ name: '周五' }, { name: '陈十' }]);
    const report = formatImportReport(r);
    expect(report.split('\n').slice(0, 3)).toEqual([
      '导入完成：新增 2 人，更新 0 人；4 行有误：',
      '  第3行：手机应为11位手机号',
      '  第4行：单位为空',
    ]);
    expect(report).toContain('  第6行：职级应为“领导”或“一般”');
  });

  it('refuses a file that lacks required columns, naming them', async () => {
    const f = join(chat.dir, 'roster.csv');
    writeFileSync(f, '姓名,部门,职级\n张三,石门镇,一般\n');
    await expect(importRosterFile(chat.db, f)).rejects.toThrow('缺少必需的列：手机、单位');
    expect(await chat.count('cadres')).toBe(0);
  });

  it('recognises column variants such as 手机号 and 帐号', async () => {
    const f = join(chat.dir, 'roster.csv');
    writeFileSync(f, '姓名*,手机号,单位,上级单位,帐号\n张三,+86 138-0000-0002,石门镇,示范县,Console：u2；feishu:ou_z\n');
    const r = await importRosterFile(chat.db, f);
    expect(r).toEqual({ created: 1, updated: 0, errors: [], rows: 1 });
    expect(await accountsOf('13800000002')).toEqual(['console:u2', 'feishu:ou_z']);
  });

  it('asks for UTF-8 when the CSV is GBK', async () => {
    const f = join(chat.dir, 'gbk.csv');
    // 姓名 in GBK, then the rest in ASCII.
    writeFileSync(f, Buffer.concat([Buffer.from([0xd0, 0xd5, 0xc3, 0xfb]), Buffer.from(',phone,unit\n')]));
    await expect(importRosterFile(chat.db, f)).rejects.toThrow('请另存为 UTF-8 CSV');
  });

  it('refuses a file that is no spreadsheet, naming the expected columns', async () => {
    const png = join(chat.dir, 'photo.png');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await expect(importRosterFile(chat.db, png)).rejects.toThrow(/只支持 \.xlsx 和 \.csv[\s\S]*姓名、手机、单位、上级单位、职级、驻村、账号/);
    const fake = join(chat.dir, 'roster.xlsx');
    copyFileSync(fixture('roster.csv'), fake);
    await expect(importRosterFile(chat.db, fake)).rejects.toThrow('不是有效的 .xlsx 文件');
    await expect(importRosterFile(chat.db, join(chat.dir, 'none.csv'))).rejects.toThrow('找不到文件');
    expect(await chat.count('cadres')).toBe(0);
  });

  it('refuses a header-only file', async () => {
    const f = join(chat.dir, 'roster.csv');
    writeFileSync(f, '姓名,手机,单位\n\n');
    await expect(importRosterFile(chat.db, f)).rejects.toThrow('只有列名，没有数据行');
  });
});

describe('importRosterFile: xlsx', () => {
  it('reads the first sheet with the header in row 1', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名册');
    ws.addRow(['姓名', '手机', '单位', '上级单位', '职级', '驻村', '账号']);
    ws.addRow(['赵一', 13900000001, '示范县', null, '领导', null, 'console:z1']);
    ws.addRow(['钱二', '13900000002', { richText: [{ text: '城关' }, { text: '镇' }] }, '示范县', '一般', '是', 'feishu:ou_qian']);
    ws.addRow([]);
    ws.addRow(['孙三', 1390000, '城关镇', '示范县', '一般', null, null]);
    wb.addWorksheet('说明').addRow(['这一页不导入']);
    const f = join(chat.dir, '名册.xlsx');
    await wb.xlsx.writeFile(f);

    const r = await importRosterFile(chat.db, f);
    expect(r).toEqual({ created: 2, updated: 0, errors: [{ row: 5, reason: '手机应为11位手机号' }], rows: 3 });
    expect(await cadre('13900000001')).toEqual({ name: '赵一', rank: 'leader', resident: false, unit: '示范县', parent: null });
    expect(await cadre('13900000002')).toEqual({ name: '钱二', rank: 'staff', resident: true, unit: '城关镇', parent: '示范县' });
    expect(await accountsOf('13900000002')).toEqual(['feishu:ou_qian']);
    expect(formatImportReport(r)).toContain('导入完成：新增 2 人，更新 0 人；1 行有误：\n  第5行：手机应为11位手机号');

    const again = await importRosterFile(chat.db, f);
    expect(again.updated).toBe(2);
    expect(await chat.count('cadres')).toBe(2);
  });
});

describe('formatImportReport', () => {
  it('writes the report in the agreed form', () => {
    expect(formatImportReport({ created: 3, updated: 1, errors: [{ row: 5, reason: '手机应为11位手机号' }, { row: 9, reason: '单位为空' }] }))
      .toBe('导入完成：新增 3 人，更新 1 人；2 行有误：\n  第5行：手机应为11位手机号\n  第9行：单位为空\n改正这些行后可重新导入整个文件：已导入的人只会更新，不会重复。');
  });

  it('caps a long error list', () => {
    const errors = Array.from({ length: 130 }, (_, i) => ({ row: i + 2, reason: '姓名为空' }));
    const text = formatImportReport({ created: 0, updated: 0, errors });
    expect(text.split('\n')).toHaveLength(102);
    expect(text).toContain('另有 30 行有误');
  });
});
