/**
 * The issue ledger: issues and their append-only audit trail (issue_events).
 *
 * Units: an issue's `unitId` is the unit that owns it now (escalation moves it up the tree);
 * `originUnitId` is where it was raised. Because escalation only ever moves upwards, "raised in
 * this subtree" (origin) covers everything a unit ever handled, and "owned by this subtree"
 * (unitId) is its current ledger.
 */
import type { Db } from './db.js';
import { insertRow, rowOf, rowsOf, updateRows } from './rows.js';
import { issueEvents, issues } from './schema.js';
import type { Issue, IssueEvent, IssueState } from './types.js';
import { PENDING_SQL, SATISFACTIONS, type Satisfaction } from './issue-glossary.js';

export type NewIssue = Omit<typeof issues.$inferInsert, 'id'>;
export type IssuePatch = Partial<Pick<Issue, 'state' | 'unitId' | 'deadline' | 'extensions' | 'superviseCount' | 'result'
  | 'answered' | 'satisfaction' | 'resolvedAt' | 'resolvedDate' | 'closedAt' | 'citizenSatisfaction' | 'citizenNote' | 'citizenRatedAt'>>;

/**
 * SQL text: `col` is a unit in the subtree of a unit path ('/1/4/'). Bind `unitPath + '%'` to its
 * one `?`.
 */
export function inSubtree(col: string): string {
  return `${col} IN (SELECT id FROM units WHERE path LIKE ?)`;
}

export function issueById(db: Db, id: number): Promise<Issue | undefined> {
  return rowOf(db, issues, 'WHERE id = ?', [id]);
}

/** Serializes the numbering of issues on PostgreSQL (an arbitrary key of ours for pg_advisory_xact_lock). */
const ISSUE_NUMBER_LOCK = 7475;

/**
 * Registers an issue; its id is the number cadres and citizens see (`#12`), and a ledger's numbers
 * have no gaps: a gap reads as a deleted record. SQLite gives that by itself (a rolled-back
 * insert takes its number back); a PostgreSQL sequence does not, so there the number is the next
 * one after the highest, taken under a transaction lock (registrations are few; visits, many more,
 * keep their sequence).
 */
export async function insertIssue(db: Db, v: NewIssue): Promise<Issue> {
  if (db.dialect === 'sqlite') return (await issueById(db, await insertRow(db, issues, v, 'RETURNING id')))!;
  return db.withWrite(async (tx) => {
    await tx.value('SELECT pg_advisory_xact_lock(?)', [ISSUE_NUMBER_LOCK]);
    const id = Number(await tx.value('SELECT coalesce(max(id), 0) + 1 FROM issues'));
    await insertRow(tx, issues, { ...v, id });
    return (await issueById(tx, id))!;
  });
}

/** Appends one audit row: who, when, from → to, note. */
export async function addIssueEvent(db: Db, e: { issueId: number; at: Date; date: string; actorCadreId: number | null; action: string; fromState?: IssueState | null; toState?: IssueState | null; note?: string | null }): Promise<void> {
  await insertRow(db, issueEvents, { ...e, at: e.at.getTime(), fromState: e.fromState ?? null, toState: e.toState ?? null, note: e.note ?? null });
}

/**
 * Changes an issue and appends its audit row in one call, so no change goes unrecorded:
 * from = the state before, to = `patch.state` (or unchanged). Resolves to the issue as it is now.
 * Run it inside the caller's transaction (`tx`) so the change and its audit row land together.
 */
export async function changeIssue(db: Db, issue: Issue, patch: IssuePatch,
  // actorCadreId null: the citizen, through their link.
  e: { at: Date; date: string; actorCadreId: number | null; action: string; note?: string | null }): Promise<Issue> {
  if (Object.keys(patch).length) await updateRows(db, issues, patch, 'id = ?', [issue.id]);
  await addIssueEvent(db, { ...e, issueId: issue.id, fromState: issue.state, toState: patch.state ?? issue.state });
  return { ...issue, ...patch };
}

/** The audit trail of one issue, oldest first. */
export function issueEventsOf(db: Db, issueId: number): Promise<IssueEvent[]> {
  return rowsOf(db, issueEvents, 'WHERE issue_id = ? ORDER BY id', [issueId]);
}

/** /撤销 of a just-registered issue: the row stays, marked void, with an audit row saying so. */
export async function voidIssue(db: Db, id: number, actorCadreId: number, now: Date, today: string): Promise<void> {
  const i = await issueById(db, id);
  if (!i) return;
  await updateRows(db, issues, { voidedAt: now.getTime() }, 'id = ?', [id]);
  await addIssueEvent(db, { issueId: id, at: now, date: today, actorCadreId, action: 'void', fromState: i.state, toState: i.state, note: '撤销' });
}

const LIVE_PENDING = `voided_at IS NULL AND state IN ${PENDING_SQL}`;

/** The current ledger of a unit and its sub-units: pending issues they own, earliest deadline first. */
export function openIssuesOfUnits(db: Db, unitPath: string): Promise<Issue[]> {
  return rowsOf(db, issues, `WHERE ${LIVE_PENDING} AND ${inSubtree('unit_id')} ORDER BY deadline, id`, [unitPath + '%']);
}

/** Pending, live issues with a deadline on or before `date`, earliest first (deadline reminders). */
export function pendingIssuesDueBy(db: Db, date: string): Promise<Issue[]> {
  return rowsOf(db, issues, `WHERE ${LIVE_PENDING} AND deadline <= ? ORDER BY deadline, id`, [date]);
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

// Live issues raised in the subtree (parameter: unitPath + '%').
const SCOPE = `voided_at IS NULL AND ${inSubtree('origin_unit_id')}`;
// Resolved in [from, to] and still resolved (parameters: from, to).
const RESOLVED_IN = `resolved_date BETWEEN ? AND ? AND state IN ('resolved','closed')`;
// An audit row of one of `actions` dated in [from, to] (parameters: from, to).
const eventIn = (actions: string) =>
  `EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = issues.id AND e.action IN (${actions}) AND e.date BETWEEN ? AND ?)`;
const n = (cond: string) => `coalesce(sum(CASE WHEN ${cond} THEN 1 ELSE 0 END), 0)`;

const COUNTS = `SELECT
    ${n('created_date BETWEEN ? AND ?')} AS raised,
    ${n(RESOLVED_IN)} AS resolved,
    ${n(`${RESOLVED_IN} AND resolved_date <= deadline`)} AS "onTime",
    ${n(`state = 'closed' AND ${eventIn("'close'")}`)} AS closed,
    ${n(`deadline < ? AND (resolved_date IS NULL OR (resolved_date > deadline AND resolved_date >= ?))`)} AS overdue
  FROM issues WHERE ${SCOPE}`;
// SQLite has no percentile aggregate: the day counts come back (one number per issue resolved in
// the period) and the median is taken here. PostgreSQL takes it in SQL; both average the two
// middle values of an even count. Dates are 'YYYY-MM-DD' text.
const DAYS_SQLITE = `SELECT julianday(resolved_date) - julianday(created_date) AS d FROM issues WHERE ${SCOPE} AND ${RESOLVED_IN}`;
const MEDIAN_PG = `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY resolved_date::date - created_date::date) AS m
  FROM issues WHERE ${SCOPE} AND ${RESOLVED_IN}`;
const RATED = `SELECT satisfaction AS s, count(*) AS n FROM issues
  WHERE ${SCOPE} AND satisfaction IS NOT NULL AND ${eventIn("'rate','reopen'")} GROUP BY satisfaction`;

/**
 * Issue numbers of a unit with its sub-units (by the unit where each issue was raised) for the
 * local dates [from, to]. `asOf` is "today" for a period still running (default `to`): an issue
 * only counts as overdue once its deadline is before that day. Voided issues never count.
 */
export async function issueCountsForPeriod(db: Db, unitPath: string, from: string, to: string, asOf: string = to): Promise<IssueCounts> {
  const until = asOf < to ? asOf : to;
  const path = unitPath + '%';
  const row = (await db.get<Omit<IssueCounts, 'medianDaysToResolve' | 'satisfaction'>>(COUNTS,
    [from, to, from, to, from, to, from, to, until, from, path]))!;
  let median: number | null;
  if (db.dialect === 'postgres') {
    median = (await db.value<number | null>(MEDIAN_PG, [path, from, to])) ?? null;
  } else {
    const days = (await db.all<{ d: number }>(DAYS_SQLITE, [path, from, to])).map((r) => r.d).sort((a, b) => a - b);
    const mid = days.length >> 1;
    median = days.length === 0 ? null : days.length % 2 ? days[mid] : (days[mid - 1] + days[mid]) / 2;
  }
  const satisfaction: Record<Satisfaction, number> = { satisfied: 0, basic: 0, dissatisfied: 0 };
  for (const r of await db.all<{ s: string; n: number }>(RATED, [path, from, to])) {
    if ((SATISFACTIONS as readonly string[]).includes(r.s)) satisfaction[r.s as Satisfaction] = r.n;
  }
  return { raised: row.raised, resolved: row.resolved, onTime: row.onTime, closed: row.closed, overdue: row.overdue, medianDaysToResolve: median, satisfaction };
}
