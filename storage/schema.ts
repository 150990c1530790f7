/**
 * The database of Minqing. Dates of records are local calendar dates ('YYYY-MM-DD' in the
 * deployment timezone) because quotas count calendar days; instants are epoch milliseconds.
 * Nothing is ever deleted: records are voided (`voidedAt`), issues change state through
 * `issue_events`, an append-only audit trail.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, real, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** An organisation node; `path` ('/1/4/9/') makes "this unit and everything below it" one LIKE. */
export const units = sqliteTable('units', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  parentId: integer('parent_id'),
  path: text('path').notNull().default(''),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('units_name').on(t.name), index('units_path').on(t.path)]);

export const cadres = sqliteTable('cadres', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  phone: text('phone').notNull(),
  unitId: integer('unit_id').notNull(),
  rank: text('rank', { enum: ['leader', 'staff'] }).notNull().default('staff'),
  residentWorker: integer('resident_worker', { mode: 'boolean' }).notNull().default(false),
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  /** Quota nudges pause until the end of this local date (inclusive). */
  mutedUntil: text('muted_until'),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('cadres_phone').on(t.phone), index('cadres_unit').on(t.unitId), index('cadres_name').on(t.name)]);

/** A chat account (platform + the platform's user id) bound to a cadre. */
export const accounts = sqliteTable('accounts', {
  platform: text('platform').notNull(),
  accountId: text('account_id').notNull(),
  cadreId: integer('cadre_id').notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [primaryKey({ columns: [t.platform, t.accountId] }), index('accounts_cadre').on(t.cadreId)]);

/** A group chat mapped to a unit; `committee` marks the group that receives digests. */
export const chatGroups = sqliteTable('chat_groups', {
  platform: text('platform').notNull(),
  chatId: text('chat_id').notNull(),
  unitId: integer('unit_id').notNull(),
  committee: integer('committee', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
}, (t) => [primaryKey({ columns: [t.platform, t.chatId] }), index('chat_groups_unit').on(t.unitId)]);

export const contactPoints = sqliteTable('contact_points', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  unitId: integer('unit_id').notNull(),
  name: text('name').notNull(),
  kind: text('kind').notNull().default('village'),
  cadreId: integer('cadre_id'),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('contact_points_name').on(t.unitId, t.name)]);

/** A citizen household of the 民情记录表 (docs/rules.md#households). Personal data: masked outside direct chats. */
export const households = sqliteTable('households', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  unitId: integer('unit_id').notNull(),
  contactPointId: integer('contact_point_id'),
  cadreId: integer('cadre_id'),
  headName: text('head_name').notNull(),
  phone: text('phone'),
  size: integer('size'),
  incomeSource: text('income_source'),
  difficulties: text('difficulties'),
  opinions: text('opinions'),
  createdAt: integer('created_at').notNull(),
});

/** Shared columns of every reported record: origin (for idempotency), verification, voiding. */
const recordColumns = () => ({
  id: integer('id').primaryKey({ autoIncrement: true }),
  cadreId: integer('cadre_id').notNull(),
  unitId: integer('unit_id').notNull(),
  date: text('date').notNull(),
  hours: real('hours').notNull(),
  place: text('place').notNull(),
  /** ok: counts · pending: backdated, waits for /核查 · verified: counts · returned: does not count */
  status: text('status', { enum: ['ok', 'pending', 'verified', 'returned'] }).notNull().default('ok'),
  backdated: integer('backdated', { mode: 'boolean' }).notNull().default(false),
  verifiedBy: integer('verified_by'),
  verifyNote: text('verify_note'),
  voidedAt: integer('voided_at'),
  platform: text('platform').notNull(),
  chatId: text('chat_id'),
  messageId: text('message_id'),
  createdAt: integer('created_at').notNull(),
});

export const visits = sqliteTable('visits', {
  ...recordColumns(),
  kind: text('kind').notNull(),
  households: integer('households').notNull().default(0),
  content: text('content').notNull().default(''),
  /** 上午 / 中午 / 下午 / 晚上 when the cadre said so (`昨天下午`); the date alone otherwise. */
  timeOfDay: text('time_of_day'),
  contactPointId: integer('contact_point_id'),
  evidence: text('evidence'),
}, (t) => [
  // The visits that are not counted and not voided (补报 waiting for /核查, returned), for the work
  // log (工作日志, storage/reports.ts logRows), which reads the counted ones through visits_counted.
  // Partial, so an ordinary /走访 (status ok) writes the table, visits_cadre and visits_counted
  // only: one B-tree fewer per insert (migration visits_date_uncounted; it was (date, unit_id,
  // cadre_id, kind, hours, status) for every row, from before visits_counted existed).
  index('visits_date').on(t.date, t.unitId).where(sql`status IN ('pending','returned') AND voided_at IS NULL`),
  // A cadre's own visits (/我的, the /走访 receipt, /撤销, evidence) and the laggards of /统计,
  // probed cadre by cadre.
  index('visits_cadre').on(t.cadreId, t.date),
  // Statistics and quotas read only counted visits; this index answers them without the table.
  index('visits_counted').on(t.kind, t.date, t.unitId, t.cadreId, t.hours, t.households, t.place)
    .where(sql`status IN ('ok','verified') AND voided_at IS NULL`),
]);

export const volunteers = sqliteTable('volunteers', {
  ...recordColumns(),
  activity: text('activity').notNull().default(''),
}, (t) => [index('volunteers_date').on(t.date, t.unitId), index('volunteers_cadre').on(t.cadreId, t.date)]);

export const issues = sqliteTable('issues', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  unitId: integer('unit_id').notNull(),
  originUnitId: integer('origin_unit_id').notNull(),
  ledger: text('ledger', { enum: ['livelihood', 'hardship', 'stability'] }).notNull(),
  category: text('category').notNull(),
  place: text('place').notNull(),
  householdId: integer('household_id'),
  description: text('description').notNull(),
  responsibleCadreId: integer('responsible_cadre_id').notNull(),
  leadCadreId: integer('lead_cadre_id'),
  department: text('department'),
  deadline: text('deadline').notNull(),
  source: text('source', { enum: ['visit', 'hotline', 'petition', 'other'] }).notNull(),
  visitId: integer('visit_id'),
  state: text('state', { enum: ['open', 'in_progress', 'resolved', 'closed', 'escalated'] }).notNull(),
  extensions: integer('extensions').notNull().default(0),
  superviseCount: integer('supervise_count').notNull().default(0),
  result: text('result'),
  answered: integer('answered', { mode: 'boolean' }),
  satisfaction: text('satisfaction'),
  /**
   * The citizen's own rating from their link: it outranks `satisfaction` (a cadre's
   * /评价) wherever a rating is shown or counted. Kept apart so neither overwrites the other.
   */
  citizenSatisfaction: text('citizen_satisfaction'),
  /** The words the citizen added to the rating, as typed (shown masked like group messages). */
  citizenNote: text('citizen_note'),
  citizenRatedAt: integer('citizen_rated_at'),
  resolvedAt: integer('resolved_at'),
  resolvedDate: text('resolved_date'),
  closedAt: integer('closed_at'),
  reporterCadreId: integer('reporter_cadre_id').notNull(),
  evidence: text('evidence'),
  voidedAt: integer('voided_at'),
  platform: text('platform').notNull(),
  chatId: text('chat_id'),
  messageId: text('message_id'),
  createdAt: integer('created_at').notNull(),
  createdDate: text('created_date').notNull(),
}, (t) => [
  index('issues_unit_state').on(t.unitId, t.state),
  index('issues_responsible').on(t.responsibleCadreId, t.state),
  index('issues_deadline').on(t.state, t.deadline),
]);

/** Append-only audit trail of an issue: who, when, from → to, note. */
export const issueEvents = sqliteTable('issue_events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  issueId: integer('issue_id').notNull(),
  at: integer('at').notNull(),
  date: text('date').notNull(),
  actorCadreId: integer('actor_cadre_id'),
  action: text('action').notNull(),
  fromState: text('from_state'),
  toState: text('to_state'),
  note: text('note'),
}, (t) => [index('issue_events_issue').on(t.issueId, t.id), index('issue_events_date').on(t.date, t.action)]);

/** A quota rule: metric ≥ threshold per period for the cadres matching the filter (docs/rules.md#quotas). */
export const quotaRules = sqliteTable('quota_rules', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  metric: text('metric').notNull(),
  /** JSON: { rank?: 'leader'|'staff', residentWorker?: boolean, kinds?: VisitKind[] } */
  filter: text('filter').notNull().default('{}'),
  period: text('period', { enum: ['week', 'month', 'quarter', 'year'] }).notNull(),
  threshold: real('threshold').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  preset: text('preset'),
  source: text('source'),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('quota_rules_preset').on(t.preset)]);

/** Inbound platform messages already handled, with the replies they got (idempotency). */
export const inboundMessages = sqliteTable('inbound_messages', {
  platform: text('platform').notNull(),
  messageId: text('message_id').notNull(),
  receivedAt: integer('received_at').notNull(),
  replies: text('replies').notNull(),
}, (t) => [primaryKey({ columns: [t.platform, t.messageId] })]);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * The reminder outbox. A reminder's key is deterministic (e.g. `deadline:12:d-3`), so it is
 * recorded once whatever runs the pass; the message to send is stored with it in the same
 * transaction, and `deliveredAt` is set once the platform accepted it.
 */
export const reminders = sqliteTable('reminders', {
  key: text('key').primaryKey(),
  kind: text('kind').notNull(),
  to: text('to', { enum: ['user', 'chat'] }).notNull(),
  cadreId: integer('cadre_id'),
  platform: text('platform'),
  target: text('target'),
  /** JSON of the Reply to deliver; null for bookkeeping rows (a slot already covered). */
  reply: text('reply'),
  dueDate: text('due_date').notNull(),
  createdAt: integer('created_at').notNull(),
  claimedBy: text('claimed_by'),
  claimedAt: integer('claimed_at'),
  deliveredAt: integer('delivered_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
}, (t) => [index('reminders_undelivered').on(t.deliveredAt, t.createdAt), index('reminders_due').on(t.dueDate, t.kind)]);

/**
 * The reply outbox. Each addressed reply of a handled message is written in the transaction that
 * claims the message id (`inbound_messages`), under a key stable across redeliveries and
 * restarts (`platform:messageId:index`), and delivered from here with retries. A row ends either
 * delivered (`deliveredAt`) or undeliverable (`failedAt`, after a permanent platform error or the
 * last attempt); neither is ever sent again.
 */
export const outbox = sqliteTable('outbox', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  key: text('key').notNull(),
  /** The inbound message the reply answers; its replies go out in `idx` order. */
  platform: text('platform').notNull(),
  messageId: text('message_id').notNull(),
  idx: integer('idx').notNull(),
  /** JSON of the addressed outgoing message (bot/outgoing.ts). */
  message: text('message').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Not before this instant (backoff after a failed attempt). */
  dueAt: integer('due_at').notNull(),
  claimedAt: integer('claimed_at'),
  attempts: integer('attempts').notNull().default(0),
  deliveredAt: integer('delivered_at'),
  failedAt: integer('failed_at'),
  lastError: text('last_error'),
}, (t) => [
  // The key is `platform:messageId:idx`, so this one index makes it unique too (one index fewer
  // to write on the hot path of every command).
  uniqueIndex('outbox_source').on(t.platform, t.messageId, t.idx),
  index('outbox_pending').on(t.dueAt).where(sql`delivered_at IS NULL AND failed_at IS NULL`),
]);

/**
 * Request proofs seen once (a DingTalk HTTP `(timestamp, sign)` pair): kept until `expiresAt`, the
 * end of the window in which the proof would be accepted, so a captured pair cannot carry a second
 * body — across restarts too.
 */
export const seenProofs = sqliteTable('seen_proofs', {
  scope: text('scope').notNull(),
  proof: text('proof').notNull(),
  expiresAt: integer('expires_at').notNull(),
}, (t) => [primaryKey({ columns: [t.scope, t.proof] }), index('seen_proofs_expiry').on(t.expiresAt)]);

/**
 * Evidence attached to a record (docs/rules.md#evidence): the platform's file key and metadata; `path` and
 * `bytes` only when the deployment stores the bytes (`MINQING_EVIDENCE=store`).
 */
export const evidence = sqliteTable('evidence', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  recordKind: text('record_kind', { enum: ['visit', 'volunteer', 'issue'] }).notNull(),
  recordId: integer('record_id').notNull(),
  cadreId: integer('cadre_id').notNull(),
  kind: text('kind').notNull(),
  platform: text('platform').notNull(),
  messageId: text('message_id'),
  fileKey: text('file_key').notNull(),
  name: text('name'),
  meta: text('meta'),
  path: text('path'),
  bytes: integer('bytes'),
  createdAt: integer('created_at').notNull(),
}, (t) => [index('evidence_record').on(t.recordKind, t.recordId), uniqueIndex('evidence_source').on(t.platform, t.messageId, t.fileKey)]);

/**
 * A half-read record waiting for one answer (README "How the bot reads what cadres type"): what was understood so far and the field
 * asked for. One per cadre and chat; expires after 30 minutes; the record it becomes is written
 * in the same transaction that deletes it.
 */
export const drafts = sqliteTable('drafts', {
  platform: text('platform').notNull(),
  chatId: text('chat_id').notNull(),
  senderId: text('sender_id').notNull(),
  command: text('command').notNull(),
  /** Canonical raw strings per argument key (JSON). */
  raw: text('raw').notNull(),
  /** The questions still open, the first being asked now (JSON). */
  asks: text('asks').notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
}, (t) => [primaryKey({ columns: [t.platform, t.chatId, t.senderId] })]);

/** Audit of /修改: every field a cadre corrected on their own record, with the old and new value. */
export const recordEdits = sqliteTable('record_edits', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  recordKind: text('record_kind', { enum: ['visit', 'volunteer'] }).notNull(),
  recordId: integer('record_id').notNull(),
  cadreId: integer('cadre_id').notNull(),
  field: text('field').notNull(),
  oldValue: text('old_value'),
  newValue: text('new_value'),
  at: integer('at').notNull(),
}, (t) => [index('record_edits_record').on(t.recordKind, t.recordId)]);

/**
 * Audit of household transfers: a household moves from one cadre to another only by a lead's act
 * (/联系户 转交), and each move is a row here — who held it, who holds it now, who decided.
 */
export const householdTransfers = sqliteTable('household_transfers', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  householdId: integer('household_id').notNull(),
  fromCadreId: integer('from_cadre_id'),
  toCadreId: integer('to_cadre_id').notNull(),
  byCadreId: integer('by_cadre_id').notNull(),
  at: integer('at').notNull(),
}, (t) => [index('household_transfers_household').on(t.householdId)]);

/**
 * Public links (docs/rules.md#citizens): a citizen's link to one issue (`issue`), or a unit's 公示 page of its
 * results list (`board`). Looked up by the SHA-256 of the token; an issue link's token itself is
 * never stored (only the cadre's reply carries it). A 公示 page is public by intent, so its token
 * is kept (`token`) to show the same link and QR again while it is published.
 */
export const publicLinks = sqliteTable('public_links', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind', { enum: ['issue', 'board'] }).notNull(),
  tokenHash: text('token_hash').notNull(),
  token: text('token'),
  issueId: integer('issue_id'),
  unitId: integer('unit_id'),
  createdBy: integer('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  /** After this instant the link answers 410; null: no end of its own. */
  expiresAt: integer('expires_at'),
  revokedAt: integer('revoked_at'),
  revokedBy: integer('revoked_by'),
}, (t) => [uniqueIndex('public_links_token').on(t.tokenHash), index('public_links_issue').on(t.issueId), index('public_links_unit').on(t.kind, t.unitId)]);
