/**
 * The three lists (三个清单, docs/rules.md#three-lists) of a unit with its sub-units for a period: problems raised,
 * tasks (progress entries), results. Issues belong to the unit where they were raised, so an
 * issue escalated upwards still appears in the lists of the unit that found it.
 */
import type { Db } from './db.js';
import { issues } from './schema.js';
import { rowsOf } from './rows.js';
import type { Issue } from './types.js';

const IN_SUBTREE = 'origin_unit_id IN (SELECT id FROM units WHERE path LIKE ?)';

/** 问题清单: issues registered in [from, to]. */
export function issuesRaisedIn(db: Db, unitPath: string, from: string, to: string): Promise<Issue[]> {
  return rowsOf(db, issues, `WHERE voided_at IS NULL AND ${IN_SUBTREE} AND created_date BETWEEN ? AND ? ORDER BY id`, [unitPath + '%', from, to]);
}

export interface TaskEntry { issueId: number; date: string; note: string; actorCadreId: number | null; place: string }

/** 任务清单: measures added with /进展 in [from, to], in the order they were written. */
export function tasksIn(db: Db, unitPath: string, from: string, to: string): Promise<TaskEntry[]> {
  return db.all<TaskEntry>(
    `SELECT e.issue_id AS "issueId", e.date, coalesce(e.note, '') AS note, e.actor_cadre_id AS "actorCadreId", i.place
     FROM issue_events e JOIN issues i ON i.id = e.issue_id
     WHERE e.action = 'progress' AND e.date BETWEEN ? AND ? AND i.voided_at IS NULL AND i.${IN_SUBTREE}
     ORDER BY e.id`, [from, to, unitPath + '%']);
}

/** 效果清单: issues resolved in [from, to] and not reopened since. */
export function issuesResolvedIn(db: Db, unitPath: string, from: string, to: string): Promise<Issue[]> {
  return rowsOf(db, issues, `WHERE voided_at IS NULL AND ${IN_SUBTREE} AND resolved_date BETWEEN ? AND ? AND state IN ('resolved','closed')
    ORDER BY resolved_date, id`, [unitPath + '%', from, to]);
}
