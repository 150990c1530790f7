/**
 * An administrator's `/导入` waiting for its file: messengers send a file as a message of its own,
 * with no text, so the command and the roster arrive one after the other (kept in `settings`).
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

const key = (platform: string, account: string) => `roster-await:${platform}:${account}`;

/** Remembers that this account's next file until `until` is a roster to import. */
export function expectRoster(db: Db, platform: string, account: string, until: number): void {
  prepared(db, 'rosterAwaitSet', (d) => d.$client.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')).run(key(platform, account), String(until));
}

/** True (once) when this account announced a roster with `/导入` that has not expired. */
export function takeExpectedRoster(db: Db, platform: string, account: string, now: number): boolean {
  const row = prepared(db, 'rosterAwaitTake', (d) => d.$client.prepare('DELETE FROM settings WHERE key = ? RETURNING value')).get(key(platform, account)) as { value: string } | undefined;
  return !!row && Number(row.value) >= now;
}
