/** Who is speaking: platform accounts, cadres, admins, and the groups mapped to units. */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { accounts, cadres, chatGroups, units } from './schema.js';
import { prepared } from './prepared.js';
import type { Cadre, Unit } from './types.js';

/** Every message starts here, so it is a plain prepared statement rather than a query build. */
export function cadreByAccount(db: Db, platform: string, accountId: string): Cadre | undefined {
  const q = prepared(db, 'cadreByAccount', (d) => d.$client.prepare(
    `SELECT c.id, c.name, c.phone, c.unit_id AS unitId, c.rank, c.resident_worker AS residentWorker, c.is_admin AS isAdmin,
            c.muted_until AS mutedUntil, c.active, c.created_at AS createdAt
     FROM accounts a JOIN cadres c ON c.id = a.cadre_id WHERE a.platform = ? AND a.account_id = ? AND c.active = 1`));
  const row = q.get(platform, accountId) as (Omit<Cadre, 'residentWorker' | 'isAdmin' | 'active'> & { residentWorker: number; isAdmin: number; active: number }) | undefined;
  return row && { ...row, residentWorker: row.residentWorker === 1, isAdmin: row.isAdmin === 1, active: row.active === 1 };
}

export function cadreById(db: Db, id: number): Cadre | undefined {
  const q = prepared(db, 'cadreById', (d) => d.select().from(cadres).where(eq(cadres.id, sql.placeholder('id'))).prepare());
  return q.get({ id });
}

export function cadresByName(db: Db, name: string): Cadre[] {
  return db.select().from(cadres).where(and(eq(cadres.name, name), eq(cadres.active, true))).all();
}

export function cadreByPhone(db: Db, phone: string): Cadre | undefined {
  return db.select().from(cadres).where(eq(cadres.phone, phone)).get();
}

/** The accounts through which a cadre can be reached, preferring `platform`. */
export function accountsOf(db: Db, cadreId: number): Array<{ platform: string; accountId: string }> {
  const q = prepared(db, 'accountsOf', (d) => d.select({ platform: accounts.platform, accountId: accounts.accountId })
    .from(accounts).where(eq(accounts.cadreId, sql.placeholder('id'))).prepare());
  return q.all({ id: cadreId });
}

export function bindAccount(db: Db, platform: string, accountId: string, cadreId: number, at: number): void {
  db.insert(accounts).values({ platform, accountId, cadreId, createdAt: at })
    .onConflictDoUpdate({ target: [accounts.platform, accounts.accountId], set: { cadreId } }).run();
}

export function unitOfChat(db: Db, platform: string, chatId: string): Unit | undefined {
  const q = prepared(db, 'unitOfChat', (d) => d.select({ u: units }).from(chatGroups)
    .innerJoin(units, eq(units.id, chatGroups.unitId))
    .where(and(eq(chatGroups.platform, sql.placeholder('p')), eq(chatGroups.chatId, sql.placeholder('c')))).prepare());
  return q.get({ p: platform, c: chatId })?.u;
}

export function mapChat(db: Db, platform: string, chatId: string, unitId: number, committee: boolean, at: number): void {
  db.insert(chatGroups).values({ platform, chatId, unitId, committee, createdAt: at })
    .onConflictDoUpdate({ target: [chatGroups.platform, chatGroups.chatId], set: { unitId, committee } }).run();
}

export function chatsOfUnit(db: Db, unitId: number): Array<{ platform: string; chatId: string; committee: boolean }> {
  return db.select({ platform: chatGroups.platform, chatId: chatGroups.chatId, committee: chatGroups.committee })
    .from(chatGroups).where(eq(chatGroups.unitId, unitId)).all();
}

export function setMutedUntil(db: Db, cadreId: number, until: string | null): void {
  db.update(cadres).set({ mutedUntil: until }).where(eq(cadres.id, cadreId)).run();
}

/** The cadre an account is bound to, active or not (cadreByAccount sees active cadres only). */
export function accountOwner(db: Db, platform: string, accountId: string): number | undefined {
  return db.select({ id: accounts.cadreId }).from(accounts)
    .where(and(eq(accounts.platform, platform), eq(accounts.accountId, accountId))).get()?.id;
}

/** Removes a binding; the cadre and everything they reported stay. False when there was none. */
export function unbindAccount(db: Db, platform: string, accountId: string): boolean {
  return db.delete(accounts).where(and(eq(accounts.platform, platform), eq(accounts.accountId, accountId))).run().changes > 0;
}

/** A group's mapping with its committee flag (unitOfChat gives the unit alone). */
export function chatGroupOf(db: Db, platform: string, chatId: string): { unitId: number; committee: boolean } | undefined {
  return db.select({ unitId: chatGroups.unitId, committee: chatGroups.committee }).from(chatGroups)
    .where(and(eq(chatGroups.platform, platform), eq(chatGroups.chatId, chatId))).get();
}
