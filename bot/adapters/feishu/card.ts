/**
 * Reply → Feishu card (JSON 2.0). A reply with `card`/`actions` becomes an interactive card whose
 * "填报" button opens the command's form in place (the callback answers with the form card);
 * the form submits its inputs named by argument key, which the router maps back to the command.
 *
 * Card JSON 2.0: https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
 * Form container: https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container
 */
import type { Reply } from '../../reply.js';
import type { FormSpec, Forms } from '../common.js';
import type { CardValue } from './decode.js';

const T = {
  defaultTitle: '民情',
  fill: '填报',
  submit: '提交',
  formTitle: (s: FormSpec) => `填报：${s.title}`,
  formNote: (s: FormSpec) => `也可直接发送命令：${s.usage}${s.example ? `\n例如：${s.example}` : ''}`,
  unknownForm: (form: string) => `没有名为「${form}」的表单，请直接发送命令填报，或发送 /帮助 查看命令。`,
  received: '已收到，正在处理。',
  inDirect: (s: FormSpec) => `你在群里点了「${s.title}」的填报：请在这里填写，填好的内容只有你和机器人看得到。`,
  sentToDirect: '填报表单已私信发给你，请到与机器人的单聊中填写。',
};
export { T as CARD_TEXTS };

const plain = (content: string) => ({ tag: 'plain_text', content });

function button(label: string, value: CardValue, primary = true): Record<string, unknown> {
  return { tag: 'button', text: plain(label), type: primary ? 'primary' : 'default', behaviors: [{ type: 'callback', value }] };
}

/** The card for a reply that has a card or action buttons. */
export function replyCard(r: Reply, o: { forms: Forms; direct: boolean }): Record<string, unknown> {
  const elements: Record<string, unknown>[] = [];
  if (r.text) elements.push({ tag: 'markdown', content: r.text });
  if (r.card?.fields?.length) elements.push({ tag: 'markdown', content: r.card.fields.map(([k, v]) => `**${k}**：${v}`).join('\n') });
  const buttons: Record<string, unknown>[] = [];
  const forms = new Set<string>();
  if (r.card?.form && o.forms[r.card.form]) {
    forms.add(r.card.form);
    buttons.push(button(T.fill, { minqing: 'open', form: r.card.form, direct: o.direct, ...(r.card.values ? { values: r.card.values } : {}) }));
  }
  for (const a of r.actions ?? []) {
    if (a.form && o.forms[a.form]) {
      if (forms.has(a.form)) continue;
      forms.add(a.form);
      buttons.push(button(a.label || T.fill, { minqing: 'open', form: a.form, direct: o.direct }));
    } else {
      buttons.push(button(a.label, { minqing: 'command', command: a.command, direct: o.direct }, false));
    }
  }
  if (buttons.length) elements.push({ tag: 'column_set', columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })) });
  return {
    schema: '2.0',
    config: { update_multi: true },
    header: { title: plain(r.card?.title ?? T.defaultTitle), template: 'blue' },
    body: { elements },
  };
}

/** The form card a "填报" click opens: one input per argument, named by its key. */
export function formCard(spec: FormSpec, direct: boolean, values: Record<string, string> = {}): Record<string, unknown> {
  const inputs = spec.fields.map((f) => ({
    tag: 'input',
    name: f.name,
    required: f.required,
    label: plain(f.label),
    label_position: 'top',
    placeholder: plain(f.hint.slice(0, 100)),
    max_length: f.multiline ? 1000 : 100,
    // What a question's draft already understood is filled in; the cadre adds the rest.
    ...(values[f.name] ? { default_value: values[f.name] } : {}),
    ...(f.multiline ? { input_type: 'multiline_text', rows: 3, auto_resize: true } : {}),
  }));
  return {
    schema: '2.0',
    config: { update_multi: true },
    header: { title: plain(T.formTitle(spec)), template: 'blue' },
    body: {
      elements: [
        {
          tag: 'form',
          name: `minqing_${spec.form}`,
          elements: [
            ...inputs,
            {
              tag: 'button', name: 'submit', text: plain(T.submit), type: 'primary', form_action_type: 'submit',
              behaviors: [{ type: 'callback', value: { minqing: 'submit', form: spec.form, direct } satisfies CardValue }],
            },
          ],
        },
        { tag: 'markdown', content: T.formNote(spec), text_size: 'notation' },
      ],
    },
  };
}

/** The callback answer that replaces the clicked card with the form (or says why not). */
export function openFormResponse(forms: Forms, form: string, direct: boolean, values?: Record<string, string>): Record<string, unknown> {
  const spec = forms[form];
  if (!spec) return { toast: { type: 'error', content: T.unknownForm(form) } };
  return { card: { type: 'raw', data: formCard(spec, direct, values) } };
}

/**
 * A "填报" click in a group: JSON 2.0 cards are shared, so answering with the form would replace
 * the card for everyone. The clicker gets the form in a direct message instead (a card whose
 * button opens it in place, there), and the group card stays as it was.
 */
export function formInDirect(forms: Forms, form: string, operator: string, platform: string, values?: Record<string, string>): Reply | undefined {
  const spec = forms[form];
  if (!spec) return undefined;
  return { to: 'user', target: operator, platform, text: T.inDirect(spec), card: { title: T.formTitle(spec), form, ...(values ? { values } : {}) } };
}

/** The callback answer in the group: a toast for the clicker only, no card (it stays intact). */
export function sentToDirectResponse(): Record<string, unknown> {
  return { toast: { type: 'info', content: T.sentToDirect } };
}

/** The callback answer to a submission: the first line of the reply, or "received" while it runs. */
export function submitResponse(replies: Reply[] | undefined): Record<string, unknown> {
  const first = replies?.find((r) => r.text)?.text.split('\n')[0];
  return { toast: { type: 'info', content: (first ?? T.received).slice(0, 100) } };
}
