/** Drafts: a half-read record waiting for the cadre's answer (schema `drafts`). */
import type { Db } from './db.js';

export interface Draft {
  platform: string;
  chatId: string;
  senderId: string;
  command: string;
  raw: Record<string, string>;
  asks: Array<{ key: string; why: 'missing' | 'several' | 'guess' | 'intent'; options?: string[]; note?: string }>;
  createdAt: number;
  expiresAt: number;
}

interface Row { platform: string; chat_id: string; sender_id: string; command: string; raw: string; asks: string; created_at: number; expires_at: number }

/** The live draft of this sender in this chat, if any (an expired one is as good as none). */
export async function draftOf(db: Db, platform: string, chatId: string, senderId: string, now: number): Promise<Draft | undefined> {
  const r = await db.get<Row>('SELECT platform, chat_id, sender_id, command, raw, asks, created_at, expires_at FROM drafts WHERE platform = ? AND chat_id = ? AND sender_id = ? AND expires_at > ?',
    [platform, chatId, senderId, now]);
  return r && {
    platform: r.platform, chatId: r.chat_id, senderId: r.sender_id, command: r.command,
    raw: JSON.parse(r.raw) as Record<string, string>, asks: JSON.parse(r.asks) as Draft['asks'], createdAt: r.created_at, expiresAt: r.expires_at,
  };
}

/** Keeps one draft per sender and chat: a new question replaces the old draft. */
export async function saveDraft(db: Db, d: Draft): Promise<void> {
  await db.run(
    `INSERT INTO drafts (platform, chat_id, sender_id, command, raw, asks, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (platform, chat_id, sender_id) DO UPDATE SET command = excluded.command, raw = excluded.raw, asks = excluded.asks,
       created_at = excluded.created_at, expires_at = excluded.expires_at`,
    [d.platform, d.chatId, d.senderId, d.command, JSON.stringify(d.raw), JSON.stringify(d.asks), d.createdAt, d.expiresAt]);
}

/** Drops the sender's draft in this chat; true when there was a live one. */
export async function dropDraft(db: Db, platform: string, chatId: string, senderId: string, now: number): Promise<boolean> {
  const rows = await db.all<{ expires_at: number }>('DELETE FROM drafts WHERE platform = ? AND chat_id = ? AND sender_id = ? RETURNING expires_at', [platform, chatId, senderId]);
  return rows.some((r) => r.expires_at > now);
}

/** Drops the sender's draft in this chat if it only asks whether a record is meant (bot/router.ts). */
export async function dropIntentDraft(db: Db, platform: string, chatId: string, senderId: string, now: number): Promise<void> {
  const d = await draftOf(db, platform, chatId, senderId, now);
  if (d?.asks[0]?.why === 'intent') await dropDraft(db, platform, chatId, senderId, now);
}
