/**
 * The natural-input corpus (test/corpus/README.md): every line is sent to a fresh copy of the
 * corpus world and the database is compared with what the line must produce. A wrong record —
 * stored or changed where the line expects a question or a refusal, or stored with other fields —
 * fails the line. The share understood per category is printed, and must stay above a floor.
 *
 * SQLite only, whatever the suite runs on: the world is a SQLite file copied per line
 * (`Chat.create({}, world)`), and what is tested is the reader, not the database.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Chat } from './chat.js';
import { buildWorld, WORLD_CLOCK } from './corpus-world.js';
import { oneWhere, rowsWhere } from './db-probe.js';
import { cadres, drafts, issues, visits, volunteers } from '../storage/schema.js';

type Fields = Record<string, unknown>;
type Expect = { visit: Fields } | { volunteer: Fields } | { issue: Fields } | { issueChange: Fields } | { edit: Fields }
  | { ask: string } | { refuse: true };
interface Line { id: string; cat: string; user?: string; group?: boolean; at?: string; text: string; expect: Expect; answer?: string; then?: Expect }

const dir = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const lines: Line[] = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()
  .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Line));

// The corpus names what is asked for; some commands call the same thing by another key.
const ASK_KEYS: Record<string, string[]> = { deadline: ['deadline', 'until'], reason: ['reason', 'note'], duration: ['duration'], intent: [''] };

const world = await buildWorld();
const tally = new Map<string, { n: number; ok: number; asked: number; wrong: number }>();

interface Snapshot { visits: string; volunteers: string; issues: string; edits: number; events: number }
async function snapshot(chat: Chat): Promise<Snapshot> {
  const live = { voidedAt: null };
  return {
    visits: JSON.stringify(await rowsWhere(chat.db, visits, live, 'id')),
    volunteers: JSON.stringify(await rowsWhere(chat.db, volunteers, live, 'id')),
    issues: JSON.stringify(await rowsWhere(chat.db, issues, live, 'id')),
    edits: await chat.count('recordEdits'),
    events: await chat.count('issueEvents'),
  };
}
const same = (a: Snapshot, b: Snapshot) => JSON.stringify(a) === JSON.stringify(b);

/** Differences between what the database holds and what the line expects; [] when it matches. */
async function check(chat: Chat, before: Snapshot, e: Expect): Promise<string[]> {
  const db = chat.db;
  // Rows come keyed like the schema (camelCase), as the corpus names the fields.
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
  if ('ask' in e || 'refuse' in e) return same(before, await snapshot(chat)) ? [] : ['the database changed'];
  const maxId = (json: string) => Math.max(0, ...(JSON.parse(json) as Array<{ id: number }>).map((r) => r.id));
  if ('visit' in e) {
    const id = maxId(before.visits);
    const added = (await rowsWhere(db, visits, {}, 'id')).filter((v) => v.id > id);
    const n = added.length;
    if (n !== 1) return [`${n} visits written`];
    return compare(added[0], e.visit, { contentHas: 'content' });
  }
  if ('volunteer' in e) {
    const id = maxId(before.volunteers);
    const added = (await rowsWhere(db, volunteers, {}, 'id')).filter((v) => v.id > id);
    const n = added.length;
    if (n !== 1) return [`${n} volunteer records written`];
    return compare(added[0], e.volunteer, { activityHas: 'activity' });
  }
  if ('issue' in e) {
    const id = maxId(before.issues);
    const i = (await rowsWhere(db, issues, {}, 'id')).find((x) => x.id > id);
    const responsible = i && (await oneWhere(db, cadres, { id: i.responsibleCadreId }));
    const got = i && responsible ? { ...i, responsible: responsible.name } : undefined;
    return compare(got, e.issue, { descriptionHas: 'description' });
  }
  if ('issueChange' in e) {
    const { id, ...want } = e.issueChange;
    const got = await oneWhere(db, issues, { id });
    const out = compare(got, want, {});
    if (same(before, await snapshot(chat))) out.push('nothing changed');
    return out;
  }
  const { ref, ...want } = (e as { edit: Fields }).edit;
  const [t, id] = [String(ref)[0], Number(String(ref).slice(1))];
  const got = await oneWhere(db, t === 'V' ? visits : volunteers, { id });
  const out = compare(got, want, {});
  if (await chat.count('recordEdits') <= before.edits) out.push('no audit row');
  return out;
}

async function askedFor(chat: Chat, user: string, chatId: string): Promise<string | undefined> {
  const r = await oneWhere(chat.db, drafts, { senderId: user, chatId });
  return r ? (JSON.parse(r.asks) as Array<{ key: string }>)[0]?.key : undefined;
}

type Outcome = 'ok' | 'asked' | 'wrong' | 'missed';

async function run(line: Line): Promise<{ outcome: Outcome; detail: string }> {
  const chat = await Chat.create({}, world);
  chat.at = line.at ?? WORLD_CLOCK;
  const user = line.user ?? 'u2';
  const chatId = line.group ? 'g1' : user;
  try {
    const step = async (text: string, e: Expect, id: string): Promise<{ outcome: Outcome; detail: string }> => {
      const before = await snapshot(chat);
      const replies = await chat.says(user, text, { group: line.group, id });
      const reply = replies.map((r) => r.text).join(' / ');
      const changed = !same(before, await snapshot(chat));
      if (!reply.trim()) return { outcome: 'missed', detail: 'no reply' };
      if ('ask' in e) {
        const asked = await askedFor(chat, user, chatId);
        const want = ASK_KEYS[e.ask] ?? [e.ask];
        if (changed) return { outcome: 'wrong', detail: `recorded instead of asking ${e.ask}: ${reply}` };
        return asked !== undefined && want.includes(asked) ? { outcome: 'ok', detail: reply } : { outcome: 'missed', detail: `asked ${asked ?? 'nothing'}, want ${e.ask}: ${reply}` };
      }
      if ('refuse' in e) {
        if (changed) return { outcome: 'wrong', detail: `recorded instead of refusing: ${reply}` };
        return { outcome: 'ok', detail: reply };
      }
      const diff = await check(chat, before, e);
      if (!diff.length) return { outcome: 'ok', detail: reply };
      if (!changed) return { outcome: (await askedFor(chat, user, chatId)) ? 'asked' : 'missed', detail: `${diff.join('; ')}: ${reply}` };
      return { outcome: 'wrong', detail: `${diff.join('; ')}: ${reply}` };
    };
    const first = await step(line.text, line.expect, `${line.id}-1`);
    if (first.outcome !== 'ok' || !('ask' in line.expect) || !line.answer || !line.then) return first;
    return await step(line.answer, line.then, `${line.id}-2`);
  } finally {
    await chat.close();
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
