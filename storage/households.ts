/**
 * Households of the 民情记录表 (docs/rules.md#households) and the contact points they belong to. A household is
 * kept per unit; its place (the village or community) is a contact point of that unit, so the
 * 空间全覆盖 check (coverage) sees every place where a cadre has contact households.
 */
import type { Db } from './db.js';
import { contactPoints, householdTransfers, households } from './schema.js';
import { insertRow, rowOf, rowsOf, selectList, updateRows } from './rows.js';

export type Household = typeof households.$inferSelect;
export type ContactPoint = typeof contactPoints.$inferSelect;
export type HouseholdFields = Pick<Household, 'phone' | 'size' | 'incomeSource' | 'difficulties' | 'opinions' | 'contactPointId'>;

export function contactPointByName(db: Db, unitId: number, name: string): Promise<ContactPoint | undefined> {
  return rowOf(db, contactPoints, 'WHERE unit_id = ? AND name = ?', [unitId, name]);
}

export function contactPointById(db: Db, id: number): Promise<ContactPoint | undefined> {
  return rowOf(db, contactPoints, 'WHERE id = ?', [id]);
}

/** Finds the unit's contact point of that name, or creates it for `cadreId`. */
export async function ensureContactPoint(db: Db, v: { unitId: number; name: string; kind: string; cadreId: number | null; at: number }): Promise<ContactPoint> {
  const found = await contactPointByName(db, v.unitId, v.name);
  if (found) return found;
  const id = await insertRow(db, contactPoints, { unitId: v.unitId, name: v.name, kind: v.kind, cadreId: v.cadreId, createdAt: v.at }, 'RETURNING id');
  return (await contactPointById(db, id))!;
}

/** The unit's households with this head's name (several when namesakes live there). */
export function householdsByHead(db: Db, unitId: number, headName: string): Promise<Household[]> {
  return rowsOf(db, households, 'WHERE unit_id = ? AND head_name = ? ORDER BY id', [unitId, headName]);
}

export async function insertHousehold(db: Db, v: { unitId: number; cadreId: number; headName: string; at: number } & Partial<HouseholdFields>): Promise<Household> {
  const id = await insertRow(db, households, {
    unitId: v.unitId, cadreId: v.cadreId, headName: v.headName, phone: v.phone ?? null, size: v.size ?? null,
    incomeSource: v.incomeSource ?? null, difficulties: v.difficulties ?? null, opinions: v.opinions ?? null,
    contactPointId: v.contactPointId ?? null, createdAt: v.at,
  }, 'RETURNING id');
  return (await householdById(db, id))!;
}

/**
 * Sets the given fields (undefined ones stay as they are). The cadre looking after it changes
 * only through {@link transferHousehold}; `claimFor` takes a household nobody looks after yet.
 */
export async function updateHousehold(db: Db, id: number, patch: Partial<HouseholdFields>, claimFor?: number): Promise<Household> {
  await updateRows(db, households, patch, 'id = ?', [id]);
  if (claimFor !== undefined) await db.run('UPDATE households SET cadre_id = coalesce(cadre_id, ?) WHERE id = ?', [claimFor, id]);
  return (await householdById(db, id))!;
}

export function householdById(db: Db, id: number): Promise<Household | undefined> {
  return rowOf(db, households, 'WHERE id = ?', [id]);
}

export type HouseholdTransfer = typeof householdTransfers.$inferSelect;

/**
 * Hands a household to another cadre and writes the audit row, all-or-nothing (inside the
 * command's transaction when there is one, storage/db.ts).
 */
export function transferHousehold(db: Db, v: { householdId: number; toCadreId: number; byCadreId: number; at: number }): Promise<{ household: Household; transfer: HouseholdTransfer }> {
  return db.withWrite(async (tx) => {
    const before = await householdById(tx, v.householdId);
    if (!before) throw new Error(`household ${v.householdId} does not exist`);
    await tx.run('UPDATE households SET cadre_id = ? WHERE id = ?', [v.toCadreId, v.householdId]);
    const tid = await insertRow(tx, householdTransfers, {
      householdId: v.householdId, fromCadreId: before.cadreId, toCadreId: v.toCadreId, byCadreId: v.byCadreId, at: v.at,
    }, 'RETURNING id');
    return { household: (await householdById(tx, v.householdId))!, transfer: (await rowOf(tx, householdTransfers, 'WHERE id = ?', [tid]))! };
  });
}

/** The transfers of a household, oldest first. */
export function transfersOf(db: Db, householdId: number): Promise<HouseholdTransfer[]> {
  return rowsOf(db, householdTransfers, 'WHERE household_id = ? ORDER BY id', [householdId]);
}

export interface HouseholdRow extends Household { place: string | null }

const OF_CADRE = `SELECT ${selectList(households, 'h')}, cp.name AS place FROM households h
  LEFT JOIN contact_points cp ON cp.id = h.contact_point_id WHERE h.cadre_id = ? ORDER BY h.id`;

/** The households a cadre looks after, with their place, oldest first. */
export function householdsOfCadre(db: Db, cadreId: number): Promise<HouseholdRow[]> {
  return db.all<HouseholdRow>(OF_CADRE, [cadreId]);
}
