/**
 * The issue ledger: issues and their append-only audit trail (issue_events).
 *
 * Units: an issue's `unitId` is the unit that owns it now (escalation moves it up the tree);
 * `originUnitId` is where it was raised. Because escalation only ever moves upwards, "raised in
 * this subtree" (origin) covers everything a unit ever handled, and "owned by this subtree"
 * (unitId) is its current ledger.
 */
import { and, asc, eq, inArray, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from './db.js';
import { issueEvents, issues } from './schema.js';
import type { Issue, IssueEvent, IssueState } from './types.js';

/** States in which an issue still waits for work (and can be overdue). */
export const PENDING_STATES = ['open', 'in_progress', 'escalated'] as const satisfies readonly IssueState[];

/** Stored values of `issues.satisfaction` (the citizen's rating, /评价). */
export const SATISFACTIONS = ['satisfied', 'basic', 'dissatisfied'] as const;
export type Satisfaction = (typeof SATISFACTIONS)[number];

export type NewIssue = Omit<typeof issues.$inferInsert, 'id'>;
export type IssuePatch = Partial<Pick<Issue, 'state' | 'unitId' | 'deadline' | 'extensions' | 'superviseCount' | 'result'
  | 'answered' | 'satisfaction' | 'resolvedAt' | 'resolvedDate' | 'closedAt' | 'citizenSatisfaction' | 'citizenNote' | 'citizenRatedAt'>>;

/** `col` is a unit in the subtree whose path is `unitPath` ('/1/4/'). */
export function inSubtree(col: SQLiteColumn, unitPath: string): SQL {
  return sql`${col} IN (SELECT id FROM units WHERE path LIKE ${unitPath + '%'})`;
}

export function issueById(db: Db, id: number): Issue | undefined {
  return db.select().from(issues).where(eq(issues.id, id)).get();
}

export function insertIssue(db: Db, v: NewIssue): Issue {
  return db.insert(issues).values(v).returning().get();
}

/** Appends one audit row: who, when, from → to, note. */
export function addIssueEvent(db: Db, e: { issueId: number; at: Date; date: string; actorCadreId: number | null; action: string; fromState?: IssueState | null; toState?: IssueState | null; note?: string | null }): void {
  db.insert(issueEvents).values({ ...e, at: e.at.getTime(), fromState: e.fromState ?? null, toState: e.toState ?? null, note: e.note ?? null }).run();
}

/**
 * Changes an issue and appends its audit row in one call, so no change goes unrecorded:
 * from = the state before, to = `patch.state` (or unchanged). Returns the issue as it is now.
 */
export function changeIssue(db: Db, issue: Issue, patch: IssuePatch,
  // actorCadreId null: the citizen, through their link.
  e: { at: Date; date: string; actorCadreId: number | null; action: string; note?: string | null }): Issue {
  if (Object.keys(patch).length) db.update(issues).set(patch).where(eq(issues.id, issue.id)).run();
  addIssueEvent(db, { ...e, issueId: issue.id, fromState: issue.state, toState: patch.state ?? issue.state });
  return { ...issue, ...patch };
}

/** The audit trail of one issue, oldest first. */
export function issueEventsOf(db: Db, issueId: number): IssueEvent[] {
  return db.select().from(issueEvents).where(eq(issueEvents.issueId, issueId)).orderBy(asc(issueEvents.id)).all();
}

/** /撤销 of a just-registered issue: the row stays, marked void, with an audit row saying so. */
export function voidIssue(db: Db, id: number, actorCadreId: number, now: Date, today: string): void {
  const i = issueById(db, id);
  if (!i) return;
  db.update(issues).set({ voidedAt: now.getTime() }).where(eq(issues.id, id)).run();
  addIssueEvent(db, { issueId: id, at: now, date: today, actorCadreId, action: 'void', fromState: i.state, toState: i.state, note: '撤销' });
}

const live = isNull(issues.voidedAt);
const pending = inArray(issues.state, [...PENDING_STATES]);

/** The current ledger of a unit and its sub-units: pending issues they own, earliest deadline first. */
export function openIssuesOfUnits(db: Db, unitPath: string): Issue[] {
  return db.select().from(issues).where(and(live, pending, inSubtree(issues.unitId, unitPath)))
    .orderBy(asc(issues.deadline), asc(issues.id)).all();
}

/** Pending, live issues with a deadline on or before `date`, earliest first (deadline reminders). */
export function pendingIssuesDueBy(db: Db, date: string): Issue[] {
  return db.select().from(issues).where(and(live, pending, lte(issues.deadline, date)))
    .orderBy(asc(issues.deadline), asc(issues.id)).all();
}

export interface IssueCounts {
  /** Registered in the period. */
  raised: number;
  /** Resolved in the period and not reopened since (state resolved or closed). */
  resolved: number;
  /** Of those, resolved on or before their deadline. */
  onTime: number;
  /** Closed (销号) in the period and still closed. */
  closed: number;
  /** Overdue on at least one day of the period up to `asOf`: past the deadline and not yet resolved. */
  overdue: number;
  /** Median of (resolved date − registration date) in days over `resolved`; null when none. */
  medianDaysToResolve: number | null;
  /** Current ratings of the issues rated (/评价) in the period. */
  satisfaction: Record<Satisfaction, number>;
}

/**
 * Issue numbers of a unit with its sub-units (by the unit where each issue was raised) for the
 * local dates [from, to]. `asOf` is "today" for a period still running (default `to`): an issue
 * only counts as overdue once its deadline is before that day. Voided issues never count.
 */
export function issueCountsForPeriod(db: Db, unitPath: string, from: string, to: string, asOf: string = to): IssueCounts {
  const until = asOf < to ? asOf : to;
  const scope = and(live, inSubtree(issues.originUnitId, unitPath));
  const resolvedIn = sql`${issues.resolvedDate} BETWEEN ${from} AND ${to} AND ${issues.state} IN ('resolved','closed')`;
  const eventIn = (actions: string) =>
    sql`EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = ${issues.id} AND e.action IN (${sql.raw(actions)}) AND e.date BETWEEN ${from} AND ${to})`;
  const n = (cond: SQL) => sql<number>`coalesce(sum(CASE WHEN ${cond} THEN 1 ELSE 0 END), 0)`;
  const row = db.select({
    raised: n(sql`${issues.createdDate} BETWEEN ${from} AND ${to}`),
    resolved: n(resolvedIn),
    onTime: n(sql`${resolvedIn} AND ${issues.resolvedDate} <= ${issues.deadline}`),
    closed: n(sql`${issues.state} = 'closed' AND ${eventIn("'close'")}`),
    // Overdue on some day d in [from, until]: deadline < d and not resolved before d.
    overdue: n(sql`${issues.deadline} < ${until} AND (${issues.resolvedDate} IS NULL
      OR (${issues.resolvedDate} > ${issues.deadline} AND ${issues.resolvedDate} >= ${from}))`),
  }).from(issues).where(scope).get()!;
  const days = db.select({ d: sql<number>`julianday(${issues.resolvedDate}) - julianday(${issues.createdDate})` })
    .from(issues).where(and(scope, resolvedIn)).all().map((r) => r.d).sort((a, b) => a - b);
  const mid = days.length >> 1;
  const median = days.length === 0 ? null : days.length % 2 ? days[mid] : (days[mid - 1] + days[mid]) / 2;
  const satisfaction: Record<Satisfaction, number> = { satisfied: 0, basic: 0, dissatisfied: 0 };
  const rated = db.select({ s: issues.satisfaction, n: sql<number>`count(*)` }).from(issues)
    .where(and(scope, sql`${issues.satisfaction} IS NOT NULL`, eventIn("'rate','reopen'"))).groupBy(issues.satisfaction).all();
  for (const r of rated) if ((SATISFACTIONS as readonly string[]).includes(r.s!)) satisfaction[r.s as Satisfaction] = r.n;
  return { ...row, medianDaysToResolve: median, satisfaction };
}
