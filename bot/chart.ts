/**
 * Charts as PNG images without a browser: ECharts renders an option to SVG on the server, and
 * resvg turns the SVG into PNG. resvg draws text only with the fonts it is given, so a CJK font
 * file is loaded explicitly — without one every Chinese label is an empty box.
 *
 * The font is looked up in this order: the file named by MINQING_CJK_FONT; the font shipped by
 * the npm package {@link FONT_PACKAGE} (installed with the project); common system fonts
 * (Debian's fonts-wqy-microhei / fonts-noto-cjk, macOS, Windows). With none, charts still render,
 * without readable Chinese, and a warning is logged once.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { renderAsync } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { Logger } from 'pino';

/** An OFL-licensed npm package whose files include Noto Sans Hans (GB2312 subset) as .otf. */
export const FONT_PACKAGE = '@embedpdf/fonts-sc';
const PACKAGE_FONT = 'fonts/NotoSansHans-Regular.otf';

export const SYSTEM_FONTS = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc',
  '/usr/share/fonts/truetype/arphic/uming.ttc',
  '/System/Library/Fonts/PingFang.ttc',
  '/System/Library/Fonts/STHeiti Light.ttc',
  'C:\\Windows\\Fonts\\msyh.ttc',
  'C:\\Windows\\Fonts\\simhei.ttf',
];

/** The font file of {@link FONT_PACKAGE}, when that package is installed. */
function packageFont(): string | null {
  try {
    // The package's exports map hides package.json; its entry point sits in dist/.
    const entry = createRequire(import.meta.url).resolve(FONT_PACKAGE);
    const file = join(dirname(entry), '..', PACKAGE_FONT);
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

export interface FontChoice { file: string | null; from: 'env' | 'package' | 'system' | 'none' }

/** Where the CJK font comes from; a MINQING_CJK_FONT that does not exist is skipped. */
export function findCjkFont(env: Record<string, string | undefined> = process.env, system = SYSTEM_FONTS): FontChoice {
  const named = env.MINQING_CJK_FONT?.trim();
  if (named && existsSync(named)) return { file: named, from: 'env' };
  const pkg = packageFont();
  if (pkg) return { file: pkg, from: 'package' };
  const sys = system.find((f) => existsSync(f));
  return sys ? { file: sys, from: 'system' } : { file: null, from: 'none' };
}

let chosen: FontChoice | undefined;
let warned = false;

function fontFor(log?: Logger): FontChoice {
  chosen ??= findCjkFont();
  if (!chosen.file && !warned) {
    warned = true;
    log?.warn(`no CJK font found: chart labels will not show Chinese. Install the npm package ${FONT_PACKAGE}, `
      + 'or fonts-wqy-microhei / fonts-noto-cjk, or set MINQING_CJK_FONT to a .ttf/.otf/.ttc file');
  }
  return chosen;
}

export interface ChartSize { width: number; height: number; /** Pixels per SVG unit; 2 keeps text sharp on phones. */ scale?: number }

/** Renders an ECharts option to PNG bytes of `width·scale × height·scale` pixels. */
export async function renderChartPng(option: echarts.EChartsCoreOption, size: ChartSize, log?: Logger): Promise<Buffer> {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  let svg: string;
  try {
    chart.setOption({ animation: false, backgroundColor: '#ffffff', textStyle: { fontFamily: 'sans-serif' }, ...option });
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  const font = fontFor(log);
  const img = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: size.scale ?? 2 },
    background: '#ffffff',
    // Any family name the SVG asks for falls back to the one font loaded, by character coverage.
    font: { fontFiles: font.file ? [font.file] : [], loadSystemFonts: false, defaultFontFamily: 'sans-serif' },
  });
  return img.asPng();
}

/** Width and height of a PNG, read from its IHDR chunk; null when the bytes are not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } | null {
  const SIG = '89504e470d0a1a0a';
  if (png.length < 24 || png.subarray(0, 8).toString('hex') !== SIG || png.subarray(12, 16).toString('latin1') !== 'IHDR') return null;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
