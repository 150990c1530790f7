/**
 * Evidence of records (schema `evidence`, docs/rules.md#evidence): the platform's file key and metadata of a
 * photo, file, voice message or location, attached to a visit, volunteer record or issue.
 */
import type { Db } from './db.js';
import { prepared } from './prepared.js';

export type RecordKind = 'visit' | 'volunteer' | 'issue';
export interface RecordRef { kind: RecordKind; id: number; createdAt: number }

/** The record a message created, if it created one (a command sent with its evidence). */
export function recordOfMessage(db: Db, platform: string, messageId: string): RecordRef | undefined {
  const q = prepared(db, 'evidenceRecordOfMessage', (d) => d.$client.prepare(
    `SELECT kind, id, createdAt FROM (
       SELECT 'visit' AS kind, id, created_at AS createdAt FROM visits WHERE platform = @p AND message_id = @m AND voided_at IS NULL
       UNION ALL SELECT 'volunteer', id, created_at FROM volunteers WHERE platform = @p AND message_id = @m AND voided_at IS NULL
       UNION ALL SELECT 'issue', id, created_at FROM issues WHERE platform = @p AND message_id = @m AND voided_at IS NULL)
     ORDER BY createdAt DESC LIMIT 1`));
  return q.get({ p: platform, m: messageId }) as RecordRef | undefined;
}

/** The cadre's newest record created at or after `since` (evidence sent after it attaches to it). */
export function latestRecordBy(db: Db, cadreId: number, since: number): RecordRef | undefined {
  const q = prepared(db, 'evidenceLatestRecord', (d) => d.$client.prepare(
    `SELECT kind, id, createdAt FROM (
       SELECT 'visit' AS kind, id, created_at AS createdAt FROM visits WHERE cadre_id = @c AND created_at >= @s AND voided_at IS NULL
       UNION ALL SELECT 'volunteer', id, created_at FROM volunteers WHERE cadre_id = @c AND created_at >= @s AND voided_at IS NULL
       UNION ALL SELECT 'issue', id, created_at FROM issues WHERE reporter_cadre_id = @c AND created_at >= @s AND voided_at IS NULL)
     ORDER BY createdAt DESC, id DESC LIMIT 1`));
  return q.get({ c: cadreId, s: since }) as RecordRef | undefined;
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
export function addEvidence(db: Db, items: NewEvidence[], at: number): number[] {
  const ins = prepared(db, 'evidenceInsert', (d) => d.$client.prepare(
    `INSERT INTO evidence (record_kind, record_id, cadre_id, kind, platform, message_id, file_key, name, meta, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, message_id, file_key) DO NOTHING RETURNING id`));
  const ids: number[] = [];
  for (const e of items) {
    const row = ins.get(e.recordKind, e.recordId, e.cadreId, e.kind, e.platform, e.messageId ?? null, e.fileKey, e.name ?? null,
      e.meta ? JSON.stringify(e.meta) : null, at) as { id: number } | undefined;
    if (row) ids.push(row.id);
  }
  return ids;
}

/** Where the stored bytes of one piece of evidence are (MINQING_EVIDENCE=store). */
export function setEvidenceFile(db: Db, id: number, path: string, bytes: number): void {
  prepared(db, 'evidenceFile', (d) => d.$client.prepare('UPDATE evidence SET path = ?, bytes = ? WHERE id = ?')).run(path, bytes, id);
}

export interface EvidenceRow { id: number; kind: string; platform: string; fileKey: string; name: string | null; meta: string | null; path: string | null; bytes: number | null; messageId: string | null }

export function evidenceOf(db: Db, recordKind: RecordKind, recordId: number): EvidenceRow[] {
  return db.$client.prepare(
    `SELECT id, kind, platform, file_key AS fileKey, name, meta, path, bytes, message_id AS messageId FROM evidence
     WHERE record_kind = ? AND record_id = ? ORDER BY id`).all(recordKind, recordId) as EvidenceRow[];
}
