/**
 * Households of the 民情记录表 (docs/rules.md#households) and the contact points they belong to. A household is
 * kept per unit; its place (the village or community) is a contact point of that unit, so the
 * 空间全覆盖 check (coverage) sees every place where a cadre has contact households.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { contactPoints, householdTransfers, households } from './schema.js';

export type Household = typeof households.$inferSelect;
export type ContactPoint = typeof contactPoints.$inferSelect;
export type HouseholdFields = Pick<Household, 'phone' | 'size' | 'incomeSource' | 'difficulties' | 'opinions' | 'contactPointId'>;

export function contactPointByName(db: Db, unitId: number, name: string): ContactPoint | undefined {
  return db.select().from(contactPoints).where(and(eq(contactPoints.unitId, unitId), eq(contactPoints.name, name))).get();
}

export function contactPointById(db: Db, id: number): ContactPoint | undefined {
  return db.select().from(contactPoints).where(eq(contactPoints.id, id)).get();
}

/** Finds the unit's contact point of that name, or creates it for `cadreId`. */
export function ensureContactPoint(db: Db, v: { unitId: number; name: string; kind: string; cadreId: number | null; at: number }): ContactPoint {
  return contactPointByName(db, v.unitId, v.name)
    ?? db.insert(contactPoints).values({ unitId: v.unitId, name: v.name, kind: v.kind, cadreId: v.cadreId, createdAt: v.at }).returning().get();
}

/** The unit's households with this head's name (several when namesakes live there). */
export function householdsByHead(db: Db, unitId: number, headName: string): Household[] {
  return db.select().from(households).where(and(eq(households.unitId, unitId), eq(households.headName, headName)))
    .orderBy(asc(households.id)).all();
}

export function insertHousehold(db: Db, v: { unitId: number; cadreId: number; headName: string; at: number } & Partial<HouseholdFields>): Household {
  return db.insert(households).values({
    unitId: v.unitId, cadreId: v.cadreId, headName: v.headName, phone: v.phone ?? null, size: v.size ?? null,
    incomeSource: v.incomeSource ?? null, difficulties: v.difficulties ?? null, opinions: v.opinions ?? null,
    contactPointId: v.contactPointId ?? null, createdAt: v.at,
  }).returning().get();
}

/**
 * Sets the given fields (undefined ones stay as they are). The cadre looking after it changes
 * only through {@link transferHousehold}; `claimFor` takes a household nobody looks after yet.
 */
export function updateHousehold(db: Db, id: number, patch: Partial<HouseholdFields>, claimFor?: number): Household {
  const set: Record<string, unknown> = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  if (claimFor !== undefined) set.cadreId = sql`coalesce(${households.cadreId}, ${claimFor})`;
  if (!Object.keys(set).length) return householdById(db, id)!;
  return db.update(households).set(set).where(eq(households.id, id)).returning().get();
}

export function householdById(db: Db, id: number): Household | undefined {
  return db.select().from(households).where(eq(households.id, id)).get();
}

export type HouseholdTransfer = typeof householdTransfers.$inferSelect;

/**
 * Hands a household to another cadre and writes the audit row. Call it inside the command's
 * transaction (write commands run in one, storage/db.ts), so the two never come apart.
 */
export function transferHousehold(db: Db, v: { householdId: number; toCadreId: number; byCadreId: number; at: number }): { household: Household; transfer: HouseholdTransfer } {
  const before = householdById(db, v.householdId);
  if (!before) throw new Error(`household ${v.householdId} does not exist`);
  const household = db.update(households).set({ cadreId: v.toCadreId }).where(eq(households.id, v.householdId)).returning().get();
  const transfer = db.insert(householdTransfers).values({
    householdId: v.householdId, fromCadreId: before.cadreId, toCadreId: v.toCadreId, byCadreId: v.byCadreId, at: v.at,
  }).returning().get();
  return { household, transfer };
}

/** The transfers of a household, oldest first. */
export function transfersOf(db: Db, householdId: number): HouseholdTransfer[] {
  return db.select().from(householdTransfers).where(eq(householdTransfers.householdId, householdId)).orderBy(asc(householdTransfers.id)).all();
}

export interface HouseholdRow extends Household { place: string | null }

/** The households a cadre looks after, with their place, oldest first. */
export function householdsOfCadre(db: Db, cadreId: number): HouseholdRow[] {
  return db.select({ h: households, place: contactPoints.name }).from(households)
    .leftJoin(contactPoints, eq(contactPoints.id, households.contactPointId))
    .where(eq(households.cadreId, cadreId)).orderBy(asc(households.id)).all()
    .map((r) => ({ ...r.h, place: r.place }));
}
