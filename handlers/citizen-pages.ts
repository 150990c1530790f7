/**
 * The public pages (docs/rules.md#citizens), served by the bot's HTTP server:
 * - `GET /c/<token>`: a citizen's issue — state, measures, result and deadline in plain Chinese;
 *   once resolved, a form (plain HTML POST, no script) to rate it;
 * - `POST /c/<token>`: the rating. 不满意 reopens the issue and tells the responsible cadre and the
 *   lead at once through the reply outbox (the same delivery as every reply);
 * - `GET /g/<token>`: a unit's 公示 page of its results list (handlers/public-board.ts);
 * - `GET /web/cjk.otf`: the project's CJK font, so a phone or browser without one still reads it.
 *
 * What a citizen sees is what they told us and what was done, never more: the place and problem
 * as registered, the measures (/进展), the result (/办结), the deadline, and that a lead urged or
 * an issue went to the parent unit — with phone numbers masked as group messages mask them
 * (maskPhones), and no cadre's name or phone. Internal notes (reasons for extension, escalation,
 * 督办 requirements, a lead's refusal) are not shown, only that the step happened.
 *
 * Rate limits (per process, see bot/web/rate-limit.ts): 60 requests a minute per client IP over
 * all pages, 30 a minute per link, 5 ratings an hour per link. A wrong token is 404, a revoked or
 * expired link 410, over a limit 429 — each a short page, never a stack trace.
 */
import type { Logger } from 'pino';
import type { Config } from '../bot/config.js';
import type { HttpRequest, HttpResponse, RouteDef } from '../bot/http-server.js';
import { outgoingOf } from '../bot/outgoing.js';
import { maskPhones, toCadre, type Reply } from '../bot/reply.js';
import { daysBetween, formatDate, localDate, periodOf, shiftPeriod, type LocalDate } from '../bot/time.js';
import { esc, FONT_PATH, fontResponse, page } from '../bot/web/html.js';
import { RateLimiter, type Limit } from '../bot/web/rate-limit.js';
import type { Db } from '../storage/db.js';
import { accountsOf } from '../storage/identity.js';
import { issuesResolvedIn } from '../storage/issue-lists.js';
import { changeIssue, issueById } from '../storage/issues.js';
import { SATISFACTION_NAMES, SATISFACTIONS, type Satisfaction } from '../storage/issue-glossary.js';
import { enqueueReplies } from '../storage/outbox.js';
import { activeLeadersOf, linkByToken, publicEventsOf, type PublicLink } from '../storage/public-links.js';
import { unitById } from '../storage/units.js';
import type { Issue, IssueEvent, Unit } from '../storage/types.js';
import { BOARD_PAGE, ISSUE_PAGE, issueLinkEnded, TOKEN_SHAPE } from './citizen.js';
import { nearestLeaders } from './policy.js';

const WORDS_MAX = 200;
const BOARD_MONTHS = 3;
const BOARD_CAP = 50;

const T = {
  issueTitle: '民情办理进展',
  issueSub: (id: number, unit: string) => `问题编号 ${id} · ${unit}`,
  footer: '本页面由承办单位提供，仅显示您反映的问题及办理情况。请勿转发给他人。',
  state: {
    open: '已受理，等待办理', in_progress: '正在办理', escalated: '已提交上级单位协调办理', resolved: '已办结', closed: '已办结并销号',
  } as Record<Issue['state'], string>,
  problem: '您反映的问题',
  registered: (d: LocalDate) => `${formatDate(d)} 登记`,
  progress: '办理过程',
  deadline: '办理时限',
  due: (d: LocalDate, today: LocalDate) => {
    const left = daysBetween(today, d);
    return left > 0 ? `${formatDate(d)}前办结（还有${left}天）` : left === 0 ? `${formatDate(d)}前办结（今天到期）` : `${formatDate(d)}（已超过时限${-left}天，我们正在抓紧办理）`;
  },
  dueDone: (d: LocalDate, resolved: LocalDate) => `${formatDate(d)}前办结；已于 ${formatDate(resolved)} 办结${resolved <= d ? '（按时）' : ''}`,
  result: '办理结果',
  answered: '承办人已向您答复办理结果。',
  step: {
    register: '问题已登记受理',
    progress: (note: string) => note,
    extend: (to: string | null) => (to ? `办理时限调整为 ${formatDate(to)}` : '办理时限已调整'),
    escalate: '已提交上级单位协调办理',
    supervise: '领导已督办',
    resolve: (result: string) => `办结：${result}`,
    reject: '领导复核后要求继续办理',
    reopen: '群众评价不满意，重新办理',
    citizen_reopen: '您评价不满意，问题重新办理',
    citizen_rate: (r: string) => `您的评价：${r}`,
    close: '领导确认办结，已销号',
  },
  rateTitle: '请您评价办理结果',
  rateHint: '评价会直接交给承办单位。选择“不满意”时，问题会重新办理，并立即通知责任人和负责领导。',
  words: '想说的话（可不填）',
  submit: '提交评价',
  rated: (r: string, at: LocalDate) => `您已于 ${formatDate(at)} 评价：${r}。感谢您的监督！`,
  thanks: '评价已收到，谢谢您！',
  thanksReopen: '评价已收到：问题将重新办理，责任人和负责领导已收到通知。',
  notYet: '问题办结后，您可以在这里评价办理结果。',
  badRating: '请选择一项评价（满意、基本满意、不满意）后再提交。',
  notRateable: '目前不能评价：问题还在办理中，或您已评价过这次的办理结果。',
  notFoundTitle: '链接无效',
  notFound: '没有找到这个页面。请核对链接或二维码是否完整；如有疑问，请联系为您登记问题的工作人员。',
  goneTitle: '链接已停用',
  gone: '这个链接已停用或已过有效期。如需继续了解办理情况，请联系为您登记问题的工作人员。',
  boardGone: '这份公示已撤回。',
  limitTitle: '访问太频繁',
  limit: (s: number) => `访问太频繁，请 ${s} 秒后再试。`,
  faultTitle: '页面暂时无法打开',
  fault: '页面暂时无法打开，请稍后再试。',
  boardTitle: '效果清单公示',
  boardSub: (unit: string) => `${unit}（含下级单位）`,
  boardIntro: '解决一件，答复一件，销号一件，公示一件。以下是近期办结的群众反映问题，欢迎监督。',
  boardMonth: (label: string, n: number) => `${label} 办结 ${n} 件`,
  boardMore: (n: number) => `另有 ${n} 件未列出。`,
  boardEmpty: '近三个月暂无办结的问题。',
  boardLine: (closed: boolean, d: LocalDate, today: LocalDate) => `${d.slice(0, 4) === today.slice(0, 4) ? formatDate(d).slice(5) : formatDate(d)}办结${closed ? '，已销号' : ''}`,
  boardRating: (r: string) => `群众评价：${r}`,
  boardFooter: (at: string) => `数据实时更新 · ${at}`,
  notice: {
    reopen: (i: Issue, words: string) => `【群众不满意】问题 #${i.id}（${i.place} ${i.description}）的群众通过查看链接评价：不满意${words ? `，意见：${words}` : ''}。问题已重新转为「办理中」，请尽快联系群众、继续办理，完成后再次 /办结 #${i.id}。`,
    rated: (i: Issue, r: string, words: string) => `问题 #${i.id}（${i.place} ${i.description}）的群众通过查看链接评价：${r}${words ? `，意见：${words}` : ''}。`,
  },
};

/** Audit actions a citizen's page shows, and only these. */
const SHOWN = ['register', 'progress', 'extend', 'escalate', 'supervise', 'resolve', 'reject', 'reopen', 'citizen_reopen', 'citizen_rate', 'close'] as const;

export interface PageDeps {
  db: Db;
  config: Config;
  log: Logger;
  now?: () => Date;
  /** Called after a rating wrote messages to the outbox (ReplyDelivery.kick), so they go out at once. */
  onOutbox?: () => void;
  /** The CJK font file served at FONT_PATH (bot/chart.ts findCjkFont). */
  font?: string | null;
  limits?: { ip?: Limit; link?: Limit; rating?: Limit };
}

export const DEFAULT_LIMITS = {
  ip: { max: 60, windowMs: 60_000 },
  link: { max: 30, windowMs: 60_000 },
  rating: { max: 5, windowMs: 3_600_000 },
} satisfies Record<string, Limit>;

/** The routes of the public pages, for the bot's HTTP server. */
export function publicPageRoutes(d: PageDeps): RouteDef[] {
  const now = d.now ?? (() => new Date());
  const clock = () => now().getTime();
  const byIp = new RateLimiter(d.limits?.ip ?? DEFAULT_LIMITS.ip, clock);
  const byLink = new RateLimiter(d.limits?.link ?? DEFAULT_LIMITS.link, clock);
  const byRating = new RateLimiter(d.limits?.rating ?? DEFAULT_LIMITS.rating, clock);

  /** The checks every page shares; a response when the request stops here, else the link. */
  const gate = async (req: HttpRequest, prefix: string, kind: PublicLink['kind'], post = false): Promise<HttpResponse | PublicLink> => {
    const wait = byIp.take(`ip:${clientIp(req, d.config.MINQING_TRUST_PROXY)}`);
    if (wait) return limited(wait);
    const token = req.path.slice(prefix.length);
    if (!TOKEN_SHAPE.test(token)) return notFound();
    const linkWait = byLink.take(`link:${token}`) || (post ? byRating.take(`rate:${token}`) : 0);
    if (linkWait) return limited(linkWait);
    const link = await linkByToken(d.db, token);
    if (!link || link.kind !== kind) return notFound();
    if (link.revokedAt !== null || (link.expiresAt !== null && link.expiresAt <= clock())) return gone(kind);
    return link;
  };

  const safely = (what: string, fn: (req: HttpRequest) => Promise<HttpResponse> | HttpResponse) => async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      return await fn(req);
    } catch (err) {
      d.log.error({ err, page: what }, 'public page failed');
      return page({ status: 500, title: T.faultTitle, body: `<section><p>${esc(T.fault)}</p></section>` });
    }
  };

  /** `db`: the handle, or the rating's transaction. */
  const issueOf = async (db: Db, link: PublicLink): Promise<Issue | HttpResponse> => {
    const i = link.issueId === null ? undefined : await issueById(db, link.issueId);
    if (!i) return notFound();
    if (i.voidedAt !== null || issueLinkEnded(i, clock())) return gone('issue');
    return i;
  };

  return [
    { method: 'GET', path: `${ISSUE_PAGE}*`, handler: safely('issue', async (req) => {
      const link = await gate(req, ISSUE_PAGE, 'issue');
      if (!('kind' in link)) return link;
      const i = await issueOf(d.db, link);
      if (!('id' in i)) return i;
      const ok = req.query.get('ok');
      return issuePage(d.db, i, localDate(now(), d.config.MINQING_TZ), d.config.MINQING_TZ, ok === 'reopen' ? T.thanksReopen : ok ? T.thanks : undefined);
    }) },
    { method: 'POST', path: `${ISSUE_PAGE}*`, handler: safely('rate', async (req) => {
      const link = await gate(req, ISSUE_PAGE, 'issue', true);
      if (!('kind' in link)) return link;
      const form = new URLSearchParams(req.body.toString('utf8'));
      const rating = form.get('rating') as Satisfaction | null;
      const words = cleanWords(form.get('words') ?? '');
      const today = localDate(now(), d.config.MINQING_TZ);
      if (!rating || !SATISFACTIONS.includes(rating)) {
        const i = await issueOf(d.db, link);
        return 'id' in i ? issuePage(d.db, i, today, d.config.MINQING_TZ, T.badRating, 400) : i;
      }
      // Read, check and write in one transaction: two ratings sent at once count once.
      const outcome = await d.db.withWrite(async (tx): Promise<HttpResponse | Satisfaction> => {
        const i = await issueOf(tx, link);
        if (!('id' in i)) return i;
        if (!rateable(i)) return issuePage(tx, i, today, d.config.MINQING_TZ, T.notRateable, 409);
        await rate(tx, i, rating, words, now(), today);
        return rating;
      });
      if (typeof outcome !== 'string') return outcome;
      d.onOutbox?.();
      return { status: 303, body: '', headers: { Location: `${req.path}?ok=${outcome === 'dissatisfied' ? 'reopen' : '1'}`, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } };
    }) },
    { method: 'GET', path: `${BOARD_PAGE}*`, handler: safely('board', async (req) => {
      const link = await gate(req, BOARD_PAGE, 'board');
      if (!('kind' in link)) return link;
      const unit = link.unitId === null ? undefined : await unitById(d.db, link.unitId);
      if (!unit) return gone('board');
      return boardPage(d.db, unit, now(), d.config.MINQING_TZ);
    }) },
    { method: 'GET', path: FONT_PATH, handler: async () => fontResponse(d.font ?? null) },
  ];
}

function clientIp(req: HttpRequest, trustProxy: boolean): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return (trustProxy && first) || req.remote || 'unknown';
}

/** The citizen's words: control characters dropped, spaces folded, at most WORDS_MAX characters. */
function cleanWords(s: string): string {
  return [...s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()].slice(0, WORDS_MAX).join('');
}

/** Resolved (or closed) and not yet rated by the citizen since this resolution. */
function rateable(i: Issue): boolean {
  if (i.state !== 'resolved' && i.state !== 'closed') return false;
  return i.citizenRatedAt === null || (i.resolvedAt !== null && i.citizenRatedAt < i.resolvedAt);
}

/**
 * Records the citizen's rating (one audit row) and, in the same transaction, the direct messages
 * it causes into the outbox: 不满意 reopens the issue and goes to the responsible cadre and the
 * lead(s); another rating goes to the responsible cadre.
 */
async function rate(db: Db, i: Issue, rating: Satisfaction, words: string, at: Date, today: LocalDate): Promise<void> {
  const note = [`群众通过链接评价：${SATISFACTION_NAMES[rating]}`, words].filter(Boolean).join('：');
  const citizen = { citizenSatisfaction: rating, citizenNote: words || null, citizenRatedAt: at.getTime() };
  const e = { at, date: today, actorCadreId: null, note };
  let to: number[];
  let text: string;
  if (rating === 'dissatisfied') {
    await changeIssue(db, i, { ...citizen, state: 'in_progress', resolvedAt: null, resolvedDate: null, closedAt: null }, { ...e, action: 'citizen_reopen' });
    to = [i.responsibleCadreId, ...(await leadsOf(db, i))];
    text = T.notice.reopen(i, maskPhones(words));
  } else {
    await changeIssue(db, i, citizen, { ...e, action: 'citizen_rate' });
    to = [i.responsibleCadreId];
    text = T.notice.rated(i, SATISFACTION_NAMES[rating], maskPhones(words));
  }
  const messages: string[] = [];
  for (const id of new Set(to)) {
    const m = await address(db, toCadre(id, text));
    if (m !== null) messages.push(m);
  }
  if (messages.length) await enqueueReplies(db, 'web', `citizen:${i.id}:${at.getTime()}`, messages, at.getTime());
}

/** The issue's 责任领导 if named and active; else the leaders of its unit, or of the nearest unit above that has any. */
async function leadsOf(db: Db, i: Issue): Promise<number[]> {
  if (i.leadCadreId !== null && (await activeLeadersOf(db, { cadreIds: [i.leadCadreId] })).length) return [i.leadCadreId];
  return nearestLeaders(db, await unitById(db, i.unitId));
}

/**
 * A direct message to a cadre as an outbox row, on a chat platform: the console prints its own
 * replies and has no delivery, so a console account is used only when the cadre has no other.
 */
async function address(db: Db, r: Reply): Promise<string | null> {
  const accs = await accountsOf(db, r.cadreId!);
  const acc = accs.find((a) => a.platform !== 'console');
  if (!acc) return null;
  return JSON.stringify(outgoingOf({ ...r, target: acc.accountId, platform: acc.platform }));
}

const txt = (s: string | null | undefined) => esc(maskPhones(s ?? ''));

async function issuePage(db: Db, i: Issue, today: LocalDate, tz: string, notice?: string, status = 200): Promise<HttpResponse> {
  const unit = await unitById(db, i.unitId);
  const events = await publicEventsOf(db, i.id, SHOWN);
  const done = i.state === 'resolved' || i.state === 'closed';
  const late = !done && i.deadline < today;
  const steps = events.map((e) => `<li><span class="when">${esc(formatDate(e.date))}</span>${txt(stepText(e))}</li>`).join('');
  const rated = i.citizenSatisfaction && i.citizenRatedAt !== null && !rateable(i) && done
    ? `<section><h2>${esc(T.rateTitle)}</h2><p>${esc(T.rated(SATISFACTION_NAMES[i.citizenSatisfaction as Satisfaction] ?? '', localDate(new Date(i.citizenRatedAt), tz)))}</p></section>` : '';
  const form = rateable(i) ? rateForm() : '';
  const body = [
    notice ? `<div class="notice" role="status">${esc(notice)}</div>` : '',
    `<section><h2>当前状态</h2><p><span class="state${done ? ' done' : late ? ' late' : ''}">${esc(T.state[i.state])}</span></p>
<dl><dt>${esc(T.deadline)}</dt><dd>${esc(done && i.resolvedDate ? T.dueDone(i.deadline, i.resolvedDate) : T.due(i.deadline, today))}</dd></dl></section>`,
    `<section><h2>${esc(T.problem)}</h2><p>${txt(`${i.place} ${i.description}`)}</p><p class="muted">${esc(T.registered(i.createdDate))} · ${esc(i.category)}</p></section>`,
    done && i.result ? `<section><h2>${esc(T.result)}</h2><p>${txt(i.result)}</p>${i.answered ? `<p class="muted">${esc(T.answered)}</p>` : ''}</section>` : '',
    `<section><h2>${esc(T.progress)}</h2><ol class="steps">${steps}</ol></section>`,
    form || rated || (done ? '' : `<section><p class="muted">${esc(T.notYet)}</p></section>`),
  ].join('\n');
  return page({ status, title: T.issueTitle, subtitle: T.issueSub(i.id, unit?.name ?? ''), body, footer: T.footer });
}

function stepText(e: IssueEvent): string {
  const s = T.step;
  switch (e.action) {
    case 'progress': return s.progress(e.note ?? '');
    // The audit note of an extension is `from → to：reason`; the reason is internal.
    case 'extend': return s.extend(/→\s*(\d{4}-\d{2}-\d{2})/.exec(e.note ?? '')?.[1] ?? null);
    case 'resolve': return s.resolve(e.note ?? '');
    case 'citizen_rate': return s.citizen_rate(/链接评价：([^：]+)/.exec(e.note ?? '')?.[1] ?? '');
    case 'register': case 'escalate': case 'supervise': case 'reject': case 'reopen': case 'citizen_reopen': case 'close': return s[e.action];
    default: return '';
  }
}

function rateForm(): string {
  const choices = (Object.entries(SATISFACTION_NAMES) as Array<[Satisfaction, string]>)
    .map(([v, label]) => `<label class="choice"><input type="radio" name="rating" value="${v}" required>${esc(label)}</label>`).join('');
  return `<section><h2>${esc(T.rateTitle)}</h2><p class="muted">${esc(T.rateHint)}</p>
<form method="post"><fieldset>${choices}</fieldset>
<label for="words">${esc(T.words)}</label><textarea id="words" name="words" maxlength="${WORDS_MAX}"></textarea>
<button type="submit">${esc(T.submit)}</button></form></section>`;
}

async function boardPage(db: Db, unit: Unit, at: Date, tz: string): Promise<HttpResponse> {
  const today = localDate(at, tz);
  const months = Array.from({ length: BOARD_MONTHS }, (_, k) => shiftPeriod(periodOf('month', today), -k));
  const lists: Issue[][] = [];
  for (const p of months) lists.push((await issuesResolvedIn(db, unit.path, p.start, p.end)).reverse());
  const sections = months.map((p, k) => {
    const list = lists[k];
    if (!list.length) return '';
    const items = list.slice(0, BOARD_CAP).map((i) => {
      const r = (i.citizenSatisfaction ?? i.satisfaction) as Satisfaction | null;
      return `<li><strong>${txt(`${i.place} ${i.description}`)}</strong><br>${txt(i.result)}<br><span class="muted">${esc(T.boardLine(i.state === 'closed', i.resolvedDate!, today))}${r && SATISFACTION_NAMES[r] ? ` · ${esc(T.boardRating(SATISFACTION_NAMES[r]))}` : ''}</span></li>`;
    }).join('');
    return `<section><h2>${esc(T.boardMonth(p.label, list.length))}</h2><ul class="board">${items}</ul>${list.length > BOARD_CAP ? `<p class="muted">${esc(T.boardMore(list.length - BOARD_CAP))}</p>` : ''}</section>`;
  }).join('');
  const stamp = new Intl.DateTimeFormat('zh-CN', { timeZone: tz, dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23' }).format(at);
  const body = `<section><p>${esc(T.boardIntro)}</p></section>${sections || `<section><p class="muted">${esc(T.boardEmpty)}</p></section>`}`;
  return page({ title: T.boardTitle, subtitle: T.boardSub(unit.name), body, footer: T.boardFooter(stamp) });
}

const notFound = () => page({ status: 404, title: T.notFoundTitle, body: `<section><p>${esc(T.notFound)}</p></section>` });
const gone = (kind: PublicLink['kind']) => page({ status: 410, title: T.goneTitle, body: `<section><p>${esc(kind === 'board' ? T.boardGone : T.gone)}</p></section>` });
const limited = (s: number) => page({ status: 429, title: T.limitTitle, body: `<section><p>${esc(T.limit(s))}</p></section>`, headers: { 'Retry-After': String(s) } });
