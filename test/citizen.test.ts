/**
 * The citizen's link and the 公示 page (docs/rules.md#citizens) over real HTTP: the commands that
 * hand out links, the pages' answers (404, 410, 429), the rating form and what a rating changes
 * in the ledger, the audit trail and the outbox. The same flows in a real browser are in
 * citizen-browser.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { pngSize } from '../bot/chart.js';
import { linkIn, rig, ROAD, type Rig } from './citizen-rig.js';
import { oneWhere, rowsWhere } from './db-probe.js';
import { issueEvents, issues, outbox, publicLinks } from '../storage/schema.js';

let r: Rig;
// Closed once: a test whose rig failed to start leaves the last one's already closed.
afterEach(async () => { const x = r; r = undefined as never; await x?.close(); });

describe('the citizen link', () => {
  beforeEach(async () => { r = await rig(); });

  it('comes with registration: the reporter gets the link and a QR PNG, only the hash is stored', async () => {
    await r.chat.says('u2', ROAD);
    const link = r.chat.replies.find((x) => x.text.includes('群众查看链接'))!;
    expect(link).toMatchObject({ to: 'chat' });
    expect(link.image).toBeTruthy();
    const png = readFileSync(link.image!);
    expect(pngSize(png)!.width).toBeGreaterThan(200);
    const token = /\/c\/([A-Za-z0-9_-]{22})/.exec(link.text)![1];
    const row = (await oneWhere(r.chat.db, publicLinks))!;
    expect(row).toMatchObject({ kind: 'issue', issueId: 1, token: null });
    expect(row.tokenHash).not.toContain(token);
    expect(JSON.stringify([await rowsWhere(r.chat.db, publicLinks), await rowsWhere(r.chat.db, issueEvents)])).not.toContain(token);
  });

  it('goes to the cadre by direct message when registered in a group, never into the group', async () => {
    await r.chat.says('u2', ROAD, { group: true });
    const link = r.chat.replies.find((x) => x.text.includes('群众查看链接'))!;
    expect(link).toMatchObject({ to: 'user', target: 'u2' });
    expect(r.chat.replies.filter((x) => x.to === 'chat').map((x) => x.text).join('\n')).not.toContain('/c/');
  });

  it('/民情码 makes another link, earlier ones keep working, 撤销 stops them all (410) with audit rows', async () => {
    await r.chat.says('u2', ROAD);
    const first = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/民情码 #1');
    const second = linkIn(r.chat.lastReply, r.base);
    expect(second).not.toBe(first);
    expect((await fetch(first)).status).toBe(200);
    expect((await fetch(second)).status).toBe(200);
    await r.chat.says('u3', '/民情码 #1 撤销');
    expect(r.chat.lastReply).toContain('已停用问题 #1 的 2 个群众查看链接');
    for (const u of [first, second]) {
      const res = await fetch(u);
      expect(res.status).toBe(410);
      expect(await res.text()).toContain('链接已停用');
    }
    const actions = (await rowsWhere(r.chat.db, issueEvents, {}, 'id')).map((x) => x.action).filter((a) => a.startsWith('link'));
    expect(actions).toEqual(['link', 'link', 'link_revoke']);
  });

  it('is refused to a cadre with nothing to do with the issue', async () => {
    await r.chat.says('u2', '/民情 石门村 路灯不亮 基础设施 时限:15天');
    await r.chat.says('u3', '/民情码 #1');
    expect(r.chat.lastReply).toContain('只有问题 #1 的责任人、登记人或单位领导');
  });

  it('shows the state, deadline, measures and result in plain Chinese, phones masked, no cadre name', async () => {
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/进展 #1 已联系交通局，列入下月维修计划，交通局电话13800001111');
    await r.chat.says('u4', '/延期 #1 10天 需等待交通局排期施工');
    let res = await fetch(url);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    let html = await res.text();
    expect(html).toContain('正在办理');
    expect(html).toContain('2027年1月10日前办结（还有51天）');
    expect(html).toContain('139****5678');
    expect(html).toContain('138****1111');
    expect(html).not.toMatch(/1391234|1380000/);
    expect(html).toContain('办理时限调整为 2027年1月10日');
    expect(html).not.toContain('需等待交通局排期施工');
    expect(html).not.toMatch(/李四|张三|赵六/);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<form');
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    html = await (await fetch(url)).text();
    expect(html).toContain('已办结');
    expect(html).toContain('路面已修复，已电话告知群众');
    expect(html).toContain('<form method="post">');
  });

  it('不满意 reopens the issue, writes one audit row and tells the responsible cadre and the lead through the outbox', async () => {
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    const res = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ rating: 'dissatisfied', words: '路面又裂了，请回电13912345678' }) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\?ok=reopen$/);
    const i = (await oneWhere(r.chat.db, issues, { id: 1 }))!;
    expect({ state: i.state, satisfaction: i.satisfaction, citizenSatisfaction: i.citizenSatisfaction, citizenNote: i.citizenNote, resolvedDate: i.resolvedDate })
      .toEqual({ state: 'in_progress', satisfaction: null, citizenSatisfaction: 'dissatisfied', citizenNote: '路面又裂了，请回电13912345678', resolvedDate: null });
    const [e] = await rowsWhere(r.chat.db, issueEvents, { issueId: 1 }, 'id desc');
    expect({ action: e.action, f: e.fromState, t: e.toState, who: e.actorCadreId, note: e.note })
      .toEqual({ action: 'citizen_reopen', f: 'resolved', t: 'in_progress', who: null, note: '群众通过链接评价：不满意：路面又裂了，请回电13912345678' });
    const out = (await rowsWhere(r.chat.db, outbox, { platform: 'web' }, 'idx')).map((x) => JSON.parse(x.message));
    expect(out.map((m) => m.target).sort()).toEqual(['ou_li', 'ou_zhao']);
    for (const m of out) {
      expect(m).toMatchObject({ platform: 'feishu', to: 'user', direct: true });
      expect(m.text).toContain('【群众不满意】问题 #1');
      expect(m.text).toContain('139****5678');
    }
    expect(r.kicks).toBe(1);
    // The page now says it was received, and offers no second rating.
    const after = await (await fetch(url + '?ok=reopen')).text();
    expect(after).toContain('责任人和负责领导已收到通知');
    expect(after).toContain('您评价不满意，问题重新办理');
    expect(after).not.toContain('<form');
    // The ledger shows the citizen's own verdict.
    await r.chat.says('u4', '/台账 石门镇');
    expect(r.chat.lastReply).toContain('群众亲评不满意');
  });

  it('满意 is stored as the citizen\'s, outranks a later /评价, and cannot be given twice for one result', async () => {
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    const post = (rating: string) => fetch(url, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ rating }) });
    expect((await post('satisfied')).status).toBe(303);
    expect((await post('basic')).status).toBe(409);
    expect((await post('nonsense')).status).toBe(400);
    await r.chat.says('u3', '/评价 #1 基本满意');
    expect(r.chat.lastReply).toContain('群众已通过查看链接亲自评价「满意」');
    const i = (await oneWhere(r.chat.db, issues))!;
    expect({ satisfaction: i.satisfaction, citizenSatisfaction: i.citizenSatisfaction }).toEqual({ satisfaction: 'basic', citizenSatisfaction: 'satisfied' });
    await r.chat.says('u4', '/清单 石门镇');
    expect(r.chat.lastReply).toContain('群众亲评满意');
  });
});

describe('wrong tokens and limits', () => {
  it('answers a wrong or malformed token 404 with a plain page, a path without token 404', async () => {
    r = await rig();
    for (const path of ['/c/AAAAAAAAAAAAAAAAAAAAAA', '/c/short', '/c/%00%ff', '/g/AAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await fetch(r.base + path);
      expect(res.status).toBe(404);
      const html = await res.text();
      expect(html).toContain('链接无效');
      expect(html).not.toMatch(/Error|at \w+ \(/);
    }
    expect((await fetch(r.base + '/c/')).status).toBe(404);
  });

  it('answers 410 for a link of a voided issue and 90 days after 销号', async () => {
    r = await rig();
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    await r.chat.says('u4', '/销号 #1');
    expect((await fetch(url)).status).toBe(200);
    r.chat.at = '2027-02-19T09:30:00+08:00';
    expect((await fetch(url)).status).toBe(410);
  });

  it('limits requests per link (429 with Retry-After) and per client IP', async () => {
    r = await rig({ ip: { max: 8, windowMs: 60_000 }, link: { max: 3, windowMs: 60_000 } });
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    const codes = [];
    for (let k = 0; k < 4; k++) codes.push((await fetch(url)).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const res = await fetch(url);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.text()).toContain('访问太频繁');
    // Other tokens from the same IP: the IP limit (8) ends them too.
    const more = [];
    for (let k = 0; k < 4; k++) more.push((await fetch(`${r.base}/c/BBBBBBBBBBBBBBBBBBBBB${k}`)).status);
    expect(more).toEqual([404, 404, 404, 429]);
  });
});

describe('the 公示 page', () => {
  beforeEach(async () => { r = await rig(); });

  it('only a lead publishes; it is live, masked, the same link on a second call, and 撤回 withdraws it', async () => {
    await r.chat.says('u2', '/清单 公示 网页');
    expect(r.chat.lastReply).toContain('只有「石门镇」的领导');
    expect(await r.chat.count('publicLinks')).toBe(0);
    await r.chat.says('u4', '/清单 公示 网页');
    const reply = r.chat.replies.at(-1)!;
    expect(reply.image && existsSync(reply.image)).toBe(true);
    const url = linkIn(reply.text, r.base);
    expect(await (await fetch(url)).text()).toContain('近三个月暂无办结的问题');
    await r.chat.says('u2', ROAD);
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    const html = await (await fetch(url)).text();
    expect(html).toContain('石门村 道路破损影响出行，联系电话139****5678');
    expect(html).toContain('路面已修复');
    expect(html).not.toMatch(/李四|张三|赵六/);
    await r.chat.says('u4', '/清单 公示 网页');
    expect(linkIn(r.chat.lastReply, r.base)).toBe(url);
    expect(r.chat.lastReply).toContain('已在公示中');
    await r.chat.says('u4', '/清单 公示 网页 撤回');
    expect(r.chat.lastReply).toContain('已撤回「石门镇」的效果清单公示网页');
    expect((await fetch(url)).status).toBe(410);
  });
});
