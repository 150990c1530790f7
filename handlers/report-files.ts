/**
 * The Excel exports (docs/rules.md#statistics-and-exports) in the documents' own layouts: the 民生实事清单 with the
 * three lists (问题清单 / 任务清单 / 效果清单, one sheet each), the issue ledger with every issue's
 * history, the 民情记录表 and the 工作日志 (visits and volunteer service, docs/rules.md#records).
 * These functions need no chat context (the weekly digest can call them too): what to export,
 * for whom, and whether citizens' phone numbers may appear in full.
 *
 * Decisions: the 民生实事清单 lists every issue raised in the unit (with sub-units) by the end of
 * the period that was not already resolved before it began; 责任部门/社区 is the issue's
 * department, else its unit. The ledger holds the issues the unit owns now (as /台账): pending
 * ones first, by deadline — so the overdue lead — then resolved, then closed. Unless
 * `fullPhones`, every mobile number in every cell is masked (138****5678), not only the 电话
 * column: descriptions and visit notes carry numbers too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { dataDir, type Config } from '../bot/config.js';
import { maskPhones } from '../bot/reply.js';
import { openTableFile, type CellValue, type Column, type TableWriter } from '../bot/table-file.js';
import { daysBetween, formatDate, localDate, startOfLocalDay, type LocalDate, type Period } from '../bot/time.js';
import type { Db } from '../storage/db.js';
import { issuesRaisedIn, issuesResolvedIn, tasksIn } from '../storage/issue-lists.js';
import { LEDGER_NAMES, PENDING_STATES, SATISFACTION_NAMES, SOURCE_NAMES, STATE_NAMES, type Ledger, type Satisfaction, type Source } from '../storage/issue-glossary.js';
import { cadreNames, householdRows, ledgerEvents, ledgerRows, logRows, openSnapshot, projectRows, scopePath, type Snapshot } from '../storage/reports.js';
import type { IssueState, Unit, VisitKind } from '../storage/types.js';
import { KIND_NAMES } from './records.js';
import { deadlineLight, LIGHT_FILLS, LIGHT_MARK, LIGHT_NAMES, type Light } from '../bot/lights.js';
import { percent } from '../bot/rates-text.js';
import { threeRates, type Rate } from '../storage/rates.js';
import { childUnits } from '../storage/units.js';

export const T = {
  noData: '本期无数据',
  projectsTitle: (unit: string, p: Period) => `${unit}民生实事清单（${p.label}，含下级单位）`,
  problemsTitle: (unit: string, p: Period) => `${unit}问题清单（${p.label}登记）`,
  tasksTitle: (unit: string, p: Period) => `${unit}任务清单（${p.label}办理措施）`,
  effectsTitle: (unit: string, p: Period) => `${unit}效果清单（${p.label}办结）`,
  ledgerTitle: (unit: string, today: LocalDate) => `${unit}问题台账（含下级单位，截至${formatDate(today)}）`,
  eventsTitle: (unit: string) => `${unit}问题办理记录（每件问题的全部经过）`,
  householdsTitle: (unit: string, today: LocalDate) => `${unit}民情记录表（含下级单位，截至${formatDate(today)}）`,
  logTitle: (who: string, p: Period) => `${who}工作日志（${p.label}）`,
  overdue: (days: number) => `逾期${days}天`,
  answered: (a: number | null) => (a === null ? '' : a ? '是' : '否'),
  // The 群众评价 cell says whose rating it is (ratingCell): the citizen's own outranks the cadre's.
  byCitizen: '群众亲评',
  byCadre: '干部录入',
  logKind: (type: 'visit' | 'volunteer', kind: string | null) =>
    type === 'visit' ? `走访·${KIND_NAMES[kind as VisitKind] ?? kind ?? ''}` : '志愿服务',
  ref: (type: 'visit' | 'volunteer', id: number) => `#${type === 'visit' ? 'V' : 'Z'}${id}`,
  light: (l: Light) => `${LIGHT_MARK[l]} ${LIGHT_NAMES[l]}`,
  ratesTitle: (unit: string, p: Period) => `${unit}三率（${p.label}，各单位均含下级单位）`,
  rateParts: (r: Rate) => (r.of ? `${r.n}/${r.of}` : ''),
};

const RECORD_STATUS: Record<string, string> = { ok: '正常', pending: '补报待核查', verified: '已核查', returned: '已退回' };
const ACTION_NAMES: Record<string, string> = {
  register: '登记', progress: '进展', resolve: '办结', reject: '退回', close: '销号', extend: '延期', escalate: '上报',
  supervise: '督办', rate: '评价', reopen: '重新办理', void: '撤销',
  // The citizen's own rating through their link: no cadre acted, the citizen did.
  citizen_rate: '群众亲评', citizen_reopen: '群众亲评不满意，重新办理',
};
const CITIZEN_ACTOR = '群众（查看链接）';
const PENDING = new Set<string>(PENDING_STATES);

const LIGHT_CELL_FILLS = Object.fromEntries((['green', 'yellow', 'red'] as const).map((l) => [T.light(l), LIGHT_FILLS[l]]));
const state = (s: string | null) => (s ? STATE_NAMES[s as IssueState] ?? s : '');
const satisfaction = (s: string | null) => (s ? SATISFACTION_NAMES[s as Satisfaction] ?? s : '');
/**
 * The 群众评价 cell: the citizen's own rating (from their link) first and labelled as theirs,
 * the cadre's /评价 after it only where it says something else — as /台账 and /清单 read in chat
 * (handlers/issue-lists.ts ratingMark), and as 满意率 counts (storage/ratings.ts).
 */
export function ratingCell(cadre: string | null, citizen: string | null): string {
  if (!citizen) return cadre ? `${T.byCadre}：${satisfaction(cadre)}` : '';
  const own = `${T.byCitizen}：${satisfaction(citizen)}`;
  return cadre && cadre !== citizen ? `${own}（${T.byCadre}：${satisfaction(cadre)}）` : own;
}

/** What an export is about and who receives it. */
export interface ExportInput {
  db: Db;
  /** Folder the file is written to (created when missing). */
  dir: string;
  tz: string;
  now: Date;
  today: LocalDate;
  unit: Unit;
  /** Citizens' phone numbers in full: only for a lead in a direct chat (docs/rules.md#masking). */
  fullPhones: boolean;
  format?: 'xlsx' | 'csv';
  log?: Logger;
}

export interface ExportResult { file: string; rows: number }

/** The folder of exports: MINQING_EXPORT_DIR, else `exports/` beside the database file (`./data` on PostgreSQL). */
export function exportDir(config: Config): string {
  if (config.MINQING_EXPORT_DIR) return config.MINQING_EXPORT_DIR;
  return join(dataDir(config), 'exports');
}

/** 'yyyyMMdd-HHmmss' in the deployment's time zone. */
export function stamp(now: Date, tz: string): string {
  const day = localDate(now, tz);
  const secs = Math.floor((now.getTime() - startOfLocalDay(day, tz).getTime()) / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day.replace(/-/g, '')}-${p(Math.floor(secs / 3600))}${p(Math.floor(secs / 60) % 60)}${p(secs % 60)}`;
}

/**
 * `台账_石门镇_2026-11_20261120-093000.xlsx` in `dir`, never overwriting an earlier file: the
 * name is claimed at once (an empty file), so two exports in the same second get two names.
 */
export function reportFile(dir: string, what: string, subject: string, periodKey: string, now: Date, tz: string, ext: string): string {
  const safe = (s: string) => s.replace(/[\\/:*?"<>|\s]+/g, '_');
  const base = join(dir, `${safe(what)}_${safe(subject)}_${periodKey}_${stamp(now, tz)}`);
  mkdirSync(dir, { recursive: true });
  for (let n = 1; ; n++) {
    const file = n === 1 ? `${base}.${ext}` : `${base}-${n}.${ext}`;
    try {
      writeFileSync(file, '', { flag: 'wx' });
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** A local wall time 'YYYY-MM-DD HH:mm' for an instant recorded with its local date. */
function wallTime(date: LocalDate, at: number, tz: string): string {
  const min = Math.min(1439, Math.max(0, Math.floor((at - startOfLocalDay(date, tz).getTime()) / 60_000)));
  return `${date} ${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
}

/**
 * Opens the file and a read snapshot, runs `build`, and cleans up: a failed export leaves no
 * half-written file behind.
 */
export async function writeReport(o: ExportInput, file: string, build: (w: TableWriter, s: Snapshot) => Promise<void>): Promise<ExportResult> {
  const w = await openTableFile({ file, format: o.format ?? 'xlsx', mask: !o.fullPhones, emptyText: T.noData });
  let snap: Snapshot | undefined;
  try {
    snap = await openSnapshot(o.db);
    await build(w, snap);
    return { file, rows: await w.close() };
  } catch (e) {
    await w.abort();
    throw e;
  } finally {
    await snap?.close();
  }
}

/** Rows as a query hands them over: a list, a synchronous iterator, or an asynchronous stream. */
export type RowSource<R> = Iterable<R> | AsyncIterable<R>;

/**
 * Rows of a query, to read with `for await`. A synchronous iterator open on the bot's own
 * connection (an in-memory SQLite database) is read at once: yielding while it is open would
 * block every other command. A list or an asynchronous stream (which holds no statement open
 * between rows) is passed through.
 */
export async function rowsOf<R>(s: Snapshot, rows: RowSource<R> | Promise<RowSource<R>>): Promise<RowSource<R>> {
  const it = await rows;
  if (s.separate || Array.isArray(it) || !(Symbol.iterator in it)) return it;
  return [...(it as Iterable<R>)];
}

const col = (header: string, width: number, kind?: Column['kind']): Column => ({ header, width, kind });

export async function exportLists(o: ExportInput, p: Period): Promise<ExportResult> {
  const file = reportFile(o.dir, '三个清单', o.unit.name, p.key, o.now, o.tz, 'xlsx');
  const asOf = p.end < o.today ? p.end : o.today;
  return writeReport({ ...o, format: 'xlsx' }, file, async (w, s) => {
    const name = cadreNames(s.db);
    await w.table({ sheet: '民生实事清单', title: T.projectsTitle(o.unit.name, p), columns: [
      col('序号', 6), col('问题清单', 40), col('任务清单', 50), col('完成时限', 12, 'date'),
      col('责任领导', 10), col('责任部门/社区', 18), col('备注', 30)] });
    let n = 0;
    for await (const r of await rowsOf(s, projectRows(s.db, o.unit.path, p.start, p.end))) {
      const late = PENDING.has(r.state) && r.deadline < asOf ? `，${T.overdue(daysBetween(r.deadline, asOf))}` : '';
      const done = r.result && !PENDING.has(r.state) ? `：${r.result}` : '';
      await w.row([++n, `${r.place} ${r.description}`, r.tasks, r.deadline, r.lead, r.department || r.unit,
        `#${r.id} ${state(r.state)}${late}${done}`]);
    }
    await w.table({ sheet: '问题清单', title: T.problemsTitle(o.unit.name, p), columns: [
      col('序号', 6), col('编号', 8), col('登记日期', 12, 'date'), col('地点', 16), col('问题', 40), col('类别', 10),
      col('台账', 10), col('责任人', 10), col('完成时限', 12, 'date'), col('状态', 10)] });
    n = 0;
    for (const i of await issuesRaisedIn(s.db, o.unit.path, p.start, p.end)) {
      await w.row([++n, i.id, i.createdDate, i.place, i.description, i.category, LEDGER_NAMES[i.ledger],
        await name(i.responsibleCadreId), i.deadline, state(i.state)]);
    }
    await w.table({ sheet: '任务清单', title: T.tasksTitle(o.unit.name, p), columns: [
      col('序号', 6), col('问题编号', 10), col('日期', 12, 'date'), col('地点', 16), col('措施', 60), col('填报人', 10)] });
    n = 0;
    for (const t of await tasksIn(s.db, o.unit.path, p.start, p.end)) await w.row([++n, t.issueId, t.date, t.place, t.note, await name(t.actorCadreId)]);
    await w.table({ sheet: '效果清单', title: T.effectsTitle(o.unit.name, p), columns: [
      col('序号', 6), col('编号', 8), col('办结日期', 12, 'date'), col('地点', 16), col('问题', 36), col('办理结果', 40),
      col('答复群众', 10), col('群众评价', 10), col('责任人', 10), col('状态', 10)] });
    n = 0;
    for (const i of await issuesResolvedIn(s.db, o.unit.path, p.start, p.end)) {
      await w.row([++n, i.id, i.resolvedDate, i.place, i.description, i.result, T.answered(i.answered === null ? null : Number(i.answered)),
        ratingCell(i.satisfaction, i.citizenSatisfaction), await name(i.responsibleCadreId), state(i.state)]);
    }
    // 三率 of the unit and of each unit directly below it, each with its own sub-units (README: 三率).
    await w.table({ sheet: '三率', title: T.ratesTitle(o.unit.name, p), columns: [
      col('单位', 16), col('响应率', 10), col('及时响应/应响应', 16), col('解决率', 10), col('按期解决/到期', 16),
      col('满意率', 10), col('满意及基本满意/已评价', 20)] });
    for (const u of [o.unit, ...(await childUnits(s.db, o.unit))]) {
      const r = await threeRates(s.db, u.path, p.start, p.end, o.today);
      // A unit with nothing to measure has no rates: an empty period keeps its 本期无数据 sheet.
      if (!r.response.of && !r.resolution.of && !r.satisfaction.of) continue;
      await w.row([u.name, percent(r.response), T.rateParts(r.response), percent(r.resolution), T.rateParts(r.resolution),
        percent(r.satisfaction), T.rateParts(r.satisfaction)]);
    }
  });
}

export async function exportLedger(o: ExportInput): Promise<ExportResult> {
  const file = reportFile(o.dir, '台账', o.unit.name, o.today, o.now, o.tz, 'xlsx');
  return writeReport({ ...o, format: 'xlsx' }, file, async (w, s) => {
    await w.table({ sheet: '台账', title: T.ledgerTitle(o.unit.name, o.today), columns: [
      col('编号', 8), col('台账', 10), col('类别', 10), col('地点', 16), col('问题', 40), col('来源', 8), col('责任人', 10),
      col('责任领导', 10), col('责任部门', 14), col('所属单位', 14), col('登记日期', 12, 'date'), col('办理时限', 12, 'date'),
      col('状态', 10), col('逾期天数', 10, 'number'), col('延期次数', 10, 'number'), col('督办次数', 10, 'number'),
      col('办结日期', 12, 'date'), col('办理结果', 36), col('答复群众', 10), col('群众评价', 10), col('销号日期', 12, 'date'),
      // Last, so the columns before it keep their letters for whoever reads the file by position.
      { ...col('期限灯', 10), fills: LIGHT_CELL_FILLS }] });
    const path = await scopePath(s.db, o.unit);
    const lights = new Map<string, string>();
    const lightOf = (deadline: string) => {
      let l = lights.get(deadline);
      if (l === undefined) lights.set(deadline, (l = T.light(deadlineLight(deadline, o.today))));
      return l;
    };
    for await (const r of await rowsOf(s, ledgerRows(s.db, path))) {
      const late = PENDING.has(r.state) && r.deadline < o.today ? daysBetween(r.deadline, o.today) : null;
      await w.row([r.id, LEDGER_NAMES[r.ledger as Ledger] ?? r.ledger, r.category, r.place, r.description,
        SOURCE_NAMES[r.source as Source] ?? r.source, r.responsible, r.lead, r.department, r.unit, r.createdDate, r.deadline,
        state(r.state) + (late ? '（逾期）' : ''), late, r.extensions, r.superviseCount, r.resolvedDate, r.result,
        T.answered(r.answered), ratingCell(r.satisfaction, r.citizenSatisfaction), r.closedAt ? localDate(new Date(r.closedAt), o.tz) : null,
        PENDING.has(r.state) ? lightOf(r.deadline) : null]);
    }
    await w.table({ sheet: '办理记录', title: T.eventsTitle(o.unit.name), columns: [
      col('问题编号', 10), col('时间', 17, 'datetime'), col('操作人', 10), col('操作', 10), col('原状态', 10), col('新状态', 10), col('说明', 50)] });
    for await (const e of await rowsOf(s, ledgerEvents(s.db, path))) {
      await w.row([e.issueId, wallTime(e.date, e.at, o.tz), e.actor ?? (e.action.startsWith('citizen_') ? CITIZEN_ACTOR : null), ACTION_NAMES[e.action] ?? e.action,
        state(e.fromState), state(e.toState), e.note]);
    }
  });
}

/** A household's phone as the file may show it: masked (landlines too) unless full. */
function phoneCell(phone: string | null, full: boolean): CellValue {
  if (!phone || full) return phone;
  const masked = maskPhones(phone);
  return masked !== phone ? masked : phone.replace(/(\d{3})\d+(\d{2})$/, (_, a: string, b: string) => `${a}****${b}`);
}

/** `onlyCadre`: the households that cadre looks after — all a cadre who does not lead the unit may see. */
export async function exportHouseholds(o: ExportInput, onlyCadre?: number): Promise<ExportResult> {
  const format = o.format ?? 'xlsx';
  const file = reportFile(o.dir, '民情记录表', o.unit.name, o.today, o.now, o.tz, format);
  return writeReport({ ...o, format }, file, async (w, s) => {
    await w.table({ sheet: '民情记录表', title: T.householdsTitle(o.unit.name, o.today), columns: [
      col('序号', 6), col('姓名', 10), col('电话', 14), col('家庭人口数', 10, 'number'), col('经济来源', 14), col('存在困难', 30),
      col('群众意见', 36), col('村（社区）', 14), col('联系干部', 10), col('所属单位', 14), col('登记日期', 12, 'date')] });
    let n = 0;
    for await (const h of await rowsOf(s, householdRows(s.db, o.unit.path, onlyCadre))) {
      await w.row([++n, h.headName, phoneCell(h.phone, o.fullPhones), h.size, h.incomeSource, h.difficulties, h.opinions,
        h.place, h.cadre, h.unit, localDate(new Date(h.createdAt), o.tz)]);
    }
  });
}

/** The 工作日志 of a unit (with sub-units) or, when `cadre` is given, of that cadre alone. */
export async function exportLog(o: ExportInput, p: Period, cadre?: { id: number; name: string }): Promise<ExportResult> {
  const format = o.format ?? 'xlsx';
  const who = cadre?.name ?? o.unit.name;
  const file = reportFile(o.dir, '工作日志', who, p.key, o.now, o.tz, format);
  return writeReport({ ...o, format }, file, async (w, s) => {
    await w.table({ sheet: '工作日志', title: T.logTitle(who, p), columns: [
      col('序号', 6), col('日期', 12, 'date'), col('姓名', 10), col('单位', 14), col('类别', 14), col('地点', 16),
      col('内容', 44), col('时长（小时）', 12, 'number'), col('户数', 8, 'number'), col('状态', 12), col('记录编号', 10)] });
    let n = 0;
    const scope = cadre ? { cadreId: cadre.id } : { unitPath: o.unit.path };
    for await (const r of await rowsOf(s, logRows(s.db, scope, p.start, p.end))) {
      await w.row([++n, r.date, r.cadre, r.unit, T.logKind(r.type, r.kind), r.place, r.content, r.hours,
        r.type === 'visit' ? r.households : null, RECORD_STATUS[r.status] ?? r.status, T.ref(r.type, r.id)]);
    }
  });
}
