/**
 * The three lists (三个清单, docs/rules.md#three-lists) of a unit with its sub-units for a period: problems raised,
 * tasks (progress entries), results. Issues belong to the unit where they were raised, so an
 * issue escalated upwards still appears in the lists of the unit that found it.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { issueEvents, issues } from './schema.js';
import { inSubtree } from './issues.js';
import type { Issue } from './types.js';

/** 问题清单: issues registered in [from, to]. */
export function issuesRaisedIn(db: Db, unitPath: string, from: string, to: string): Issue[] {
  return db.select().from(issues).where(and(isNull(issues.voidedAt), inSubtree(issues.originUnitId, unitPath),
    sql`${issues.createdDate} BETWEEN ${from} AND ${to}`)).orderBy(asc(issues.id)).all();
}

export interface TaskEntry { issueId: number; date: string; note: string; actorCadreId: number | null; place: string }

/** 任务清单: measures added with /进展 in [from, to], in the order they were written. */
export function tasksIn(db: Db, unitPath: string, from: string, to: string): TaskEntry[] {
  return db.select({ issueId: issueEvents.issueId, date: issueEvents.date, note: sql<string>`coalesce(${issueEvents.note}, '')`,
    actorCadreId: issueEvents.actorCadreId, place: issues.place })
    .from(issueEvents).innerJoin(issues, eq(issues.id, issueEvents.issueId))
    .where(and(eq(issueEvents.action, 'progress'), sql`${issueEvents.date} BETWEEN ${from} AND ${to}`,
      isNull(issues.voidedAt), inSubtree(issues.originUnitId, unitPath)))
    .orderBy(asc(issueEvents.id)).all();
}

/** 效果清单: issues resolved in [from, to] and not reopened since. */
export function issuesResolvedIn(db: Db, unitPath: string, from: string, to: string): Issue[] {
  return db.select().from(issues).where(and(isNull(issues.voidedAt), inSubtree(issues.originUnitId, unitPath),
    sql`${issues.resolvedDate} BETWEEN ${from} AND ${to}`, sql`${issues.state} IN ('resolved','closed')`))
    .orderBy(asc(issues.resolvedDate), asc(issues.id)).all();
}
