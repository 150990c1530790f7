/**
 * Reading a roster file (`minqing import 名册.csv|.xlsx`): the file is turned into rows keyed by
 * the roster's column names and handed to storage/roster.ts importRoster. Row numbers in the
 * report are the spreadsheet's own (header = row 1), blank rows included, so an administrator
 * can go straight to the row in Excel.
 *
 * Decisions: columns are recognised under common variants (手机号, 帐号, “姓名*”, English names);
 * cells are tidied the way people type them (phones with spaces or +86, 职级 “领导干部”, 驻村
 * “√”, accounts with full-width ；/：); a phone already used by an earlier row of the same file is
 * reported instead of silently overwriting that row; blank rows are skipped.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { Presets, SingleBar } from 'cli-progress';
import { UserError } from '../bot/errors.js';
import type { Db } from '../storage/db.js';
import { importRoster, missingColumns, normalizePhone, ROSTER_COLUMNS, type RosterResult } from '../storage/roster.js';

type Column = (typeof ROSTER_COLUMNS)[number];
type Row = { line: number; values: Record<Column, string> };
export type ImportResult = RosterResult & { rows: number };

const EXAMPLE = '张三,13800000002,石门镇,示范县,一般,是,console:u2;feishu:ou_abc';
const COLUMNS_TEXT = `名册应为 .xlsx（读第一个工作表）或 UTF-8 编码的 .csv，第1行为列名：${ROSTER_COLUMNS.join('、')}（姓名、手机、单位必填），例如一行：${EXAMPLE}`;
const MAX_REPORTED = 100;

const T = {
  notFound: (f: string) => `找不到文件「${f}」。请写名册文件的路径，例如 npx minqing import 名册.csv`,
  notFile: (f: string) => `「${f}」不是文件。请写名册文件的路径，例如 npx minqing import 名册.xlsx`,
  wrongKind: (f: string) => `无法导入「${f}」：只支持 .xlsx 和 .csv 名册。\n${COLUMNS_TEXT}`,
  oldExcel: (f: string) => `无法导入「${f}」：这是旧版 Excel（.xls）。请在 Excel 中另存为 .xlsx 或「CSV UTF-8（逗号分隔）」后再导入。\n${COLUMNS_TEXT}`,
  badXlsx: (f: string) => `无法读取「${f}」：它不是有效的 .xlsx 文件（可能已损坏或只是改了扩展名）。请在 Excel 中另存为 .xlsx 后再导入。\n${COLUMNS_TEXT}`,
  noSheet: (f: string) => `「${f}」里没有工作表。\n${COLUMNS_TEXT}`,
  binary: (f: string) => `「${f}」不是文本格式的 CSV 文件。请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或 .xlsx。\n${COLUMNS_TEXT}`,
  notUtf8: (f: string) => `「${f}」不是 UTF-8 编码（可能是 GBK）：请另存为 UTF-8 CSV（Excel：另存为 →「CSV UTF-8（逗号分隔）」），或另存为 .xlsx 后再导入。`,
  badCsv: (f: string, why: string) => `「${f}」的 CSV 格式有误（${why}）。请在 Excel 中另存为「CSV UTF-8（逗号分隔）」后再导入。`,
  empty: (f: string) => `「${f}」是空的。\n${COLUMNS_TEXT}`,
  noRows: (f: string) => `「${f}」只有列名，没有数据行：第1行是列名，从第2行起每行一位干部，例如：${EXAMPLE}`,
  missing: (f: string, cols: string[]) => `「${f}」缺少必需的列：${cols.join('、')}。\n${COLUMNS_TEXT}`,
  duplicatePhone: (first: number) => `手机号与第${first}行重复，已跳过（同一人请只写一行）`,
  progress: '导入名册 [{bar}] {value}/{total} 行',
  done: (created: number, updated: number) => `导入完成：新增 ${created} 人，更新 ${updated} 人`,
  noErrors: '。',
  someErrors: (n: number) => `；${n} 行有误：`,
  errorLine: (row: number, reason: string) => `  第${row}行：${reason}`,
  moreErrors: (n: number) => `  ……另有 ${n} 行有误，请先改正以上各行后重新导入（重复导入不会重复建人）。`,
  fixHint: '改正这些行后可重新导入整个文件：已导入的人只会更新，不会重复。',
};

/** Column headers as people write them → the roster's column. */
const HEADER_ALIASES: Record<string, Column> = {
  姓名: '姓名', 名字: '姓名', 干部姓名: '姓名', name: '姓名',
  手机: '手机', 手机号: '手机', 手机号码: '手机', 联系电话: '手机', 电话: '手机', phone: '手机', mobile: '手机',
  单位: '单位', 所在单位: '单位', 工作单位: '单位', 单位名称: '单位', unit: '单位',
  上级单位: '上级单位', 上级: '上级单位', 上级单位名称: '上级单位', parent: '上级单位',
  职级: '职级', 级别: '职级', 干部类别: '职级', rank: '职级',
  驻村: '驻村', 是否驻村: '驻村', 驻村干部: '驻村', 驻村帮扶: '驻村', resident: '驻村',
  账号: '账号', 帐号: '账号', 聊天账号: '账号', 绑定账号: '账号', account: '账号', accounts: '账号',
};

const RANK_WORDS: Record<string, string> = {
  领导: '领导', 领导干部: '领导', 领导班子: '领导', 领导班子成员: '领导', 副科级以上: '领导', leader: '领导',
  一般: '一般', 一般干部: '一般', 干部: '一般', 普通干部: '一般', staff: '一般',
};
const RESIDENT_WORDS: Record<string, string> = {
  是: '是', 驻村: '是', 驻村干部: '是', y: '是', yes: '是', '√': '是', '✓': '是', '1': '是', true: '是',
  否: '', 不是: '', n: '', no: '', '×': '', '0': '', false: '',
};

function headerKey(s: string): Column | undefined {
  const k = s.normalize('NFKC').replace(/\s+/g, '').replace(/[*＊]/g, '').replace(/[(（][^)）]*[)）]$/, '').toLowerCase();
  return HEADER_ALIASES[k];
}

function tidy(col: Column, raw: string): string {
  const v = raw.trim();
  switch (col) {
    case '手机': return normalizePhone(v);
    case '职级': return RANK_WORDS[v.normalize('NFKC').toLowerCase()] ?? v;
    case '驻村': return RESIDENT_WORDS[v.normalize('NFKC').toLowerCase()] ?? v;
    case '账号': return v.replace(/[；，,\s]+/g, ';').replace(/：/g, ':').replace(/^;|;$/g, '')
      .split(';').map((a) => a.replace(/^[A-Za-z]+(?=:)/, (p) => p.toLowerCase())).join(';');
    default: return v;
  }
}

/** Header + data lines (1-based spreadsheet row numbers) as plain strings. */
interface Table { header: string[]; lines: Array<{ line: number; cells: string[] }> }

function readCsv(buf: Buffer, name: string): Table {
  let text: string;
  if (buf[0] === 0xff && buf[1] === 0xfe) text = new TextDecoder('utf-16le').decode(buf.subarray(2));
  else {
    if (buf.includes(0)) throw new UserError(T.binary(name));
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    } catch {
      throw new UserError(T.notUtf8(name));
    }
  }
  if (text.includes('\uFFFD')) throw new UserError(T.notUtf8(name));
  // Excel's "Unicode text" export is tab-separated; its CSV export uses commas.
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  let records: string[][];
  try {
    records = parse(text, { bom: true, delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false });
  } catch (e) {
    throw new UserError(T.badCsv(name, (e as Error).message));
  }
  if (!records.length) throw new UserError(T.empty(name));
  const [header, ...rest] = records;
  return { header, lines: rest.map((cells, i) => ({ line: i + 2, cells })) };
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '是' : '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if ('richText' in v) return v.richText.map((t) => t.text).join('');
  if ('formula' in v || 'sharedFormula' in v) return cellText((v as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  if ('text' in v) return String((v as ExcelJS.CellHyperlinkValue).text);
  return '';
}

async function readXlsx(buf: Buffer, name: string): Promise<Table> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(buf as unknown as Parameters<typeof wb.xlsx.load>[0]);
  } catch {
    throw new UserError(T.badXlsx(name));
  }
  const ws = wb.worksheets[0];
  if (!ws) throw new UserError(T.noSheet(name));
  const width = ws.getRow(1).cellCount;
  const cellsOf = (r: number) => Array.from({ length: width }, (_, c) => cellText(ws.getRow(r).getCell(c + 1).value));
  if (ws.rowCount === 0 || width === 0) throw new UserError(T.empty(name));
  const lines = [];
  for (let r = 2; r <= ws.rowCount; r++) lines.push({ line: r, cells: cellsOf(r) });
  return { header: cellsOf(1), lines };
}

async function readTable(file: string): Promise<Table> {
  const name = basename(file);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new UserError(T.notFound(file));
  if (!info.isFile()) throw new UserError(T.notFile(file));
  const ext = extname(file).toLowerCase();
  if (ext === '.xls') throw new UserError(T.oldExcel(name));
  if (ext !== '.csv' && ext !== '.xlsx') throw new UserError(T.wrongKind(name));
  const buf = await readFile(file);
  const zip = buf.length >= 4 && buf.readUInt32BE(0) === 0x504b0304;
  // A zip is an .xlsx whatever its name says; an .xlsx that is not a zip is not a workbook.
  if (zip) return readXlsx(buf, name);
  if (ext === '.xlsx') throw new UserError(T.badXlsx(name));
  return readCsv(buf, name);
}

/** Rows keyed by column, blank rows dropped; refuses a file without the required columns. */
function toRows(table: Table, name: string): Row[] {
  const cols = table.header.map((h) => headerKey(String(h ?? '')));
  const missing = missingColumns(cols.filter((c): c is Column => !!c));
  if (missing.length) throw new UserError(T.missing(name, missing));
  const rows: Row[] = [];
  for (const { line, cells } of table.lines) {
    if (cells.every((c) => !String(c ?? '').trim())) continue;
    const values = Object.fromEntries(ROSTER_COLUMNS.map((c) => [c, ''])) as Record<Column, string>;
    cols.forEach((c, i) => { if (c && !values[c]) values[c] = tidy(c, String(cells[i] ?? '')); });
    rows.push({ line, values });
  }
  if (!rows.length) throw new UserError(T.noRows(name));
  return rows;
}

/**
 * Imports a roster file (.csv in UTF-8 with or without BOM, or the first sheet of an .xlsx) and
 * returns what happened; refusals (wrong kind of file, missing columns, no rows) throw a
 * UserError with a Chinese message naming the expected columns.
 */
export async function importRosterFile(db: Db, file: string, opts: { progress?: boolean } = {}): Promise<ImportResult> {
  const rows = toRows(await readTable(file), basename(file));
  const own: RosterResult['errors'] = [];
  const firstLineOfPhone = new Map<string, number>();
  const accepted = rows.filter((r) => {
    const phone = r.values.手机;
    const first = phone ? firstLineOfPhone.get(phone) : undefined;
    if (first !== undefined) { own.push({ row: r.line, reason: T.duplicatePhone(first) }); return false; }
    if (phone) firstLineOfPhone.set(phone, r.line);
    return true;
  });
  const bar = opts.progress && process.stdout.isTTY
    ? new SingleBar({ format: T.progress, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(accepted.length, 0);
  let result: RosterResult;
  try {
    result = await importRoster(db, accepted.map((r) => r.values), Date.now(), (i) => bar?.update(i + 1));
    bar?.update(accepted.length);
  } finally {
    bar?.stop();
  }
  // importRoster numbers rows by their position in what it was given; map back to the file's.
  const errors = [...own, ...result.errors.map((e) => ({ ...e, row: accepted[e.row - 2].line }))].sort((a, b) => a.row - b.row);
  return { ...result, errors, rows: rows.length };
}

/** `导入完成：新增 3 人，更新 1 人；2 行有误：\n  第5行：手机应为11位手机号` */
export function formatImportReport(result: RosterResult & { rows?: number }): string {
  const head = T.done(result.created, result.updated);
  if (!result.errors.length) return head + T.noErrors;
  const shown = result.errors.slice(0, MAX_REPORTED).map((e) => T.errorLine(e.row, e.reason));
  const more = result.errors.length - shown.length;
  return [head + T.someErrors(result.errors.length), ...shown, ...(more > 0 ? [T.moreErrors(more)] : [T.fixHint])].join('\n');
}
