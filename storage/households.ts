/**
 * Households of the 民情记录表 (seed 004) and the contact points they belong to. A household is
 * kept per unit; its place (the village or community) is a contact point of that unit, so the
 * 空间全覆盖 check (coverage) sees every place where a cadre has contact households.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { contactPoints, households } from './schema.js';

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

/** Sets the given fields (undefined ones stay as they are) and the cadre now looking after it. */
export function updateHousehold(db: Db, id: number, cadreId: number, patch: Partial<HouseholdFields>): Household {
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  return db.update(households).set({ ...set, cadreId }).where(eq(households.id, id)).returning().get();
}

export interface HouseholdRow extends Household { place: string | null }

/** The households a cadre looks after, with their place, oldest first. */
export function householdsOfCadre(db: Db, cadreId: number): HouseholdRow[] {
  return db.select({ h: households, place: contactPoints.name }).from(households)
    .leftJoin(contactPoints, eq(contactPoints.id, households.contactPointId))
    .where(eq(households.cadreId, cadreId)).orderBy(asc(households.id)).all()
    .map((r) => ({ ...r.h, place: r.place }));
}
