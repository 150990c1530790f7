/**
 * The citizen's page and the 公示 page in a real browser: Debian's Chromium,
 * driven by playwright-core, on a phone-sized viewport. A citizen opens the link, reads the
 * state, rates 不满意 with the plain HTML form, and the issue is reopened in the ledger; a wrong
 * token and the rate limit get their plain pages. Each page's screenshot is saved under
 * docs/screenshots/ (committed; `.ci/run` installs chromium when it is missing).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { linkIn, rig, ROAD, type Rig } from './citizen-rig.js';
import { oneWhere } from './db-probe.js';
import { issues } from '../storage/schema.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'docs', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let profile: string;
let browser: BrowserContext;
let r: Rig | undefined;

beforeAll(async () => {
  profile = mkdtempSync(join(tmpdir(), 'minqing-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'zh-CN',
  });
});
afterAll(async () => { await browser?.close(); rmSync(profile, { recursive: true, force: true }); });
afterEach(async () => { await r?.close(); r = undefined; });

/** Every request the page makes: all must go to the bot's own server. */
async function open(url: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (q) => requests.push(q.url()));
  await page.goto(url);
  await page.evaluate(() => document.fonts.ready);
  return { page, requests };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });

/** A Chinese line renders with glyphs (not tofu boxes): its width differs from a run of unknown characters. */
async function rendersChinese(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    await document.fonts.load('16px MinqingCJK', '民情');
    return document.fonts.check('16px MinqingCJK', '民情办理进展');
  });
}

describe('in Chromium on a phone', () => {
  it('a citizen reads the state, rates 不满意, and the issue reopens in the ledger', async () => {
    r = await rig();
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    await r.chat.says('u3', '/进展 #1 已联系交通局，列入下月维修计划');
    const before = await open(url);
    expect(await before.page.locator('.state').innerText()).toBe('正在办理');
    expect(await before.page.locator('main').innerText()).toContain('已联系交通局，列入下月维修计划');
    expect(await before.page.locator('form').count()).toBe(0);
    await shot(before.page, 'citizen-in-progress.png');
    await before.page.close();

    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    const { page, requests } = await open(url);
    expect(await page.locator('.state').innerText()).toBe('已办结');
    expect(await page.locator('main').innerText()).toContain('路面已修复，已电话告知群众');
    expect(await page.locator('main').innerText()).toContain('139****5678');
    expect(await rendersChinese(page)).toBe(true);
    await shot(page, 'citizen-resolved-rate.png');
    await page.getByLabel('不满意').check();
    await page.locator('textarea[name=words]').fill('路面又出现裂缝');
    await Promise.all([page.waitForURL(/\?ok=reopen$/), page.getByRole('button', { name: '提交评价' }).click()]);
    expect(await page.locator('.notice').innerText()).toContain('问题将重新办理');
    expect(await page.locator('.state').innerText()).toBe('正在办理');
    await shot(page, 'citizen-after-rating.png');
    // Nothing came from another origin: no script, no font, no image elsewhere.
    const origin = new URL(r.base).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((u) => new URL(u).origin === origin)).toBe(true);
    await page.close();

    const row = (await oneWhere(r.chat.db, issues, { id: 1 }))!;
    expect({ state: row.state, c: row.citizenSatisfaction, note: row.citizenNote }).toEqual({ state: 'in_progress', c: 'dissatisfied', note: '路面又出现裂缝' });
    expect(await r.chat.count('outbox', { platform: 'web' })).toBe(2);
    await r.chat.says('u4', '/台账 石门镇');
    expect(r.chat.lastReply).toContain('群众亲评不满意');
  });

  it('a wrong token gets a plain 404 page and the rate limit a 429 page', async () => {
    r = await rig({ ip: { max: 100, windowMs: 60_000 }, link: { max: 2, windowMs: 60_000 } });
    const page = await browser.newPage();
    const wrong = await page.goto(`${r.base}/c/AAAAAAAAAAAAAAAAAAAAAA`);
    expect(wrong?.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('链接无效');
    await page.evaluate(() => document.fonts.ready);
    await shot(page, 'citizen-wrong-token.png');
    await r.chat.says('u2', ROAD);
    const url = linkIn(r.chat.replies.find((x) => x.text.includes('群众查看链接'))!.text, r.base);
    expect((await page.goto(url))?.status()).toBe(200);
    expect((await page.goto(url))?.status()).toBe(200);
    const limited = await page.goto(url);
    expect(limited?.status()).toBe(429);
    expect(await page.locator('main').innerText()).toMatch(/访问太频繁，请 \d+ 秒后再试/);
    await page.evaluate(() => document.fonts.ready);
    await shot(page, 'citizen-rate-limited.png');
    await page.close();
  });

  it('the 公示 page lists the results, live, and is gone once withdrawn', async () => {
    r = await rig();
    await r.chat.says('u4', '/清单 公示 网页');
    const url = linkIn(r.chat.lastReply, r.base);
    await r.chat.says('u2', ROAD);
    await r.chat.says('u3', '/办结 #1 路面已修复，已电话告知群众');
    await r.chat.says('u2', '/民情 石门村三组 路灯不亮 基础设施 责任人:@李四 时限:12月10日');
    await r.chat.says('u3', '/办结 #2 已更换灯泡，已告知群众');
    await r.chat.says('u4', '/销号 #2');
    const { page } = await open(url);
    const text = await page.locator('main').innerText();
    expect(text).toContain('2026年11月 办结 2 件');
    expect(text).toContain('已更换灯泡');
    expect(text).toContain('已销号');
    expect(text).not.toMatch(/李四|张三|赵六|13912345678/);
    expect(await rendersChinese(page)).toBe(true);
    await shot(page, 'board.png');
    await r.chat.says('u4', '/清单 公示 网页 撤回');
    expect((await page.reload())?.status()).toBe(410);
    await page.close();
  });
});
