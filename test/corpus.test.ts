/**
 * The natural-input corpus (test/corpus/README.md): every line is sent to a fresh copy of the
 * corpus world and the database is compared with what the line must produce. A wrong record —
 * stored or changed where the line expects a question or a refusal, or stored with other fields —
 * fails the line. The share understood per category is printed, and must stay above a floor.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { buildWorld, WORLD_CLOCK } from './corpus-world.js';

type Fields = Record<string, unknown>;
type Expect = { visit: Fields } | { volunteer: Fields } | { issue: Fields } | { issueChange: Fields } | { edit: Fields }
  | { ask: string } | { refuse: true };
interface Line { id: string; cat: string; user?: string; group?: boolean; at?: string; text: string; expect: Expect; answer?: string; then?: Expect }

const dir = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const lines: Line[] = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()
  .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Line));

// The corpus names what is asked for; some commands call the same thing by another key.
const ASK_KEYS: Record<string, string[]> = { deadline: ['deadline', 'until'], reason: ['reason', 'note'], duration: ['duration'] };

const world = buildWorld();
const tally = new Map<string, { n: number; ok: number; asked: number; wrong: number }>();

interface Snapshot { visits: string; volunteers: string; issues: string; edits: number; events: number }
function snapshot(chat: Chat): Snapshot {
  const all = (sql: string) => JSON.stringify(chat.db.$client.prepare(sql).all());
  return {
    visits: all('SELECT * FROM visits WHERE voided_at IS NULL ORDER BY id'),
    volunteers: all('SELECT * FROM volunteers WHERE voided_at IS NULL ORDER BY id'),
    issues: all('SELECT * FROM issues WHERE voided_at IS NULL ORDER BY id'),
    edits: chat.count('record_edits'),
    events: chat.count('issue_events'),
  };
}
const same = (a: Snapshot, b: Snapshot) => JSON.stringify(a) === JSON.stringify(b);

/** Differences between what the database holds and what the line expects; [] when it matches. */
function check(chat: Chat, before: Snapshot, e: Expect): string[] {
  const db = chat.db.$client;
  const row = (sql: string, ...p: unknown[]) => db.prepare(sql).get(...p) as Record<string, unknown> | undefined;
  const compare = (got: Record<string, unknown> | undefined, want: Fields, names: Record<string, string>): string[] => {
    if (!got) return ['no record written'];
    const out: string[] = [];
    for (const [k, v] of Object.entries(want)) {
      if (k.endsWith('Has')) {
        const col = names[k] ?? k.replace(/Has$/, '');
        if (!String(got[col] ?? '').includes(String(v))) out.push(`${col} «${got[col]}» lacks «${v}»`);
        continue;
      }
      const col = names[k] ?? k;
      let g = got[col];
      if (typeof v === 'boolean' && typeof g === 'number') g = g === 1;
      if (g !== v && !(typeof v === 'number' && Math.abs(Number(g) - v) < 0.01)) out.push(`${k}: got ${JSON.stringify(g)}, want ${JSON.stringify(v)}`);
    }
    return out;
  };
  if ('ask' in e || 'refuse' in e) return same(before, snapshot(chat)) ? [] : ['the database changed'];
  const maxId = (json: string) => Math.max(0, ...(JSON.parse(json) as Array<{ id: number }>).map((r) => r.id));
  if ('visit' in e) {
    const id = maxId(before.visits);
    const n = (db.prepare('SELECT count(*) AS n FROM visits WHERE id > ?').get(id) as { n: number }).n;
    if (n !== 1) return [`${n} visits written`];
    return compare(row('SELECT * FROM visits WHERE id > ?', id), e.visit, { timeOfDay: 'time_of_day', contentHas: 'content' });
  }
  if ('volunteer' in e) {
    const id = maxId(before.volunteers);
    const n = (db.prepare('SELECT count(*) AS n FROM volunteers WHERE id > ?').get(id) as { n: number }).n;
    if (n !== 1) return [`${n} volunteer records written`];
    return compare(row('SELECT * FROM volunteers WHERE id > ?', id), e.volunteer, { activityHas: 'activity' });
  }
  if ('issue' in e) {
    const id = maxId(before.issues);
    const got = row('SELECT i.*, c.name AS responsible FROM issues i JOIN cadres c ON c.id = i.responsible_cadre_id WHERE i.id > ?', id);
    return compare(got, e.issue, { descriptionHas: 'description' });
  }
  if ('issueChange' in e) {
    const { id, ...want } = e.issueChange;
    const got = row('SELECT * FROM issues WHERE id = ?', id);
    const out = compare(got, want, { superviseCount: 'supervise_count' });
    if (same(before, snapshot(chat))) out.push('nothing changed');
    return out;
  }
  const { ref, ...want } = (e as { edit: Fields }).edit;
  const [t, id] = [String(ref)[0], Number(String(ref).slice(1))];
  const got = row(`SELECT * FROM ${t === 'V' ? 'visits' : 'volunteers'} WHERE id = ?`, id);
  const out = compare(got, want, { timeOfDay: 'time_of_day' });
  if (chat.count('record_edits') <= before.edits) out.push('no audit row');
  return out;
}

function askedFor(chat: Chat, user: string, chatId: string): string | undefined {
  const r = chat.db.$client.prepare('SELECT asks FROM drafts WHERE sender_id = ? AND chat_id = ?').get(user, chatId) as { asks: string } | undefined;
  return r ? (JSON.parse(r.asks) as Array<{ key: string }>)[0]?.key : undefined;
}

type Outcome = 'ok' | 'asked' | 'wrong' | 'missed';

async function run(line: Line): Promise<{ outcome: Outcome; detail: string }> {
  const chat = new Chat({}, world);
  chat.at = line.at ?? WORLD_CLOCK;
  const user = line.user ?? 'u2';
  const chatId = line.group ? 'g1' : user;
  try {
    const step = async (text: string, e: Expect, id: string): Promise<{ outcome: Outcome; detail: string }> => {
      const before = snapshot(chat);
      const replies = await chat.says(user, text, { group: line.group, id });
      const reply = replies.map((r) => r.text).join(' / ');
      const changed = !same(before, snapshot(chat));
      if (!reply.trim()) return { outcome: 'missed', detail: 'no reply' };
      if ('ask' in e) {
        const asked = askedFor(chat, user, chatId);
        const want = ASK_KEYS[e.ask] ?? [e.ask];
        if (changed) return { outcome: 'wrong', detail: `recorded instead of asking ${e.ask}: ${reply}` };
        return asked && want.includes(asked) ? { outcome: 'ok', detail: reply } : { outcome: 'missed', detail: `asked ${asked ?? 'nothing'}, want ${e.ask}: ${reply}` };
      }
      if ('refuse' in e) {
        if (changed) return { outcome: 'wrong', detail: `recorded instead of refusing: ${reply}` };
        return { outcome: 'ok', detail: reply };
      }
      const diff = check(chat, before, e);
      if (!diff.length) return { outcome: 'ok', detail: reply };
      if (!changed) return { outcome: askedFor(chat, user, chatId) ? 'asked' : 'missed', detail: `${diff.join('; ')}: ${reply}` };
      return { outcome: 'wrong', detail: `${diff.join('; ')}: ${reply}` };
    };
    const first = await step(line.text, line.expect, `${line.id}-1`);
    if (first.outcome !== 'ok' || !('ask' in line.expect) || !line.answer || !line.then) return first;
    return await step(line.answer, line.then, `${line.id}-2`);
  } finally {
    chat.close();
  }
}

describe('natural-input corpus', () => {
  it.each(lines.map((l) => [l.id, l] as const))('%s', async (_id, line) => {
    const { outcome, detail } = await run(line);
    const t = tally.get(line.cat) ?? { n: 0, ok: 0, asked: 0, wrong: 0 };
    t.n++;
    if (outcome === 'ok') t.ok++;
    if (outcome === 'asked') t.asked++;
    if (outcome === 'wrong') t.wrong++;
    tally.set(line.cat, t);
    if (outcome !== 'ok' && process.env.CORPUS_VERBOSE) console.log(`${line.id} [${outcome}] ${line.text.replace(/\n/g, '⏎')}\n    ${detail}`);
    // A wrong record is the one outcome never allowed.
    expect(outcome === 'wrong' ? `${line.text} → ${detail}` : 'not wrong').toBe('not wrong');
  });

  it('understands at least 90% of the corpus, and every line answers', () => {
    const all = [...tally.values()].reduce((a, t) => ({ n: a.n + t.n, ok: a.ok + t.ok, asked: a.asked + t.asked, wrong: a.wrong + t.wrong }), { n: 0, ok: 0, asked: 0, wrong: 0 });
    expect(all.n).toBe(lines.length);
    expect(all.ok / all.n).toBeGreaterThanOrEqual(0.9);
  });

  afterAll(() => {
    const families = new Map<string, { n: number; ok: number; asked: number; wrong: number }>();
    for (const [cat, t] of tally) {
      for (const key of [cat.split('/')[0], `*/${cat.split('/')[1]}`, 'all']) {
        const f = families.get(key) ?? { n: 0, ok: 0, asked: 0, wrong: 0 };
        f.n += t.n; f.ok += t.ok; f.asked += t.asked; f.wrong += t.wrong;
        families.set(key, f);
      }
    }
    const pct = (a: number, n: number) => `${((100 * a) / n).toFixed(1)}%`;
    console.log(['corpus: category            lines  understood  asked-instead  wrong',
      ...[...families].sort(([a], [b]) => (a === 'all' ? 1 : b === 'all' ? -1 : a.localeCompare(b)))
        .map(([k, t]) => `corpus: ${k.padEnd(20)} ${String(t.n).padStart(5)}  ${pct(t.ok, t.n).padStart(10)}  ${String(t.asked).padStart(13)}  ${String(t.wrong).padStart(5)}`)].join('\n'));
    rmSync(dirname(world), { recursive: true, force: true });
  });
});
