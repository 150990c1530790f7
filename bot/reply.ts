/**
 * The one outbound type every adapter renders. Handlers address people by cadre id; the router
 * turns that into a platform account before anything leaves the core.
 */

/** A button that opens a form or sends a command, e.g. a reminder's "填报". */
export interface ReplyAction {
  label: string;
  /** The command the button stands for, e.g. '/走访'; platforms with cards open its form. */
  command: string;
  /** The card form to open, when the command has one ('visit', 'volunteer', 'issue'). */
  form?: string;
}

export interface Reply {
  to: 'chat' | 'user';
  /** chat id (to: 'chat') or platform account id (to: 'user'); filled in by the router. */
  target?: string;
  /** Platform of the target; defaults to the platform of the event being answered. */
  platform?: string;
  /** For to: 'user' from handlers and jobs: the cadre to reach. */
  cadreId?: number;
  text: string;
  /** `values`: what was understood so far, filled into the form the card opens (a question's draft). */
  card?: { title: string; fields?: Array<[string, string]>; form?: string; values?: Record<string, string> };
  actions?: ReplyAction[];
  file?: string;
  image?: string;
  /**
   * A chart to draw and attach as `image` when the message is sent (reminders are planned inside
   * a transaction, where nothing slow may happen); filled in by the composition root's enricher.
   */
  chart?: { kind: 'visits' | 'quota' | 'issues'; unitId: number };
}

export const toChat = (text: string, extra: Partial<Reply> = {}): Reply => ({ to: 'chat', text, ...extra });
export const toCadre = (cadreId: number, text: string, extra: Partial<Reply> = {}): Reply =>
  ({ to: 'user', cadreId, text, ...extra });

// Also as people type them: +86 / 86 in front, spaces or dashes between the groups
// (`+86 139 1234 5678` once went through unmasked).
const PHONE = /(?<!\d)((?:\+?86[\s-]?)?1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)/g;

/** 13812345678 → 138****5678: what group chats and logs may show of a citizen's phone (docs/rules.md#masking). */
export function maskPhones(text: string): string {
  return text.replace(PHONE, '$1****$2');
}
