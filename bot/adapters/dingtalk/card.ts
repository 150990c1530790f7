/**
 * Reply → DingTalk message bodies: text and markdown for the session webhook and the robot API,
 * and the built-in `StandardCard` for interactive cards, whose "填报" button (`actionType:
 * request`) comes back as a card callback. Session webhooks cannot carry interactive cards
 * (dingtalk-stream-sdk-python `chatbot.py`, `reply_card`).
 */
import type { Reply } from '../../reply.js';
import type { FormSpec, Forms } from '../common.js';
import { FORM_BUTTON } from './decode.js';

const T = {
  defaultTitle: '民情',
  fill: '填报',
  orSend: (usage: string) => `发送 ${usage}`,
  guide: (s: FormSpec) => [
    `填报${s.title.replace(/^记录/, '')}：请按以下格式发送一条消息。`,
    `格式：${s.usage}`,
    ...s.fields.map((f) => `· ${f.label}${f.required ? '' : '（可省略）'}：${f.hint}`),
    ...(s.example ? [`例如：${s.example}`] : []),
  ].join('\n'),
  unknownForm: (form: string) => `没有名为「${form}」的表单，请发送 /帮助 查看命令。`,
};
export { T as CARD_TEXTS };

/** The markdown body of a reply with a card: text, fields, and what the buttons stand for. */
export function replyMarkdown(r: Reply, forms: Forms): { title: string; text: string } {
  const lines = [r.text];
  for (const [k, v] of r.card?.fields ?? []) lines.push(`- **${k}**：${v}`);
  for (const a of r.actions ?? []) {
    const spec = a.form ? forms[a.form] : undefined;
    lines.push(`> ${a.label}：${T.orSend(spec?.usage ?? a.command)}`);
  }
  return { title: r.card?.title ?? T.defaultTitle, text: lines.filter(Boolean).join('\n\n') };
}

/** The forms a reply offers, from its card and its actions, each once. */
export function formsOf(r: Reply, forms: Forms): string[] {
  const names = [r.card?.form, ...(r.actions ?? []).map((a) => a.form)].filter((f): f is string => !!f && !!forms[f]);
  return [...new Set(names)];
}

/** `cardData` of a StandardCard (card-builder JSON) with one request button per form. */
export function standardCard(r: Reply, forms: Forms): Record<string, unknown> {
  const contents: Record<string, unknown>[] = [{ type: 'markdown', text: r.text, id: 'mq_text' }];
  for (const [i, [k, v]] of (r.card?.fields ?? []).entries()) contents.push({ type: 'markdown', text: `**${k}**：${v}`, id: `mq_field_${i}` });
  const actions = formsOf(r, forms).map((form) => ({
    type: 'button',
    label: { type: 'text', text: r.actions?.find((a) => a.form === form)?.label || T.fill, id: `mq_label_${form}` },
    actionType: 'request',
    status: 'primary',
    id: `${FORM_BUTTON}${form}`,
  }));
  if (actions.length) contents.push({ type: 'action', actions, id: 'mq_actions' });
  return {
    config: { autoLayout: true, enableForward: true },
    header: { title: { type: 'text', text: r.card?.title ?? T.defaultTitle } },
    contents,
  };
}

/** The reply to a "填报" click: how to fill the form in by message. */
export function formGuide(forms: Forms, form: string): string {
  const spec = forms[form];
  return spec ? T.guide(spec) : T.unknownForm(form);
}
