/**
 * An administrator's `/导入` waiting for its file: messengers send a file as a message of its own,
 * with no text, so the command and the roster arrive one after the other (kept in `settings`).
 */
import type { Db } from './db.js';

const key = (platform: string, account: string) => `roster-await:${platform}:${account}`;

/** Remembers that this account's next file until `until` is a roster to import. */
export async function expectRoster(db: Db, platform: string, account: string, until: number): Promise<void> {
  await db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key(platform, account), String(until)]);
}

/** True (once) when this account announced a roster with `/导入` that has not expired. */
export async function takeExpectedRoster(db: Db, platform: string, account: string, now: number): Promise<boolean> {
  const value = await db.value<string>('DELETE FROM settings WHERE key = ? RETURNING value', [key(platform, account)]);
  return value !== undefined && Number(value) >= now;
}
