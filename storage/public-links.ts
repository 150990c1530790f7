/**
 * Public links (schema `public_links`, docs/rules.md#citizens): a citizen's link to one issue and a unit's
 * 公示 page. A link is found by the SHA-256 of its token, so a copy of the database does not give
 * away working citizen links; issue tokens are never stored.
 */
import { and, asc, desc, eq, gte, inArray, isNull } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { cadres, issueEvents, publicLinks } from './schema.js';
import type { IssueEvent } from './types.js';

export type PublicLink = typeof publicLinks.$inferSelect;

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export function insertLink(db: Db, v: { kind: 'issue' | 'board'; token: string; keepToken?: boolean; issueId?: number; unitId?: number;
  createdBy: number; createdAt: number; expiresAt?: number | null }): PublicLink {
  return db.insert(publicLinks).values({
    kind: v.kind, tokenHash: tokenHash(v.token), token: v.keepToken ? v.token : null, issueId: v.issueId ?? null, unitId: v.unitId ?? null,
    createdBy: v.createdBy, createdAt: v.createdAt, expiresAt: v.expiresAt ?? null,
  }).returning().get();
}

/** The link a token opens (revoked and expired ones too: the page says which). */
export function linkByToken(db: Db, token: string): PublicLink | undefined {
  return db.select().from(publicLinks).where(eq(publicLinks.tokenHash, tokenHash(token))).get();
}

/** Revokes every live link of an issue; returns how many. */
export function revokeIssueLinks(db: Db, issueId: number, by: number, at: number): number {
  return db.update(publicLinks).set({ revokedAt: at, revokedBy: by })
    .where(and(eq(publicLinks.kind, 'issue'), eq(publicLinks.issueId, issueId), isNull(publicLinks.revokedAt))).run().changes;
}

/** Live (not revoked, not expired) links of an issue, oldest first. */
export function liveIssueLinks(db: Db, issueId: number, now: number): PublicLink[] {
  return db.select().from(publicLinks).where(and(eq(publicLinks.kind, 'issue'), eq(publicLinks.issueId, issueId), isNull(publicLinks.revokedAt)))
    .orderBy(asc(publicLinks.id)).all().filter((l) => l.expiresAt === null || l.expiresAt > now);
}

/** The unit's published 公示 page, if any (one at a time). */
export function liveBoard(db: Db, unitId: number): PublicLink | undefined {
  return db.select().from(publicLinks).where(and(eq(publicLinks.kind, 'board'), eq(publicLinks.unitId, unitId), isNull(publicLinks.revokedAt)))
    .orderBy(desc(publicLinks.id)).get();
}

export function revokeBoard(db: Db, unitId: number, by: number, at: number): number {
  return db.update(publicLinks).set({ revokedAt: at, revokedBy: by })
    .where(and(eq(publicLinks.kind, 'board'), eq(publicLinks.unitId, unitId), isNull(publicLinks.revokedAt))).run().changes;
}

/**
 * The audit rows a citizen may read about their issue, oldest first: only the actions listed
 * (the caller decides which and what of each it shows).
 */
export function publicEventsOf(db: Db, issueId: number, actions: readonly string[], sinceId = 0): IssueEvent[] {
  return db.select().from(issueEvents)
    .where(and(eq(issueEvents.issueId, issueId), inArray(issueEvents.action, [...actions]), gte(issueEvents.id, sinceId)))
    .orderBy(asc(issueEvents.id)).all();
}

/** Active cadres of leader rank among `cadreIds`, or in the unit `unitId` (whom a citizen's 不满意 reaches). */
export function activeLeadersOf(db: Db, o: { cadreIds?: number[]; unitId?: number }): number[] {
  const which = o.cadreIds ? inArray(cadres.id, o.cadreIds) : eq(cadres.unitId, o.unitId ?? -1);
  return db.select({ id: cadres.id }).from(cadres).where(and(which, eq(cadres.rank, 'leader'), eq(cadres.active, true)))
    .orderBy(asc(cadres.id)).all().map((c) => c.id);
}
