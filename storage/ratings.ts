/**
 * What counts as an issue's rating, in one place for the 回访 reminder (jobs/callbacks.ts) and
 * the 满意率 (storage/rates.ts): the cadre's /评价 (`issues.satisfaction`, with a `rate` or, for
 * 不满意, a `reopen` audit row) and the citizen's own rating from their link
 * (`issues.citizen_satisfaction` / `citizen_rated_at`, with a `citizen_rate` or `citizen_reopen`
 * audit row: handlers/citizen-pages.ts), which outranks it.
 */

/** Audit actions (issue_events.action) that record a rating. */
export const RATING_ACTIONS = ['rate', 'reopen', 'citizen_rate', 'citizen_reopen'] as const;

/** `('rate','reopen',…)` for an SQL `IN`. */
export const RATING_ACTIONS_SQL = `(${RATING_ACTIONS.map((a) => `'${a}'`).join(',')})`;

/** The rating that counts for an issue row aliased `alias`: the citizen's first, then the cadre's. */
export function effectiveRatingSql(alias: string): string {
  return `coalesce(${alias}.citizen_satisfaction, ${alias}.satisfaction)`;
}

/**
 * SQL true when the issue row `alias` was rated after the audit row `eventId` (its latest /办结):
 * a rating given before a reopening does not answer the result that came after it.
 */
export function ratedAfterSql(alias: string, eventId: string): string {
  return `(EXISTS (SELECT 1 FROM issue_events rt WHERE rt.issue_id = ${alias}.id AND rt.id > ${eventId} AND rt.action IN ${RATING_ACTIONS_SQL})
    OR coalesce(${alias}.citizen_rated_at >= (SELECT ra.at FROM issue_events ra WHERE ra.id = ${eventId}), FALSE))`;
}
