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
export interface Column { header: string; width: number; kind?: 'text' | 'number' | 'date' | 'datetime' }
export interface TableSpec { sheet: string; title: string; columns: Column[] }

export interface TableFileOptions {
  file: string;
  format: 'xlsx' | 'csv';
  /** Masks mobile numbers in every text cell: for files that may reach a group (SPEC §9). */
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
const EXCEL_MAX_TEXT = 32_767;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2})?$/;

/** A local date (and wall time) as the serial date Excel stores: no time zone involved. */
function excelDate(s: string): Date | string {
  if (!DATE.test(s)) return s;
  const time = s.length > 10;
  return new Date(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), time ? +s.slice(11, 13) : 0, time ? +s.slice(14, 16) : 0));
}

// Most cells hold no 11-digit run: the cheap test spares them the masking regex.
const ELEVEN_DIGITS = /\d{11}/;
const tidy = (s: string, mask: boolean) => (mask && ELEVEN_DIGITS.test(s) ? maskPhones(s) : s);

/**
 * One style object per column, shared by all its cells: exceljs caches a style by object
 * identity, and a fresh object per cell makes it rebuild the style XML for every cell.
 */
function columnStyles(columns: Column[]): Array<Partial<ExcelJS.Style>> {
  const plain = {};
  return columns.map((c) => (c.kind === 'date' ? { numFmt: 'yyyy-mm-dd' } : c.kind === 'datetime' ? { numFmt: 'yyyy-mm-dd hh:mm' }
    : c.kind !== 'number' && c.width >= 30 ? { alignment: { wrapText: true, vertical: 'top' } } : plain));
}

export async function openTableFile(o: TableFileOptions): Promise<TableWriter> {
  await mkdir(dirname(o.file), { recursive: true });
  return o.format === 'csv' ? csvWriter(o) : xlsxWriter(o);
}

function sheetName(s: string): string {
  return s.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31) || 'Sheet';
}

function xlsxWriter(o: TableFileOptions): TableWriter {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: o.file, useStyles: true, useSharedStrings: false });
  let ws: ExcelJS.Worksheet | undefined;
  let spec: TableSpec | undefined;
  let styles: Array<Partial<ExcelJS.Style>> = [];
  let inTable = 0, total = 0, rowNo = 0;

  const finishTable = () => {
    if (!ws || !spec) return;
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
      styles = columnStyles(next.columns);
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
      head.commit();
      ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: n } };
      rowNo = 2;
    },
    row(values) {
      if (!ws || !spec) throw new Error('table() must come before row()');
      const r = ws.getRow(++rowNo);
      const cols = spec.columns;
      for (let i = 0; i < cols.length; i++) {
        const v = values[i];
        if (v === null || v === undefined || v === '') continue;
        const cell = r.getCell(i + 1);
        cell.style = styles[i];
        const kind = cols[i].kind;
        if (typeof v === 'number') cell.value = v;
        else if (kind === 'date' || kind === 'datetime') cell.value = excelDate(v);
        else cell.value = tidy(v, o.mask).slice(0, EXCEL_MAX_TEXT);
      }
      r.commit();
      inTable++;
      total++;
      // The sheet's rows wait in memory until the zip stream takes them: let it.
      return total % BATCH === 0 ? new Promise<void>((res) => setImmediate(res)) : undefined;
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
