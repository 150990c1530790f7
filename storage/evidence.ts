/**
 * Evidence of records (schema `evidence`, docs/rules.md#evidence): the platform's file key and metadata of a
 * photo, file, voice message or location, attached to a visit, volunteer record or issue.
 */
import type { Db } from './db.js';

export type RecordKind = 'visit' | 'volunteer' | 'issue';
export interface RecordRef { kind: RecordKind; id: number; createdAt: number }

/** The record a message created, if it created one (a command sent with its evidence). */
export function recordOfMessage(db: Db, cadreId: number, platform: string, messageId: string): Promise<RecordRef | undefined> {
  // Through the cadre's own records (visits_cadre, volunteers_cadre): no index leads from a message
  // id to a visit, and a county's visits read whole took ~100 ms inside the group commit.
  return db.get<RecordRef>(
    `SELECT kind, id, "createdAt" FROM (
       SELECT 'visit' AS kind, id, created_at AS "createdAt" FROM visits WHERE cadre_id = ? AND platform = ? AND message_id = ? AND voided_at IS NULL
       UNION ALL SELECT 'volunteer', id, created_at FROM volunteers WHERE cadre_id = ? AND platform = ? AND message_id = ? AND voided_at IS NULL
       UNION ALL SELECT 'issue', id, created_at FROM issues WHERE reporter_cadre_id = ? AND platform = ? AND message_id = ? AND voided_at IS NULL) r
     ORDER BY "createdAt" DESC LIMIT 1`, [cadreId, platform, messageId, cadreId, platform, messageId, cadreId, platform, messageId]);
}

/** The cadre's newest record created at or after `since` (evidence sent after it attaches to it). */
export function latestRecordBy(db: Db, cadreId: number, since: number): Promise<RecordRef | undefined> {
  return db.get<RecordRef>(
    `SELECT kind, id, "createdAt" FROM (
       SELECT 'visit' AS kind, id, created_at AS "createdAt" FROM visits WHERE cadre_id = ? AND created_at >= ? AND voided_at IS NULL
       UNION ALL SELECT 'volunteer', id, created_at FROM volunteers WHERE cadre_id = ? AND created_at >= ? AND voided_at IS NULL
       UNION ALL SELECT 'issue', id, created_at FROM issues WHERE reporter_cadre_id = ? AND created_at >= ? AND voided_at IS NULL) r
     ORDER BY "createdAt" DESC, id DESC LIMIT 1`, [cadreId, since, cadreId, since, cadreId, since]);
}

export interface NewEvidence {
  recordKind: RecordKind;
  recordId: number;
  cadreId: number;
  kind: string;
  platform: string;
  messageId?: string;
  fileKey: string;
  name?: string;
  meta?: Record<string, unknown>;
}

/** Attaches what is not attached yet (a redelivered message attaches nothing twice); returns the new ids. */
export async function addEvidence(db: Db, items: NewEvidence[], at: number): Promise<number[]> {
  const ids: number[] = [];
  for (const e of items) {
    const id = await db.value<number>(`INSERT INTO evidence (record_kind, record_id, cadre_id, kind, platform, message_id, file_key, name, meta, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, message_id, file_key) DO NOTHING RETURNING id`,
    [e.recordKind, e.recordId, e.cadreId, e.kind, e.platform, e.messageId ?? null, e.fileKey, e.name ?? null, e.meta ? JSON.stringify(e.meta) : null, at]);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** Where the stored bytes of one piece of evidence are (MINQING_EVIDENCE=store). */
export async function setEvidenceFile(db: Db, id: number, path: string, bytes: number): Promise<void> {
  await db.run('UPDATE evidence SET path = ?, bytes = ? WHERE id = ?', [path, bytes, id]);
}

export interface EvidenceRow { id: number; kind: string; platform: string; fileKey: string; name: string | null; meta: string | null; path: string | null; bytes: number | null; messageId: string | null }

export function evidenceOf(db: Db, recordKind: RecordKind, recordId: number): Promise<EvidenceRow[]> {
  return db.all<EvidenceRow>(
    `SELECT id, kind, platform, file_key AS "fileKey", name, meta, path, bytes, message_id AS "messageId" FROM evidence
     WHERE record_kind = ? AND record_id = ? ORDER BY id`, [recordKind, recordId]);
}
