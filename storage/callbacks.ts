/**
 * 回访 (docs/rules.md#reminders): resolved issues whose latest /办结 has not been rated since — the candidates
 * for a call-back reminder to the responsible cadre (jobs/callbacks.ts decides when).
 */
import type { Db } from './db.js';
import { ratedAfterSql } from './ratings.js';

export interface CallbackCandidate {
  id: number;
  responsibleCadreId: number;
  place: string;
  description: string;
  resolvedDate: string;
  /** The audit row of the latest /办结: a new /办结 after a reopening is a new call-back. */
  resolveEventId: number;
}

/** Resolved or closed, live issues resolved in [from, to] and not rated since that /办结. */
export function unratedResolvedIssues(db: Db, from: string, to: string): Promise<CallbackCandidate[]> {
  return db.all<CallbackCandidate>(`
    SELECT i.id, i.responsible_cadre_id AS "responsibleCadreId", i.place, i.description, i.resolved_date AS "resolvedDate",
      (SELECT max(e.id) FROM issue_events e WHERE e.issue_id = i.id AND e.action = 'resolve') AS "resolveEventId"
    FROM issues i
    WHERE i.voided_at IS NULL AND i.state IN ('resolved','closed') AND i.resolved_date BETWEEN ? AND ?
      AND NOT ${ratedAfterSql('i', `(SELECT max(e2.id) FROM issue_events e2 WHERE e2.issue_id = i.id AND e2.action = 'resolve')`)}
    ORDER BY i.resolved_date, i.id`, [from, to]);
}
