/**
 * Spreadsheet files of the reports. A file holds one or more tables; each table is a sheet with
 * a title row, a header row (frozen, with a filter), column widths and typed cells — dates are
 * real dates, so Excel and WPS sort and filter them. Rows are streamed (exceljs' streaming
 * writer), so a 100,000-row ledger never sits in memory. The same table code writes .csv (UTF-8
 * with a BOM, so Excel shows the Chinese) for single-table reports.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import ExcelJS from 'exceljs';
import { maskPhones } from './reply.js';

export type CellValue = string | number | null | undefined;

/**
 * `date` cells take a LocalDate ('2026-11-20'), `datetime` cells a local wall time
 * ('2026-11-20 09:30'); both become date cells in .xlsx and stay as written in .csv.
 */
export interface Column {
  header: string; width: number; kind?: 'text' | 'number' | 'date' | 'datetime';
  /** Text cells whose whole value is a key here get that solid fill (ARGB) in .xlsx — the deadline lights. */
  fills?: Record<string, string>;
}
export interface TableSpec { sheet: string; title: string; columns: Column[] }

export interface TableFileOptions {
  file: string;
  format: 'xlsx' | 'csv';
  /** Masks mobile numbers in every text cell: for files that may reach a group (docs/rules.md#masking). */
  mask: boolean;
  /** The row an empty table gets, so an empty period still gives a file that says so. */
  emptyText: string;
}

export interface TableWriter {
  /** Starts the next table; the previous one is finished first. */
  table(spec: TableSpec): Promise<void>;
  /** Adds a row to the current table; await it — it pauses now and then to let the file drain. */
  row(values: CellValue[]): Promise<void> | undefined;
  /** Finishes the file; returns the number of data rows written over all tables. */
  close(): Promise<number>;
  /** Removes a half-written file after a failure. */
  abort(): Promise<void>;
}

const BATCH = 1000;
const CHUNK = 256 * 1024;
/** Bytes of sheet XML allowed to wait for the zip before the writer pauses. */
const BACKLOG = 8 * 1024 * 1024;
const EXCEL_MAX_TEXT = 32_767;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?$/;
const DAY_MS = 86_400_000;
/** Excel's serial day of 1970-01-01 (its day 0 is 1899-12-30). */
const EXCEL_EPOCH = 25_569;

/** A local date (and wall time) as the serial number Excel stores for it: no time zone involved. */
function excelSerial(s: string): number | null {
  if (!DATE.test(s)) return null;
  const time = s.length > 10;
  const ms = Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), time ? +s.slice(11, 13) : 0, time ? +s.slice(14, 16) : 0);
  return ms / DAY_MS + EXCEL_EPOCH;
}

// Most cells hold no 11-digit run: the cheap test spares them the masking regex.
const ELEVEN_DIGITS = /\d{11}/;
const tidy = (s: string, mask: boolean) => (mask && ELEVEN_DIGITS.test(s) ? maskPhones(s) : s);

const XML_SPECIAL = /[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
function xmlText(s: string): string {
  return XML_SPECIAL.test(s) ? s.replace(/[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, (c) => XML_ESCAPES[c] ?? '') : s;
}

function columnLetters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

export async function openTableFile(o: TableFileOptions): Promise<TableWriter> {
  await mkdir(dirname(o.file), { recursive: true });
  return o.format === 'csv' ? csvWriter(o) : xlsxWriter(o);
}

function sheetName(s: string): string {
  return s.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31) || 'Sheet';
}

/**
 * The parts of exceljs' streaming writer that data rows are written through. exceljs builds a
 * Row and a Cell object per cell and renders each through its XML model — about 3 µs a cell,
 * half a minute for a 100,000-issue ledger. So exceljs writes the workbook (sheets, styles,
 * title and header rows, merges, frozen panes, filter, the zip) and the data rows go to the
 * sheet's XML stream as the same `<row>` markup it would render.
 */
interface Queue { length?: number }
interface SheetInternals { stream: { write(xml: string): unknown; pipes?: Array<{ _writableState?: Queue; _readableState?: Queue }> } }
interface StyleInternals { addStyleModel(style: Partial<ExcelJS.Style>, cellType: number): number }

function internals(wb: ExcelJS.stream.xlsx.WorkbookWriter, ws: ExcelJS.Worksheet): { sheet: SheetInternals; styles: StyleInternals } {
  const sheet = ws as unknown as Partial<SheetInternals>, styles = (wb as unknown as { styles?: Partial<StyleInternals> }).styles;
  if (typeof sheet.stream?.write !== 'function' || typeof styles?.addStyleModel !== 'function') {
    throw new Error('exceljs streaming internals (worksheet.stream, workbook.styles.addStyleModel) not found: check the exceljs version');
  }
  return { sheet: sheet as SheetInternals, styles: styles as StyleInternals };
}

function xlsxWriter(o: TableFileOptions): TableWriter {
  // Compression level 1: several times faster than the default and the files barely larger.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: o.file, useStyles: true, useSharedStrings: false, zip: { zlib: { level: 1 } } });
  let ws: ExcelJS.Worksheet | undefined;
  let spec: TableSpec | undefined;
  let sheet: SheetInternals | undefined;
  /** Per column: its letter and the ` s="…"` of its cell style. */
  let cols: Array<{ letter: string; style: string; kind: Column['kind']; fills?: Map<string, string> }> = [];
  let inTable = 0, total = 0, rowNo = 0;
  let buf = '';

  const flush = () => {
    if (buf && sheet) sheet.stream.write(buf);
    buf = '';
  };
  // exceljs hands the sheet's XML to the zip without waiting for it (the zip reads it through a
  // PassThrough that buffers without limit), so memory would grow with the file. Pause while
  // more than BACKLOG bytes wait there; the zip compresses on the thread pool meanwhile.
  // (readable-stream 2, which archiver uses, has no writableLength: its states are read directly.)
  const backlog = () => (sheet?.stream.pipes ?? []).reduce((n, p) => n + (p._writableState?.length ?? 0) + (p._readableState?.length ?? 0), 0);
  const drain = async () => {
    await new Promise<void>((res) => setImmediate(res));
    while (backlog() > BACKLOG) await new Promise<void>((res) => setTimeout(res, 2));
  };

  const finishTable = () => {
    if (!ws || !spec) return;
    flush();
    if (inTable === 0) {
      const r = ws.getRow(++rowNo);
      r.getCell(1).value = o.emptyText;
      if (spec.columns.length > 1) ws.mergeCells(rowNo, 1, rowNo, spec.columns.length);
      r.commit();
    }
    ws.commit();
  };

  return {
    async table(next) {
      finishTable();
      spec = next;
      inTable = 0;
      const n = next.columns.length;
      ws = wb.addWorksheet(sheetName(next.sheet), { views: [{ state: 'frozen', ySplit: 2 }] });
      ws.columns = next.columns.map((c) => ({ width: c.width }));
      const title = ws.getRow(1);
      title.getCell(1).value = next.title;
      title.getCell(1).font = { bold: true, size: 14 };
      title.getCell(1).alignment = { horizontal: 'center', vertical: 'middle' };
      title.height = 24;
      // Merged before the row is committed: a streamed row cannot be touched afterwards.
      if (n > 1) ws.mergeCells(1, 1, 1, n);
      title.commit();
      const head = ws.getRow(2);
      next.columns.forEach((c, i) => {
        const cell = head.getCell(i + 1);
        cell.value = c.header;
        cell.font = { bold: true };
        cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true };
        cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
        cell.border = { bottom: { style: 'thin' } };
      });
      // Committing the header opens the sheet's <sheetData>: data rows may follow as markup.
      head.commit();
      ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: n } };
      rowNo = 2;
      const inner = internals(wb, ws);
      sheet = inner.sheet;
      const styleOf = (c: Column) => {
        const id = c.kind === 'date' ? inner.styles.addStyleModel({ numFmt: 'yyyy-mm-dd' }, ExcelJS.ValueType.Date)
          : c.kind === 'datetime' ? inner.styles.addStyleModel({ numFmt: 'yyyy-mm-dd hh:mm' }, ExcelJS.ValueType.Date)
            : c.kind !== 'number' && c.width >= 30 ? inner.styles.addStyleModel({ alignment: { wrapText: true, vertical: 'top' } }, ExcelJS.ValueType.String)
              : 0;
        return id ? ` s="${id}"` : '';
      };
      const fillsOf = (c: Column) => c.fills && new Map(Object.entries(c.fills).map(([v, argb]) =>
        [v, ` s="${inner.styles.addStyleModel({ fill: { type: 'pattern', pattern: 'solid', fgColor: { argb } } }, ExcelJS.ValueType.String)}"`]));
      cols = next.columns.map((c, i) => ({ letter: columnLetters(i + 1), style: styleOf(c), kind: c.kind, fills: fillsOf(c) }));
    },
    row(values) {
      if (!spec) throw new Error('table() must come before row()');
      const r = ++rowNo;
      let xml = `<row r="${r}">`;
      for (let i = 0; i < cols.length; i++) {
        const v = values[i];
        if (v === null || v === undefined || v === '') continue;
        const c = cols[i];
        if (typeof v === 'number') {
          if (Number.isFinite(v)) xml += `<c r="${c.letter}${r}"${c.style}><v>${v}</v></c>`;
          continue;
        }
        const serial = c.kind === 'date' || c.kind === 'datetime' ? excelSerial(v) : null;
        if (serial !== null) xml += `<c r="${c.letter}${r}"${c.style}><v>${serial}</v></c>`;
        else xml += `<c r="${c.letter}${r}"${c.fills?.get(v) ?? c.style} t="str"><v>${xmlText(tidy(v, o.mask).slice(0, EXCEL_MAX_TEXT))}</v></c>`;
      }
      buf += xml + '</row>';
      inTable++;
      total++;
      if (buf.length > CHUNK) flush();
      return total % BATCH === 0 ? drain() : undefined;
    },
    async close() {
      finishTable();
      await wb.commit();
      return total;
    },
    async abort() {
      await rm(o.file, { force: true });
    },
  };
}

function csvField(v: CellValue, mask: boolean): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'number' ? String(v) : tidy(v, mask);
  // A cell starting with = + - @ would be taken for a formula by Excel (CSV injection).
  if (/^[=+@\t\r]|^-(?!\d)/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvWriter(o: TableFileOptions): TableWriter {
  let out: WriteStream | undefined;
  let spec: TableSpec | undefined;
  let buf = '', total = 0;
  const flush = async () => {
    if (!out || !buf) return;
    const ok = out.write(buf);
    buf = '';
    if (!ok) await once(out, 'drain');
  };
  return {
    async table(next) {
      if (spec) throw new Error('a CSV file holds one table');
      spec = next;
      out = createWriteStream(o.file);
      // The BOM tells Excel the file is UTF-8; without it Chinese shows as mojibake.
      buf = '\uFEFF' + next.columns.map((c) => csvField(c.header, false)).join(',') + '\r\n';
    },
    row(values) {
      if (!spec) throw new Error('table() must come before row()');
      buf += spec.columns.map((_, i) => csvField(values[i], o.mask)).join(',') + '\r\n';
      total++;
      return buf.length > 64 * 1024 ? flush() : undefined;
    },
    async close() {
      if (!spec) throw new Error('a CSV file needs a table');
      if (total === 0) buf += csvField(o.emptyText, false) + '\r\n';
      await flush();
      out!.end();
      await once(out!, 'finish');
      return total;
    },
    async abort() {
      out?.destroy();
      await rm(o.file, { force: true });
    },
  };
}
