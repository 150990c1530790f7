/**
 * Unit lookups the charts need (handlers/report-charts.ts), kept here so handlers write no SQL.
 */
import type { Db } from './db.js';

/** Every unit at or below `unitPath` (the unit itself included), as id → path. */
export async function unitPathsUnder(db: Db, unitPath: string): Promise<Map<number, string>> {
  const rows = await db.all<{ id: number; path: string }>('SELECT id, path FROM units WHERE path LIKE ?', [unitPath + '%']);
  return new Map(rows.map((r) => [Number(r.id), r.path]));
}
