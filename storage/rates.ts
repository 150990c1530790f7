/**
 * 三率 (docs/rules.md#three-rates-and-deadline-lights): the three rates 12345 hotlines score units on, for a unit with its sub-units
 * (issues by the unit where they were raised, as in storage/issues.ts issueCountsForPeriod) and
 * the local dates [from, to]. One SQL query per rate; only counts leave the database.
 *
 * - 响应率: of the issues registered in the period, the share whose first /进展 or /办结
 *   (issue_events `progress` / `resolve`) is dated no later than the first working day after
 *   the registration date. An issue still inside that window without a response is not counted
 *   yet (it may still respond in time).
 * - 解决率: of the issues whose (current, i.e. extended) deadline falls in the period, the share
 *   resolved — state 已办结 or 已销号 now — with a resolution date on or before the deadline. An
 *   issue whose deadline is today or later and is not yet resolved is not counted yet.
 * - 满意率: of the issues rated in the period (a rating audit row dated in it), the share whose
 *   rating (the citizen's first, then the cadre's: storage/ratings.ts) is 满意 or 基本满意.
 *
 * Working days come from `chinese-days` (调休 included), the data bot/lights.ts reads; the due
 * date of each registration date is computed here and handed to the database as data (one JSON
 * object on SQLite, two arrays on PostgreSQL).
 */
import chineseDays from 'chinese-days';
import type { Db } from './db.js';
import { effectiveRatingSql, RATING_ACTIONS_SQL } from './ratings.js';

export interface Rate {
  /** Issues that met the measure. */
  n: number;
  /** Issues measured. */
  of: number;
}

export interface ThreeRates { response: Rate; resolution: Rate; satisfaction: Rate }

const DAY_MS = 86_400_000;
const toDays = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / DAY_MS;
const fromDays = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** Per registration date in [from, to]: the last date a response counts as within one working day. */
export function responseDueDates(from: string, to: string): Record<string, string> {
  const out: Record<string, string> = {};
  let due = '';
  for (let n = toDays(to) + 1; ; n++) if (chineseDays.isWorkday(fromDays(n))) { due = fromDays(n); break; }
  // Walking backwards, the next working day of d is d+1 when that is a working day, else the one of d+1.
  for (let n = toDays(to); n >= toDays(from); n--) {
    const next = fromDays(n + 1);
    if (chineseDays.isWorkday(next)) due = next;
    out[fromDays(n)] = due;
  }
  return out;
}

// Live issues raised in the subtree (parameter: unitPath + '%').
const SCOPE = `i.voided_at IS NULL AND i.origin_unit_id IN (SELECT id FROM units WHERE path LIKE ?)`;
interface RateRow { n: number | null; of: number }
const rate = (r: RateRow | undefined): Rate => ({ n: r?.n ?? 0, of: r?.of ?? 0 });

// The due dates go in as data: SQLite reads them from one JSON object (date → due date),
// PostgreSQL from two parallel arrays unnested into rows.
const RESPONSE = (due: string) => `
    SELECT count(*) AS of, count(*) FILTER (WHERE r.first <= due.value) AS n FROM (
      SELECT i.created_date AS d, (SELECT min(e.date) FROM issue_events e
        WHERE e.issue_id = i.id AND e.action IN ('progress','resolve')) AS first
      FROM issues i WHERE ${SCOPE} AND i.created_date BETWEEN ? AND ?) r
    JOIN ${due} ON due.key = r.d
    WHERE r.first <= due.value OR due.value < ?`;
const RESPONSE_SQLITE = RESPONSE('json_each(?) due');
const RESPONSE_PG = RESPONSE('unnest(?::text[], ?::text[]) AS due(key, value)');

export async function responseRate(db: Db, unitPath: string, from: string, to: string, asOf: string): Promise<Rate> {
  const until = asOf < to ? asOf : to;
  if (until < from) return { n: 0, of: 0 };
  const due = responseDueDates(from, until);
  const params = db.dialect === 'postgres'
    ? [unitPath + '%', from, until, Object.keys(due), Object.values(due), asOf]
    : [unitPath + '%', from, until, JSON.stringify(due), asOf];
  return rate(await db.get<RateRow>(db.dialect === 'postgres' ? RESPONSE_PG : RESPONSE_SQLITE, params));
}

// `ok` is a truth value (0/1 on SQLite, boolean on PostgreSQL), NULL when the issue has no
// resolution date: counted through FILTER, never summed.
const RESOLUTION = `
    SELECT count(*) AS of, count(*) FILTER (WHERE r.ok) AS n FROM (
      SELECT i.deadline, (i.state IN ('resolved','closed') AND i.resolved_date <= i.deadline) AS ok
      FROM issues i WHERE ${SCOPE} AND i.deadline BETWEEN ? AND ?) r
    WHERE r.ok OR r.deadline < ?`;

export async function resolutionRate(db: Db, unitPath: string, from: string, to: string, asOf: string): Promise<Rate> {
  return rate(await db.get<RateRow>(RESOLUTION, [unitPath + '%', from, to, asOf]));
}

const SATISFACTION = `
    SELECT count(*) AS of, count(*) FILTER (WHERE r.s IN ('satisfied','basic')) AS n FROM (
      SELECT ${effectiveRatingSql('i')} AS s FROM issues i WHERE ${SCOPE}
        AND EXISTS (SELECT 1 FROM issue_events e WHERE e.issue_id = i.id AND e.action IN ${RATING_ACTIONS_SQL}
          AND e.date BETWEEN ? AND ?)) r
    WHERE r.s IS NOT NULL`;

export async function satisfactionRate(db: Db, unitPath: string, from: string, to: string): Promise<Rate> {
  return rate(await db.get<RateRow>(SATISFACTION, [unitPath + '%', from, to]));
}

/** The three rates; `asOf` is today (a window or deadline counts as passed once it is before today). */
export async function threeRates(db: Db, unitPath: string, from: string, to: string, asOf: string): Promise<ThreeRates> {
  return {
    response: await responseRate(db, unitPath, from, to, asOf),
    resolution: await resolutionRate(db, unitPath, from, to, asOf),
    satisfaction: await satisfactionRate(db, unitPath, from, to),
  };
}
