/** Units form a tree; `path` ('/1/4/9/') lets one LIKE select a unit and all below it. */
import type { Db } from './db.js';
import { units } from './schema.js';
import { rowOf, rowsOf } from './rows.js';
import type { Unit } from './types.js';

export function unitById(db: Db, id: number): Promise<Unit | undefined> {
  return rowOf(db, units, 'WHERE id = ?', [id]);
}

export function unitByName(db: Db, name: string): Promise<Unit | undefined> {
  return rowOf(db, units, 'WHERE name = ?', [name]);
}

export function allUnits(db: Db): Promise<Unit[]> {
  return rowsOf(db, units, 'ORDER BY path');
}

export function rootUnits(db: Db): Promise<Unit[]> {
  return rowsOf(db, units, 'WHERE parent_id IS NULL ORDER BY id');
}

/** Finds or creates a unit by name; a parent given later moves it under that parent. */
export async function ensureUnit(db: Db, name: string, parent: Unit | undefined, at: number): Promise<Unit> {
  return db.withWrite(async (tx) => {
    const found = await unitByName(tx, name);
    if (found) {
      if (parent && found.parentId !== parent.id && !parent.path.startsWith(found.path)) {
        const path = `${parent.path}${found.id}/`;
        // Move the whole subtree: every descendant's path starts with the old path.
        await tx.run('UPDATE units SET path = ? || substr(path, ?) WHERE path LIKE ?', [path, found.path.length + 1, found.path + '%']);
        await tx.run('UPDATE units SET parent_id = ? WHERE id = ?', [parent.id, found.id]);
        return (await unitById(tx, found.id))!;
      }
      return found;
    }
    const id = Number(await tx.value('INSERT INTO units (name, parent_id, path, created_at) VALUES (?, ?, ?, ?) RETURNING id', [name, parent?.id ?? null, '', at]));
    const path = `${parent?.path ?? '/'}${id}/`;
    await tx.run('UPDATE units SET path = ? WHERE id = ?', [path, id]);
    return { id, name, parentId: parent?.id ?? null, path, createdAt: at };
  });
}

export async function subtreeIds(db: Db, unit: Unit): Promise<number[]> {
  return (await db.all<{ id: number }>('SELECT id FROM units WHERE path LIKE ? ORDER BY id', [`${unit.path}%`])).map((r) => r.id);
}

export function childUnits(db: Db, unit: Unit): Promise<Unit[]> {
  return rowsOf(db, units, 'WHERE parent_id = ? ORDER BY id', [unit.id]);
}

/** True when `upper` is `lower` itself or one of its ancestors. */
export function isWithin(lower: Unit, upper: Unit): boolean {
  return lower.path.startsWith(upper.path);
}

export async function parentOf(db: Db, unit: Unit): Promise<Unit | undefined> {
  return unit.parentId == null ? undefined : unitById(db, unit.parentId);
}

export async function unitsByIds(db: Db, ids: number[]): Promise<Unit[]> {
  return ids.length ? rowsOf(db, units, `WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`, ids) : [];
}
