/**
 * `minqing migrate --to postgres://…`: copies a county's SQLite database into PostgreSQL so the
 * deployment can grow without losing a record. Every table of the schema is copied in batches
 * (keyset pages on its primary key, multi-row INSERTs, all in one transaction), then verified
 * table by table: the row count, and a checksum over every row — the sum of each row's SHA-256
 * (first 8 bytes) modulo 2^64, so it does not depend on the order either database returns rows
 * in. Booleans (0/1 in SQLite) and numbers are compared by value. Identity sequences are moved
 * past the copied ids, so the next record gets a fresh id.
 *
 * The target must be empty: copying into a database that already holds records would mix two
 * ledgers. The source may be the running bot's file (WAL readers do not block the writer), but
 * records written after the copy began are not copied — stop the bot for the final move.
 */
import { createHash } from 'node:crypto';
import { is } from 'drizzle-orm';
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../storage/db.js';
import { shownDb } from './backup.js';
import * as schema from '../storage/schema.js';

export interface TableReport { table: string; rows: number; copied: number; sourceSum: string; targetSum: string; ok: boolean }

interface TableShape { name: string; columns: string[]; booleans: Set<string>; texts: Set<string>; pk: string[]; identity: boolean }

const PAGE = 2_000;
/** Column names quoted: some are SQL words (`to`). */
const q = (col: string) => `"${col}"`;

/** Every table of the schema, with what copying it needs. */
export function schemaTables(): TableShape[] {
  return (Object.values(schema) as unknown[]).filter((t): t is SQLiteTable => is(t, SQLiteTable)).map((t) => {
    const c = getTableConfig(t);
    const pkCols = c.columns.filter((col) => col.primary).map((col) => col.name);
    const pk = pkCols.length ? pkCols : c.primaryKeys[0]?.columns.map((col) => col.name) ?? [];
    if (!pk.length) throw new Error(`table ${c.name} has no primary key`);
    return {
      name: c.name, columns: c.columns.map((col) => col.name), pk,
      booleans: new Set(c.columns.filter((col) => col.dataType === 'boolean').map((col) => col.name)),
      texts: new Set(c.columns.filter((col) => col.dataType === 'string').map((col) => col.name)),
      identity: pkCols.length === 1 && pkCols[0] === 'id',
    };
  });
}

/** One row as text both databases agree on: booleans as 0/1, numbers in JS's shortest form. */
function canonical(t: TableShape, row: Record<string, unknown>): string {
  return t.columns.map((c) => {
    const v = row[c];
    if (v === null || v === undefined) return '\\N';
    if (t.booleans.has(c)) return v ? '1' : '0';
    return String(v); // numbers in JS's shortest form on both sides
  }).join('\u0001');
}

const rowHash = (s: string): bigint => createHash('sha256').update(s, 'utf8').digest().readBigUInt64BE(0);
const MASK = (1n << 64n) - 1n;

/** Reads a table page by page in primary-key order; `each` sees every row once. */
async function scan(db: Db, t: TableShape, each: (rows: Array<Record<string, unknown>>) => Promise<void> | void): Promise<void> {
  // C collation on PostgreSQL: byte order, as SQLite compares text, so keyset pages line up.
  const c = (col: string) => (db.dialect === 'postgres' && t.texts.has(col) ? ' COLLATE "C"' : '');
  const order = t.pk.map((col) => q(col) + c(col));
  let last: unknown[] | undefined;
  for (;;) {
    const after = last ? `WHERE (${order.join(', ')}) > (${t.pk.map((col) => '?' + c(col)).join(', ')})` : '';
    const rows = await db.all<Record<string, unknown>>(
      `SELECT ${t.columns.map(q).join(', ')} FROM ${t.name} ${after} ORDER BY ${order.join(', ')} LIMIT ${PAGE}`, last ?? []);
    if (!rows.length) return;
    await each(rows);
    if (rows.length < PAGE) return;
    last = t.pk.map((c) => rows[rows.length - 1][c]);
  }
}

async function checksum(db: Db, t: TableShape): Promise<{ rows: number; sum: string }> {
  let sum = 0n;
  let rows = 0;
  await scan(db, t, (page) => {
    for (const r of page) sum = (sum + rowHash(canonical(t, r))) & MASK;
    rows += page.length;
  });
  return { rows, sum: sum.toString(16).padStart(16, '0') };
}

/** Tables of the target that already hold rows (the copy refuses to mix ledgers). */
export async function nonEmptyTables(target: Db): Promise<string[]> {
  const out: string[] = [];
  for (const t of schemaTables()) if ((await target.value(`SELECT 1 FROM ${t.name} LIMIT 1`)) !== undefined) out.push(t.name);
  return out;
}

/**
 * Copies every table from `source` to `target` and verifies each. `onRows(n)` is told how many
 * rows were just copied (a progress bar); `total` is known from the source counts.
 */
export async function copyDatabase(source: Db, target: Db, onRows: (n: number, table: string) => void = () => undefined): Promise<TableReport[]> {
  const busy = await nonEmptyTables(target);
  if (busy.length) throw new Error(`目标数据库已有数据（${busy.join('、')}），为免两本台账混在一起，只能迁入空库`);
  const copied = new Map<string, number>();
  // One transaction for the whole copy: a failure half-way leaves the target as empty as it was.
  await target.withWrite(async (tx) => {
    for (const t of schemaTables()) {
      let n = 0;
      // PostgreSQL takes at most 65,535 parameters a statement.
      const per = Math.max(1, Math.floor(30_000 / t.columns.length));
      const one = `(${t.columns.map(() => '?').join(', ')})`;
      await scan(source, t, async (page) => {
        for (let i = 0; i < page.length; i += per) {
          const part = page.slice(i, i + per);
          const params: unknown[] = [];
          for (const r of part) for (const c of t.columns) params.push(t.booleans.has(c) ? (r[c] === null ? null : !!r[c]) : r[c]);
          await tx.run(`INSERT INTO ${t.name} (${t.columns.map(q).join(', ')}) VALUES ${part.map(() => one).join(', ')}`, params);
        }
        n += page.length;
        onRows(page.length, t.name);
      });
      copied.set(t.name, n);
      if (t.identity && target.dialect === 'postgres') {
        await tx.value(`SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), coalesce((SELECT max(id) FROM ${t.name}), 0) + 1, false)`);
      }
    }
  });
  return verifyCopy(source, target, copied);
}

/** Row counts and checksums of every table on both sides. */
export async function verifyCopy(source: Db, target: Db, copied?: Map<string, number>): Promise<TableReport[]> {
  const reports: TableReport[] = [];
  for (const t of schemaTables()) {
    const [a, b] = [await checksum(source, t), await checksum(target, t)];
    const n = copied?.get(t.name) ?? b.rows;
    reports.push({ table: t.name, rows: a.rows, copied: n, sourceSum: a.sum, targetSum: b.sum, ok: a.rows === b.rows && a.sum === b.sum && n === a.rows });
  }
  return reports;
}

/** Rows in the source, for the progress bar's total. */
export async function sourceRows(source: Db): Promise<number> {
  let n = 0;
  for (const t of schemaTables()) n += Number(await source.value(`SELECT count(*) FROM ${t.name}`));
  return n;
}

export function formatCopyReport(reports: TableReport[], from: string, to: string): string {
  const bad = reports.filter((r) => !r.ok);
  const lines = reports.filter((r) => r.rows > 0 || !r.ok).map((r) =>
    `${r.ok ? '✓' : '✗'} ${r.table}：${r.rows} 行${r.ok ? '' : `，迁入 ${r.copied} 行`}，校验和 ${r.sourceSum}${r.ok ? '' : ` ≠ ${r.targetSum}`}`);
  const total = reports.reduce((s, r) => s + r.rows, 0);
  return [
    bad.length ? `迁移未通过校验：${bad.map((r) => r.table).join('、')} 不一致。请勿切换到新库。` : `迁移完成并逐表校验一致：共 ${reports.length} 张表、${total} 行。`,
    `源：${from}`, `目标：${shownDb(to)}`, ...lines,
    ...(bad.length ? [] : ['下一步：停止机器人，把 MINQING_DB 设为目标地址后重新启动。']),
  ].join('\n');
}
