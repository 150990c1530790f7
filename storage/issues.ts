/** The issue ledger: issues and their append-only audit trail (issue_events). */
import { eq } from 'drizzle-orm';
import type { Db } from './db.js';
import { issueEvents, issues } from './schema.js';
import type { Issue, IssueState } from './types.js';

export function issueById(db: Db, id: number): Issue | undefined {
  return db.select().from(issues).where(eq(issues.id, id)).get();
}

/** Appends one audit row: who, when, from → to, note. */
export function addIssueEvent(db: Db, e: { issueId: number; at: Date; date: string; actorCadreId: number | null; action: string; fromState?: IssueState | null; toState?: IssueState | null; note?: string | null }): void {
  db.insert(issueEvents).values({ ...e, at: e.at.getTime(), fromState: e.fromState ?? null, toState: e.toState ?? null, note: e.note ?? null }).run();
}

/** /撤销 of a just-registered issue: the row stays, marked void, with an audit row saying so. */
export function voidIssue(db: Db, id: number, actorCadreId: number, now: Date, today: string): void {
  const i = issueById(db, id);
  if (!i) return;
  db.update(issues).set({ voidedAt: now.getTime() }).where(eq(issues.id, id)).run();
  addIssueEvent(db, { issueId: id, at: now, date: today, actorCadreId, action: 'void', fromState: i.state, toState: i.state, note: '撤销' });
}
