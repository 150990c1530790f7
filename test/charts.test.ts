import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCjkFont, pngSize, renderChartPng } from '../bot/chart.js';
import { Chat } from './chat.js';

/** Decodes a PNG far enough to prove it is whole: IHDR, IDAT inflated to the size IHDR promises. */
function decodePng(png: Buffer): { width: number; height: number; pixels: Buffer; channels: number } {
  const size = pngSize(png);
  if (!size) throw new Error('not a PNG');
  const idat: Buffer[] = [];
  let colorType = -1;
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at), type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IHDR') { expect(png[at + 16]).toBe(8); colorType = png[at + 17]; }
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    if (type === 'IEND') break;
    at += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  const pixels = inflateSync(Buffer.concat(idat));
  expect(pixels.length).toBe(size.height * (1 + size.width * channels));
  return { ...size, pixels, channels };
}

/** Non-white pixels of a decoded image (filter bytes and unfiltering ignored: enough to compare ink). */
const ink = (png: Buffer) => decodePng(png).pixels;

let chat: Chat;
beforeEach(async () => { chat = await Chat.demo(); });
afterEach(async () => { await chat.close(); });

describe('/图表', () => {
  beforeEach(async () => {
    for (const [u, d] of [['u2', '2026-09-20'], ['u3', '2026-10-09'], ['u2', '2026-11-02'], ['u2', '2026-11-18']]) {
      await chat.says(u, `/走访 ${d} 石门村 入户 1天`, { at: `${d}T18:00:00+08:00` });
    }
    await chat.says('u2', '/民情 石门村 道路破损 类别:基础设施 时限:12月31日');
    await chat.says('u2', '/办结 #1 已修复，已电话告知群众');
  });

  it('sends the three charts as PNG images of the expected size', async () => {
    const replies = await chat.says('u1', '/图表');
    expect(replies.map((r) => r.text)).toEqual([
      '示范县 近12周共走访 4 次、4 天；最多的一周是 2026年第38周（1 次）。',
      expect.stringMatching(/^示范县 2026年11月 配额完成 \d+\/\d+（\d+%）；图中比较 3 个单位。$/),
      '示范县 近12个月登记问题 1 件、办结 1 件。',
    ]);
    for (const r of replies) {
      expect(r.image).toMatch(/\.png$/);
      expect(existsSync(r.image!)).toBe(true);
      const png = decodePng(readFileSync(r.image!));
      expect([png.width, png.height]).toEqual([1920, 1080]);
    }
    expect(replies[0].image).toContain('走访趋势_示范县_2026-W47_');
  });

  it('draws one chart, for a named unit, and refuses an unknown one with the expected form', async () => {
    await chat.says('u1', '/图表 走访 石门镇');
    expect(chat.replies).toHaveLength(1);
    expect(chat.lastReply).toBe('石门镇 近12周共走访 3 次、3 天；最多的一周是 2026年第38周（1 次）。');
    await chat.says('u1', '/图表 配额 石门镇 上月');
    expect(chat.lastReply).toMatch(/^石门镇 2026年10月 配额完成 \d+\/\d+/);
    expect(pngSize(readFileSync(chat.replies[0].image!))).toEqual({ width: 1920, height: 1080 });
    await chat.says('u1', '/图表 走访 火星镇');
    expect(chat.lastReply).toBe('没有名为「火星镇」的单位。请写名册中的单位全称，例如 /图表 走访 石门镇');
  });

  it('still draws a chart for a unit with no data', async () => {
    await chat.says('u3', '/图表 问题');
    expect(chat.lastReply).toBe('东关社区 近12个月登记问题 0 件、办结 0 件。');
    expect(decodePng(readFileSync(chat.replies[0].image!)).width).toBe(1920);
  });
});

describe('the CJK font', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'minqing-font-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is looked up in MINQING_CJK_FONT first, then the npm package, then system paths', () => {
    const named = join(dir, 'named.ttf'), system = join(dir, 'system.ttc');
    writeFileSync(named, 'x');
    writeFileSync(system, 'x');
    expect(findCjkFont({ MINQING_CJK_FONT: named }, [system])).toEqual({ file: named, from: 'env' });
    const fallback = findCjkFont({ MINQING_CJK_FONT: join(dir, 'missing.ttf') }, [join(dir, 'nope.ttc'), system]);
    expect(['package', 'system']).toContain(fallback.from);
    if (fallback.from === 'system') expect(fallback.file).toBe(system);
    else expect(fallback.file).toMatch(/NotoSansHans-Regular\.otf$/);
  });

  const font = findCjkFont();
  it.skipIf(font.from === 'none')(`draws Chinese glyphs, not empty boxes (font: ${font.file})`, async () => {
    const draw = (text: string) => renderChartPng({ title: { text, left: 'center', top: 'middle', textStyle: { fontSize: 40 } } }, { width: 200, height: 100, scale: 1 });
    const [blank, a, b] = await Promise.all([draw(''), draw('示范县'), draw('石门镇')]);
    // Text leaves ink, and two different words leave different ink: missing glyphs would all be the same box.
    expect(ink(a).equals(ink(blank))).toBe(false);
    expect(ink(a).equals(ink(b))).toBe(false);
    expect(pngSize(a)).toEqual({ width: 200, height: 100 });
  });
});
