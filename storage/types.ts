import type * as s from './schema.js';

export type Unit = typeof s.units.$inferSelect;
export type Cadre = typeof s.cadres.$inferSelect;
export type Visit = typeof s.visits.$inferSelect;
export type Volunteer = typeof s.volunteers.$inferSelect;
export type Issue = typeof s.issues.$inferSelect;
export type IssueEvent = typeof s.issueEvents.$inferSelect;
export type QuotaRule = typeof s.quotaRules.$inferSelect;
export type IssueState = Issue['state'];

/** Visit kinds (docs/rules.md#visit-kinds): quotas count them separately. */
export const VISIT_KINDS = ['household', 'village', 'residency', 'enterprise', 'meeting', 'briefing', 'talk', 'other'] as const;
export type VisitKind = (typeof VISIT_KINDS)[number];

/** Where a record came from: platform, chat and the platform's message id. */
export interface Origin {
  platform: string;
  chatId: string | null;
  messageId: string | null;
  at: number;
}
