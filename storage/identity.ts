/** Who is speaking: platform accounts, cadres, admins, and the groups mapped to units. */
import type { Db } from './db.js';
import { cadres, units } from './schema.js';
import { inList, rowOf, rowsOf, selectList, typed } from './rows.js';
import type { Cadre, Unit } from './types.js';

const CADRE_BY_ACCOUNT = `SELECT ${selectList(cadres, 'c')}
  FROM accounts a JOIN cadres c ON c.id = a.cadre_id WHERE a.platform = ? AND a.account_id = ? AND c.active = TRUE`;

/**
 * Every message starts here. Kept while neither table changes (`db.memo`): the same cadre object
 * may be handed to many messages, so it is frozen — nobody changes a cadre but through storage.
 */
export function cadreByAccount(db: Db, platform: string, accountId: string): Promise<Cadre | undefined> {
  return db.memo(`cadre\u0000${platform}\u0000${accountId}`, ['cadres', 'accounts'], async (via) => {
    const c = typed<Cadre>(cadres, await via.get(CADRE_BY_ACCOUNT, [platform, accountId]));
    return c && Object.freeze(c);
  });
}

export function cadreById(db: Db, id: number): Promise<Cadre | undefined> {
  return rowOf(db, cadres, 'WHERE id = ?', [id]);
}

export function cadresByName(db: Db, name: string): Promise<Cadre[]> {
  return rowsOf(db, cadres, 'WHERE name = ? AND active = TRUE ORDER BY id', [name]);
}

export function cadreByPhone(db: Db, phone: string): Promise<Cadre | undefined> {
  return rowOf(db, cadres, 'WHERE phone = ?', [phone]);
}

/** The accounts through which a cadre can be reached, preferring `platform`. */
export function accountsOf(db: Db, cadreId: number): Promise<Array<{ platform: string; accountId: string }>> {
  return db.all('SELECT platform, account_id AS "accountId" FROM accounts WHERE cadre_id = ? ORDER BY created_at, platform', [cadreId]);
}

/**
 * {@link accountsOf} for many cadres in one query (a reminder pass delivers to 100,000; a round
 * trip each cost PostgreSQL most of the delivery): cadre id → accounts, each list in accountsOf's
 * order. Cadres without an account are absent.
 */
export async function accountsOfMany(db: Db, cadreIds: readonly number[]): Promise<Map<number, Array<{ platform: string; accountId: string }>>> {
  const out = new Map<number, Array<{ platform: string; accountId: string }>>();
  if (!cadreIds.length) return out;
  const ids = inList(db, 'cadre_id', cadreIds);
  const rows = await db.all<{ cadreId: number; platform: string; accountId: string }>(`SELECT cadre_id AS "cadreId", platform, account_id AS "accountId"
    FROM accounts WHERE ${ids.sql} ORDER BY cadre_id, created_at, platform`, ids.params);
  for (const { cadreId, platform, accountId } of rows) {
    const xs = out.get(cadreId);
    if (xs) xs.push({ platform, accountId }); else out.set(cadreId, [{ platform, accountId }]);
  }
  return out;
}

export async function bindAccount(db: Db, platform: string, accountId: string, cadreId: number, at: number): Promise<void> {
  await db.run(`INSERT INTO accounts (platform, account_id, cadre_id, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (platform, account_id) DO UPDATE SET cadre_id = excluded.cadre_id`, [platform, accountId, cadreId, at]);
}

const UNIT_OF_CHAT = `SELECT ${selectList(units, 'u')} FROM chat_groups g JOIN units u ON u.id = g.unit_id WHERE g.platform = ? AND g.chat_id = ?`;

/** A group's unit, kept like {@link cadreByAccount} (every group message reads it). */
export function unitOfChat(db: Db, platform: string, chatId: string): Promise<Unit | undefined> {
  return db.memo(`chat\u0000${platform}\u0000${chatId}`, ['chat_groups', 'units'], async (via) => {
    const u = await via.get<Unit>(UNIT_OF_CHAT, [platform, chatId]);
    return u && Object.freeze(u);
  });
}

export async function mapChat(db: Db, platform: string, chatId: string, unitId: number, committee: boolean, at: number): Promise<void> {
  await db.run(`INSERT INTO chat_groups (platform, chat_id, unit_id, committee, created_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (platform, chat_id) DO UPDATE SET unit_id = excluded.unit_id, committee = excluded.committee`, [platform, chatId, unitId, committee, at]);
}

export async function chatsOfUnit(db: Db, unitId: number): Promise<Array<{ platform: string; chatId: string; committee: boolean }>> {
  const rows = await db.all<{ platform: string; chatId: string; committee: boolean }>(
    'SELECT platform, chat_id AS "chatId", committee FROM chat_groups WHERE unit_id = ? ORDER BY created_at, chat_id', [unitId]);
  return rows.map((r) => ({ ...r, committee: !!r.committee }));
}

export async function setMutedUntil(db: Db, cadreId: number, until: string | null): Promise<void> {
  await db.run('UPDATE cadres SET muted_until = ? WHERE id = ?', [until, cadreId]);
}

/** The cadre an account is bound to, active or not (cadreByAccount sees active cadres only). */
export function accountOwner(db: Db, platform: string, accountId: string): Promise<number | undefined> {
  return db.value<number>('SELECT cadre_id FROM accounts WHERE platform = ? AND account_id = ?', [platform, accountId]);
}

/** Removes a binding; the cadre and everything they reported stay. False when there was none. */
export async function unbindAccount(db: Db, platform: string, accountId: string): Promise<boolean> {
  return (await db.run('DELETE FROM accounts WHERE platform = ? AND account_id = ?', [platform, accountId])) > 0;
}

/** A group's mapping with its committee flag (unitOfChat gives the unit alone). */
export async function chatGroupOf(db: Db, platform: string, chatId: string): Promise<{ unitId: number; committee: boolean } | undefined> {
  const r = await db.get<{ unitId: number; committee: boolean }>('SELECT unit_id AS "unitId", committee FROM chat_groups WHERE platform = ? AND chat_id = ?', [platform, chatId]);
  return r && { unitId: r.unitId, committee: !!r.committee };
}
