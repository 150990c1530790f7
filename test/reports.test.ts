import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ctx } from '../bot/command.js';
import { coverageReply } from '../handlers/reports.js';
import { cadreByPhone } from '../storage/identity.js';
import { Chat } from './chat.js';
import { cadres, contactPoints, issueEvents, issues } from '../storage/schema.js';
import { insertRow, updateRows } from '../storage/rows.js';
import { rowsWhere, setWhere } from './db-probe.js';

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

async function book(file: string | undefined): Promise<ExcelJS.Workbook> {
  expect(file).toBeTruthy();
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file!);
  return wb;
}

/** Row `n` of a sheet as plain values (index 0 = column A). */
const row = (ws: ExcelJS.Worksheet, n: number) => (ws.getRow(n).values as unknown[]).slice(1);
const dataRows = (ws: ExcelJS.Worksheet) => ws.rowCount - 2;

/** Every text in the workbook, to look for phone numbers wherever they hide. */
function allText(wb: ExcelJS.Workbook): string {
  const out: string[] = [];
  wb.eachSheet((ws) => ws.eachRow((r) => r.eachCell((c) => out.push(String(c.value)))));
  return out.join('\n');
}

const sheetNames = (wb: ExcelJS.Workbook) => wb.worksheets.map((w) => w.name);

async function seedIssues(): Promise<void> {
  await chat.says('u2', '/民情 石门村 道路破损影响出行 类别:基础设施 时限:12月31日', { at: '2026-11-02T10:00:00+08:00' });
  await chat.says('u2', '/进展 #1 已联系交通局，列入下月维修计划', { at: '2026-11-05T10:00:00+08:00' });
  await chat.says('u3', '/民情 东关社区 路灯不亮 类别:基础设施 时限:11月10日', { at: '2026-11-03T10:00:00+08:00' });
  await chat.says('u2', '/民情 石门村 王大爷反映低保未到账，电话13912345678 类别:社会保障 时限:11月30日', { at: '2026-11-04T10:00:00+08:00' });
  await chat.says('u2', '/办结 #3 已补发，已电话告知群众', { at: '2026-11-06T10:00:00+08:00' });
  await chat.says('u1', '/销号 #3', { at: '2026-11-07T10:00:00+08:00' });
}

describe('/导出 清单', () => {
  it('writes the 民生实事清单 of seed 003 and the three lists, one sheet each', async () => {
    await seedIssues();
    await chat.says('u1', '/导出 清单 本月');
    expect(chat.lastReply).toContain('已导出示范县民生实事清单和三个清单（2026年11月）');
    const wb = await book(chat.replies[0].file);
    expect(sheetNames(wb)).toEqual(['民生实事清单', '问题清单', '任务清单', '效果清单', '三率']);
    const ws = wb.getWorksheet('民生实事清单')!;
    expect(row(ws, 1)[0]).toBe('示范县民生实事清单（2026年11月，含下级单位）');
    expect(row(ws, 2)).toEqual(['序号', '问题清单', '任务清单', '完成时限', '责任领导', '责任部门/社区', '备注']);
    expect(dataRows(ws)).toBe(3);
    expect(row(ws, 3).slice(0, 3)).toEqual([1, '石门村 道路破损影响出行', '已联系交通局，列入下月维修计划']);
    const due = ws.getCell('D3');
    expect(due.value).toBeInstanceOf(Date);
    expect((due.value as Date).toISOString().slice(0, 10)).toBe('2026-12-31');
    expect(due.numFmt).toBe('yyyy-mm-dd');
    expect(ws.getCell('F3').value).toBe('石门镇');
    expect(ws.getCell('G4').value).toBe('#2 登记，逾期10天');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
    expect(ws.getColumn(2).width).toBe(40);
    expect(dataRows(wb.getWorksheet('问题清单')!)).toBe(3);
    expect(row(wb.getWorksheet('任务清单')!, 3).slice(1, 5)).toEqual([1, new Date('2026-11-05T00:00:00Z'), '石门村', '已联系交通局，列入下月维修计划']);
    const effects = wb.getWorksheet('效果清单')!;
    expect(dataRows(effects)).toBe(1);
    expect(row(effects, 3).slice(5, 10)).toEqual(['已补发，已电话告知群众', '是', undefined, '张三', '已销号']);
    // 三率 on 11月20日: no issue answered within one working day (#1's first /进展 came on the third
    // day, #2 none, #3 resolved two days later); of those due in November #3 was resolved in time, #2 not.
    const rates = wb.getWorksheet('三率')!;
    expect(row(rates, 1)[0]).toBe('示范县三率（2026年11月，各单位均含下级单位）');
    expect(row(rates, 2)).toEqual(['单位', '响应率', '及时响应/应响应', '解决率', '按期解决/到期', '满意率', '满意及基本满意/已评价']);
    expect(row(rates, 3)).toEqual(['示范县', '0%', '0/3', '50%', '1/2', '—']);
    expect(row(rates, 4)).toEqual(['石门镇', '0%', '0/2', '100%', '1/1', '—']);
    expect(row(rates, 5)).toEqual(['东关社区', '0%', '0/1', '0%', '0/1', '—']);
  });

  it('writes a valid file that says there is no data for an empty period', async () => {
    await seedIssues();
    await chat.says('u1', '/导出 清单 2026-09');
    expect(chat.lastReply).toContain('共 0 行（本期无数据，文件中已注明）');
    const wb = await book(chat.replies[0].file);
    expect(wb.worksheets).toHaveLength(5);
    for (const ws of wb.worksheets) {
      expect(ws.rowCount).toBe(3);
      expect(ws.getCell('A3').value).toBe('本期无数据');
    }
  });
});

describe('/导出 台账', () => {
  it('lists pending issues first, overdue marked, closed last, with every issue history', async () => {
    await seedIssues();
    await chat.says('u1', '/导出 台账', { group: true });
    const wb = await book(chat.replies[0].file);
    expect(sheetNames(wb)).toEqual(['台账', '办理记录']);
    const ws = wb.getWorksheet('台账')!;
    expect(row(ws, 2).slice(0, 5)).toEqual(['编号', '台账', '类别', '地点', '问题']);
    expect(dataRows(ws)).toBe(3);
    // #2 is overdue (deadline 11月10日), #1 pending, #3 closed.
    expect([ws.getCell('A3').value, ws.getCell('A4').value, ws.getCell('A5').value]).toEqual([2, 1, 3]);
    expect(ws.getCell('M3').value).toBe('登记（逾期）');
    expect(ws.getCell('N3').value).toBe(10);
    expect(ws.getCell('M5').value).toBe('已销号');
    expect(ws.getCell('U5').value).toEqual(new Date('2026-11-07T00:00:00Z'));
    // The deadline light, last column, filled in its colour; none for a closed issue.
    expect(ws.getCell('V2').value).toBe('期限灯');
    expect([ws.getCell('V3').value, ws.getCell('V4').value, ws.getCell('V5').value]).toEqual(['🔴 红灯', '🟢 绿灯', null]);
    expect(ws.getCell('V3').fill).toMatchObject({ type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } });
    expect(ws.getCell('V4').fill).toMatchObject({ fgColor: { argb: 'FFC6EFCE' } });
    const events = wb.getWorksheet('办理记录')!;
    expect(dataRows(events)).toBe(await chat.count('issueEvents'));
    expect(row(events, 3).slice(0, 4)).toEqual([1, new Date('2026-11-02T10:00:00Z'), '张三', '登记']);
    expect(allText(wb)).not.toMatch(/13912345678/);
  });

  it("shows the citizen's own rating as theirs, above the cadre's /评价, as /清单 does in chat", async () => {
    await seedIssues();
    await chat.says('u2', '/办结 #1 路面已修复，已电话告知群众', { at: '2026-11-08T10:00:00+08:00' });
    await chat.says('u2', '/评价 #1 满意', { at: '2026-11-09T10:00:00+08:00' });
    await chat.says('u2', '/评价 #3 满意', { at: '2026-11-09T10:00:00+08:00' });
    // #3's citizen rates it through their link, as handlers/citizen-pages.ts records it: the column and an audit row.
    const at = new Date('2026-11-10T10:00:00+08:00').getTime();
    await updateRows(chat.db, issues, { citizenSatisfaction: 'basic', citizenRatedAt: at }, 'id = ?', [3]);
    await insertRow(chat.db, issueEvents, {
      issueId: 3, at, date: '2026-11-10', actorCadreId: null, action: 'citizen_rate', fromState: 'closed', toState: 'closed', note: '群众通过链接评价：基本满意',
    });
    await chat.says('u1', '/导出 台账');
    const wb = await book(chat.replies[0].file);
    const ws = wb.getWorksheet('台账')!;
    expect(ws.getCell('T2').value).toBe('群众评价');
    // #2 pending and unrated, #1 rated by its cadre only, #3 by both: the citizen's first, the cadre's after it.
    expect([ws.getCell('A3').value, ws.getCell('A4').value, ws.getCell('A5').value]).toEqual([2, 1, 3]);
    expect([ws.getCell('T3').value, ws.getCell('T4').value, ws.getCell('T5').value])
      .toEqual([null, '干部录入：满意', '群众亲评：基本满意（干部录入：满意）']);
    const events = wb.getWorksheet('办理记录')!;
    const rows = Array.from({ length: dataRows(events) }, (_, k) => row(events, k + 3));
    expect(rows.find((r) => r[3] === '群众亲评')?.slice(0, 3)).toEqual([3, new Date('2026-11-10T10:00:00Z'), '群众（查看链接）']);
    // The lists workbook and /清单 in chat say the same.
    await chat.says('u1', '/导出 清单 本月');
    const effects = (await book(chat.replies[0].file)).getWorksheet('效果清单')!;
    // In the order they were resolved: #3 on 11月6日, #1 on 11月8日.
    expect([row(effects, 3)[1], row(effects, 3)[7]]).toEqual([3, '群众亲评：基本满意（干部录入：满意）']);
    expect([row(effects, 4)[1], row(effects, 4)[7]]).toEqual([1, '干部录入：满意']);
    await chat.says('u1', '/清单 本月');
    expect(chat.lastReply).toContain('已答复·群众亲评基本满意·已销号');
    expect(chat.lastReply).toContain('已答复·满意）');
  });

  it('shows the phone numbers in the history in full to a lead in a direct chat', async () => {
    await seedIssues();
    await chat.says('u1', '/导出 台账');
    expect(allText(await book(chat.replies[0].file))).toContain('13912345678');
  });
});

describe('/联系户 and /导出 民情表', () => {
  async function seedHouseholds(): Promise<void> {
    await chat.says('u2', '/联系户 王大爷 13912345678 人口:4 收入:务农 困难:就医难 意见:希望修路，儿子电话13800138000 地点:石门村');
    await chat.says('u3', '/联系户 李大妈 13700001111 3口人 东关社区\n困难：孩子上学远 就医难');
  }

  it('registers, updates and lists households', async () => {
    await seedHouseholds();
    expect(chat.lastReply).toContain('已登记联系户 #2：李大妈，电话 13700001111，3口人，困难：孩子上学远 就医难，东关社区');
    await chat.says('u2', '/联系户 王大爷 意见:路已修好');
    expect(chat.lastReply).toContain('已更新联系户 #1：王大爷，电话 13912345678，4口人，经济来源：务农，困难：就医难，意见：路已修好，石门村');
    await chat.says('u2', '/联系户 王大爷 13600002222 地点:西河村');
    expect(chat.lastReply).toContain('已登记联系户 #3');
    await chat.says('u2', '/联系户 王大爷 人口:5');
    expect(chat.lastReply).toContain('本单位有 2 户户主叫「王大爷」');
    expect(chat.lastReply).toContain('/联系户 王大爷 13912345678');
    await chat.says('u2', '/联系户', { group: true });
    expect(chat.lastReply).toContain('我的联系户（共 2 户）');
    expect(chat.lastReply).toContain('139****5678');
    expect(chat.lastReply).not.toContain('13912345678');
    expect(await chat.count('households')).toBe(3);
    expect((await rowsWhere(chat.db, contactPoints, {}, 'id')).map((p) => p.name)).toEqual(['石门村', '东关社区', '西河村']);
  });

  it('refuses a phone number as the name and fields without a name', async () => {
    await chat.says('u2', '/联系户 姓名:13912345678');
    expect(chat.lastReply).toContain('像是电话号码，不是姓名');
    await chat.says('u2', '/联系户 人口:4');
    expect(chat.lastReply).toContain('请先写户主姓名，例如 /联系户 王大爷');
    expect(await chat.count('households')).toBe(0);
  });

  it('writes the 民情记录表 of seed 004: full phones only for a lead in a direct chat', async () => {
    await seedHouseholds();
    await chat.says('u1', '/导出 民情表');
    const direct = await book(chat.replies[0].file);
    const ws = direct.getWorksheet('民情记录表')!;
    expect(row(ws, 2)).toEqual(['序号', '姓名', '电话', '家庭人口数', '经济来源', '存在困难', '群众意见', '村（社区）', '联系干部', '所属单位', '登记日期']);
    expect(dataRows(ws)).toBe(2);
    expect(row(ws, 3).slice(0, 4)).toEqual([1, '王大爷', '13912345678', 4]);
    expect(ws.getCell('K3').value).toEqual(new Date('2026-11-20T00:00:00Z'));
    expect(allText(direct)).toContain('13800138000');

    await chat.says('u1', '/导出 民情表', { group: true });
    expect(chat.lastReply).toContain('手机号已隐去中间四位');
    const group = await book(chat.replies[0].file);
    const text = allText(group);
    expect(text).not.toMatch(/1[3-9]\d{9}/);
    expect(group.getWorksheet('民情记录表')!.getCell('C3').value).toBe('139****5678');
    expect(text).toContain('138****8000');

    // A staff member, even in a direct chat, gets masked numbers.
    await chat.says('u2', '/导出 民情表');
    expect(allText(await book(chat.replies[0].file))).not.toMatch(/1[3-9]\d{9}/);
  });

  it('writes the 民情记录表 as CSV with a UTF-8 BOM', async () => {
    await seedHouseholds();
    await chat.says('u1', '/导出 民情表 csv', { group: true });
    const bytes = readFileSync(chat.replies[0].file!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trim().split('\r\n');
    expect(lines[0]).toBe('序号,姓名,电话,家庭人口数,经济来源,存在困难,群众意见,村（社区）,联系干部,所属单位,登记日期');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^1,王大爷,139\*\*\*\*5678,4,务农,就医难,希望修路，儿子电话138\*\*\*\*8000,石门村,张三,石门镇,2026-11-20$/);
  });
});

describe('/导出 日志', () => {
  beforeEach(async () => {
    await chat.says('u2', '/走访 11月18日 石门村 入户 1天 走访困难户3户');
    await chat.says('u2', '/志愿 3小时 县福利院 义工日');
    await chat.says('u3', '/走访 昨天 东关社区 宣讲 半天 宣讲医保政策');
  });

  it('exports my own 工作日志 by default', async () => {
    await chat.says('u2', '/导出 日志');
    expect(chat.lastReply).toContain('已导出张三工作日志（2026年11月），共 2 行');
    const ws = (await book(chat.replies[0].file)).getWorksheet('工作日志')!;
    expect(row(ws, 2)).toEqual(['序号', '日期', '姓名', '单位', '类别', '地点', '内容', '时长（小时）', '户数', '状态', '记录编号']);
    expect(row(ws, 3)).toEqual([1, new Date('2026-11-18T00:00:00Z'), '张三', '石门镇', '走访·入户走访', '石门村', '走访困难户3户', 8, 3, '正常', '#V1']);
    expect(row(ws, 4).slice(4, 8)).toEqual(['志愿服务', '县福利院', '义工日', 3]);
  });

  it('exports a unit log, as CSV when asked', async () => {
    await chat.says('u1', '/导出 日志 示范县 本月 csv');
    const text = readFileSync(chat.replies[0].file!, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.trim().split('\r\n')).toHaveLength(4);
    expect(text).toContain('2026-11-19,李四,东关社区,走访·政策宣讲,东关社区,宣讲医保政策,4,0,正常,#V2');
  });

  it('masks phone numbers in visit notes of a log sent to a group', async () => {
    await chat.says('u2', '/走访 今天 石门村 2小时 王大爷电话13912345678');
    await chat.says('u2', '/导出 日志', { group: true });
    const text = allText(await book(chat.replies[0].file));
    expect(text).toContain('王大爷电话139****5678');
    expect(text).not.toMatch(/1[3-9]\d{9}/);
  });

  it('lists every record of the month that was not voided, whatever its status', async () => {
    // V1 ok, V2 (李四) ok — from beforeEach; then a 补报 left pending, one passed, one returned,
    // one voided. The log reads counted and uncounted visits through different indexes.
    await chat.says('u2', '/走访 11月3日 石门村 座谈 2小时 补报的座谈');
    await chat.says('u2', '/走访 11月4日 石门村 宣讲 2小时 补报后核查通过');
    await chat.says('u2', '/走访 11月16日 西河村 谈心 1小时 被退回的一条');
    await chat.says('u2', '/走访 11月17日 西河村 企业 1小时 发错撤销的一条');
    await chat.says('u2', '/撤销');
    expect(chat.lastReply).toContain('已撤销');
    await chat.says('u1', '/核查 #V4 通过');
    await chat.says('u1', '/核查 #V5 退回 日期与工作日志不符');
    await chat.says('u1', '/导出 日志 示范县 本月 csv');
    expect(chat.lastReply).toContain('共 6 行');
    const lines = readFileSync(chat.replies[0].file!, 'utf8').trim().split('\r\n').slice(1);
    const byRef = Object.fromEntries(lines.map((l) => { const f = l.split(','); return [f[f.length - 1], f[f.length - 2]]; }));
    expect(byRef).toEqual({ '#V1': '正常', '#V2': '正常', '#V3': '补报待核查', '#V4': '已核查', '#V5': '已退回', '#Z1': '正常' });
    // In date order, as before.
    expect(lines.map((l) => l.split(',')[0])).toEqual([...lines.map((l) => l.split(',')[0])].sort());
  });

  it("exports another cadre's log only for them or their lead", async () => {
    await chat.says('u3', '/导出 日志 @张三');
    expect(chat.lastReply).toContain('只有张三本人或其所在单位的领导可以导出张三的工作日志');
    await chat.says('u1', '/导出 日志 @张三 本月');
    expect(chat.lastReply).toContain('已导出张三工作日志（2026年11月），共 2 行');
    await chat.says('u1', '/导出 日志 @赵六');
    expect(chat.lastReply).toContain('名册中没有「赵六」');
  });
});

describe('bad input', () => {
  it('answers an unknown unit, an unknown month and a future month with the expected form', async () => {
    await chat.says('u1', '/导出 台账 火星镇');
    expect(chat.lastReply).toBe('没有名为「火星镇」的单位。请写名册中的单位全称，例如 /导出 台账 石门镇');
    await chat.says('u1', '/导出 清单 13月');
    expect(chat.lastReply).toContain('「13月」不是能识别的月份或时段');
    expect(chat.lastReply).toContain('例如 /导出 清单 石门镇 10月');
    await chat.says('u1', '/导出 日志 2027-03');
    expect(chat.lastReply).toContain('2027年3月 还没有开始');
    await chat.says('u1', '/导出');
    expect(chat.lastReply).toContain('缺少内容');
    expect(chat.lastReply).toContain('格式：/导出 内容 [单位] [时段] [干部] [格式]');
    await chat.says('u1', '/导出 台账 csv');
    expect(chat.lastReply).toContain('只能导出为 Excel');
    await chat.says('u3', '/导出 台账 石门镇');
    expect(chat.lastReply).toContain('您没有查看「石门镇」数据的权限');
  });
});

describe('coverage (三个全覆盖)', () => {
  const ctxOf = async (phone: string): Promise<Ctx> => ({
    db: chat.db, today: '2026-11-20', tz: 'Asia/Shanghai', now: new Date(chat.at), isAdmin: false,
    cadre: (await cadreByPhone(chat.db, phone))!, event: { direct: true } as Ctx['event'],
  }) as Ctx;

  beforeEach(async () => {
    // The roster was on file since mid-September: September and October are campaign months.
    await setWhere(chat.db, cadres, { createdAt: Date.parse('2026-09-15T00:00:00+08:00') }, {});
    for (const [u, d] of [['u2', '2026-09-20'], ['u3', '2026-09-21'], ['u1', '2026-09-22'], ['u2', '2026-10-08'], ['u3', '2026-10-09'], ['u2', '2026-11-02']]) {
      await chat.says(u, `/走访 ${d} 石门村 1天`, { at: `${d}T18:00:00+08:00` });
    }
    await chat.says('u2', '/联系户 王大爷 地点:石门村');
    await chat.says('u2', '/联系户 李大妈 地点:西河村');
  });

  it('lists who has not visited this month, points not reached and months with gaps', async () => {
    expect(await coverageReply(await ctxOf('13800000001'), '示范县')).toBe([
      '示范县（含下级单位）三个全覆盖 · 2026年（截至11月20日）',
      '人员全覆盖：本月 3 名干部中 1 名已走访（33%）。',
      '  本月尚未走访（2 人）：王强（示范县）、李四（东关社区）',
      '空间全覆盖：联系点 2 个中 1 个本年已走访（50%）。',
      '  尚未走访的联系点（1 个）：西河村（石门镇·张三）',
      '时间全覆盖：已过完的 2 个月中 1 个月人人有走访（50%）。',
      '  有断档的月份：10月（1/3 人未走访）',
      '完整名单：/导出 覆盖 示范县',
    ].join('\n'));
    expect(await coverageReply(await ctxOf('13800000002'))).toContain('人员全覆盖：本月 1 名干部中 1 名已走访（100%）');
    const li = await ctxOf('13800000003');
    await expect(Promise.resolve().then(() => coverageReply(li, '示范县'))).rejects.toThrow('没有查看「示范县」数据的权限');
  });

  it('exports the same lists', async () => {
    await chat.says('u1', '/导出 覆盖');
    const wb = await book(chat.replies[0].file);
    expect(sheetNames(wb)).toEqual(['本月未走访干部', '未走访联系点', '月度覆盖', '断档明细']);
    expect(row(wb.getWorksheet('本月未走访干部')!, 3)).toEqual([1, '王强', '示范县', '领导干部']);
    expect(row(wb.getWorksheet('未走访联系点')!, 3)).toEqual([1, '西河村', '村/社区', '石门镇', '张三']);
    expect(row(wb.getWorksheet('月度覆盖')!, 4)).toEqual(['2026年10月', 3, 2, 1, '67%']);
    expect(row(wb.getWorksheet('断档明细')!, 3)).toEqual(['2026年10月', '王强', '示范县', '领导干部']);
  });
});
