/** Units form a tree; `path` ('/1/4/9/') lets one LIKE select a unit and all below it. */
import { and, eq, isNull, like, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { units } from './schema.js';
import { prepared } from './prepared.js';
import type { Unit } from './types.js';

export function unitById(db: Db, id: number): Unit | undefined {
  const q = prepared(db, 'unitById', (d) => d.select().from(units).where(eq(units.id, sql.placeholder('id'))).prepare());
  return q.get({ id });
}

export function unitByName(db: Db, name: string): Unit | undefined {
  return db.select().from(units).where(eq(units.name, name)).get();
}

export function allUnits(db: Db): Unit[] {
  return db.select().from(units).orderBy(units.path).all();
}

export function rootUnits(db: Db): Unit[] {
  return db.select().from(units).where(isNull(units.parentId)).all();
}

/** Finds or creates a unit by name; a parent given later moves it under that parent. */
export function ensureUnit(db: Db, name: string, parent: Unit | undefined, at: number): Unit {
  const found = unitByName(db, name);
  if (found) {
    if (parent && found.parentId !== parent.id && !parent.path.startsWith(found.path)) {
      const path = `${parent.path}${found.id}/`;
      // Move the whole subtree: every descendant's path starts with the old path.
      db.run(sql`UPDATE units SET path = ${path} || substr(path, ${found.path.length + 1}) WHERE path LIKE ${found.path + '%'}`);
      db.update(units).set({ parentId: parent.id }).where(eq(units.id, found.id)).run();
      return unitById(db, found.id)!;
    }
    return found;
  }
  const row = db.insert(units).values({ name, parentId: parent?.id ?? null, createdAt: at }).returning().get();
  const path = `${parent?.path ?? '/'}${row.id}/`;
  db.update(units).set({ path }).where(eq(units.id, row.id)).run();
  return { ...row, path };
}

export function subtreeIds(db: Db, unit: Unit): number[] {
  return db.select({ id: units.id }).from(units).where(like(units.path, `${unit.path}%`)).all().map((r) => r.id);
}

export function childUnits(db: Db, unit: Unit): Unit[] {
  return db.select().from(units).where(eq(units.parentId, unit.id)).orderBy(units.id).all();
}

/** True when `upper` is `lower` itself or one of its ancestors. */
export function isWithin(lower: Unit, upper: Unit): boolean {
  return lower.path.startsWith(upper.path);
}

export function parentOf(db: Db, unit: Unit): Unit | undefined {
  return unit.parentId == null ? undefined : unitById(db, unit.parentId);
}

export function unitsByIds(db: Db, ids: number[]): Unit[] {
  return ids.length ? db.select().from(units).where(and(sql`${units.id} IN (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})`)).all() : [];
}
