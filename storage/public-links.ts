/**
 * Public links (schema `public_links`, docs/rules.md#citizens): a citizen's link to one issue and a unit's
 * 公示 page. A link is found by the SHA-256 of its token, so a copy of the database does not give
 * away working citizen links; issue tokens are never stored.
 */
import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { issueEvents, publicLinks } from './schema.js';
import { insertRow, rowOf, rowsOf } from './rows.js';
import type { IssueEvent } from './types.js';

export type PublicLink = typeof publicLinks.$inferSelect;

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export async function insertLink(db: Db, v: { kind: 'issue' | 'board'; token: string; keepToken?: boolean; issueId?: number; unitId?: number;
  createdBy: number; createdAt: number; expiresAt?: number | null }): Promise<PublicLink> {
  const id = await insertRow(db, publicLinks, {
    kind: v.kind, tokenHash: tokenHash(v.token), token: v.keepToken ? v.token : null, issueId: v.issueId ?? null, unitId: v.unitId ?? null,
    createdBy: v.createdBy, createdAt: v.createdAt, expiresAt: v.expiresAt ?? null,
  }, 'RETURNING id');
  return (await rowOf(db, publicLinks, 'WHERE id = ?', [id]))!;
}

/** The link a token opens (revoked and expired ones too: the page says which). */
export function linkByToken(db: Db, token: string): Promise<PublicLink | undefined> {
  return rowOf(db, publicLinks, 'WHERE token_hash = ?', [tokenHash(token)]);
}

/** Revokes every live link of an issue; returns how many. */
export function revokeIssueLinks(db: Db, issueId: number, by: number, at: number): Promise<number> {
  return db.run(`UPDATE public_links SET revoked_at = ?, revoked_by = ? WHERE kind = 'issue' AND issue_id = ? AND revoked_at IS NULL`, [at, by, issueId]);
}

/** Live (not revoked, not expired) links of an issue, oldest first. */
export function liveIssueLinks(db: Db, issueId: number, now: number): Promise<PublicLink[]> {
  return rowsOf(db, publicLinks, `WHERE kind = 'issue' AND issue_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id`, [issueId, now]);
}

/** The unit's published 公示 page, if any (one at a time). */
export function liveBoard(db: Db, unitId: number): Promise<PublicLink | undefined> {
  return rowOf(db, publicLinks, `WHERE kind = 'board' AND unit_id = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT 1`, [unitId]);
}

export function revokeBoard(db: Db, unitId: number, by: number, at: number): Promise<number> {
  return db.run(`UPDATE public_links SET revoked_at = ?, revoked_by = ? WHERE kind = 'board' AND unit_id = ? AND revoked_at IS NULL`, [at, by, unitId]);
}

/**
 * The audit rows a citizen may read about their issue, oldest first: only the actions listed
 * (the caller decides which and what of each it shows).
 */
export function publicEventsOf(db: Db, issueId: number, actions: readonly string[], sinceId = 0): Promise<IssueEvent[]> {
  if (!actions.length) return Promise.resolve([]);
  return rowsOf(db, issueEvents, `WHERE issue_id = ? AND action IN (${actions.map(() => '?').join(', ')}) AND id >= ? ORDER BY id`, [issueId, ...actions, sinceId]);
}

/** Active cadres of leader rank among `cadreIds`, or in the unit `unitId` (whom a citizen's 不满意 reaches). */
export async function activeLeadersOf(db: Db, o: { cadreIds?: number[]; unitId?: number }): Promise<number[]> {
  if (o.cadreIds && !o.cadreIds.length) return [];
  const which = o.cadreIds ? `id IN (${o.cadreIds.map(() => '?').join(', ')})` : 'unit_id = ?';
  const rows = await db.all<{ id: number }>(`SELECT id FROM cadres WHERE ${which} AND rank = 'leader' AND active = TRUE ORDER BY id`,
    o.cadreIds ?? [o.unitId ?? -1]);
  return rows.map((r) => r.id);
}
