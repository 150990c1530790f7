/**
 * The issue glossary (docs/rules.md#issue-workflow): the values an issue's state, ledger, source
 * and rating are stored as, and the words replies, lists, exports and pages show for them.
 *
 * In storage/ because the queries need some of it too (which states still wait for work), and
 * storage imports nothing from bot/ or handlers/; a handler that names an issue's state reads it
 * here, so a reply and an export never call the same thing differently.
 */
import type { Issue, IssueState } from './types.js';

export type Ledger = Issue['ledger'];
export type Source = Issue['source'];

/** States in which an issue still waits for work (and can be overdue). */
export const PENDING_STATES = ['open', 'in_progress', 'escalated'] as const satisfies readonly IssueState[];
/** {@link PENDING_STATES} as SQL text for `state IN …`: `('open','in_progress','escalated')`. */
export const PENDING_SQL = `(${PENDING_STATES.map((s) => `'${s}'`).join(',')})`;

/** Stored values of `issues.satisfaction` (the cadre's /评价) and `issues.citizen_satisfaction` (the citizen's page). */
export const SATISFACTIONS = ['satisfied', 'basic', 'dissatisfied'] as const;
export type Satisfaction = (typeof SATISFACTIONS)[number];

export const STATE_NAMES: Record<IssueState, string> = {
  open: '登记', in_progress: '办理中', resolved: '已办结', closed: '已销号', escalated: '已上报',
};
/** 三本台账 (《走基层制度化常态化实施意见》二（1）). */
export const LEDGER_NAMES: Record<Ledger, string> = { livelihood: '民生诉求', hardship: '困难群众', stability: '稳定工作' };
export const SOURCE_NAMES: Record<Source, string> = { visit: '走访', hotline: '热线', petition: '信访', other: '其他' };
export const SATISFACTION_NAMES: Record<Satisfaction, string> = { satisfied: '满意', basic: '基本满意', dissatisfied: '不满意' };
