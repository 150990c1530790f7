/**
 * The shell of the public pages (a citizen's issue page, a unit's 公示 page): one HTML document
 * with its CSS inline and nothing loaded from another origin — no script at all, the one web font
 * served by the bot itself (`FONT_PATH`) and used only when the phone has no Chinese font of its
 * own (the font stack names the usual system fonts first, so a phone never downloads it).
 *
 * Every page is sent with a Content-Security-Policy that forbids scripts and foreign sources, no
 * referrer (the token is in the address), no caching and no indexing.
 */
import { readFileSync } from 'node:fs';
import type { HttpResponse } from '../http-server.js';

/** Where the same-origin CJK font is served. */
export const FONT_PATH = '/web/cjk.otf';

/** Text into HTML, attribute-safe. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
@font-face{font-family:"MinqingCJK";src:url("${FONT_PATH}") format("opentype");font-display:swap}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f4f6;color:#1f2328;font:17px/1.6 -apple-system,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Microsoft YaHei","WenQuanYi Micro Hei","MinqingCJK",sans-serif}
header{background:#b4232a;color:#fff;padding:18px 16px 14px}
header h1{margin:0;font-size:21px;font-weight:600;letter-spacing:.5px}
header p{margin:4px 0 0;font-size:14px;opacity:.9}
main{max-width:640px;margin:0 auto;padding:12px}
section{background:#fff;border-radius:10px;padding:14px 16px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
section p{margin:0 0 6px}
section p:last-child{margin-bottom:0}
h2{margin:0 0 8px;font-size:16px;color:#57606a;font-weight:600}
.state{display:inline-block;padding:3px 12px;border-radius:999px;font-size:16px;font-weight:600;background:#eef2ff;color:#1f4fbf}
.state.done{background:#e8f6ec;color:#1a7f37}
.state.late{background:#fdecec;color:#b4232a}
.muted{color:#6e7781;font-size:14px}
ol.steps{margin:0;padding:0;list-style:none}
ol.steps li{position:relative;padding:0 0 12px 18px;border-left:2px solid #d0d7de;margin-left:6px}
ol.steps li:last-child{padding-bottom:0;border-left-color:transparent}
ol.steps li::before{content:"";position:absolute;left:-7px;top:6px;width:12px;height:12px;border-radius:50%;background:#b4232a}
ol.steps .when{display:block;font-size:13px;color:#6e7781}
dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:4px 12px}
dt{color:#6e7781}
dd{margin:0}
fieldset{border:0;padding:0;margin:0 0 10px}
label.choice{display:block;border:1px solid #d0d7de;border-radius:8px;padding:12px;margin:0 0 8px;font-size:18px}
label.choice input{width:20px;height:20px;vertical-align:-3px;margin-right:8px}
textarea{width:100%;min-height:80px;font:inherit;font-size:16px;padding:8px;border:1px solid #d0d7de;border-radius:8px}
button{width:100%;margin-top:10px;padding:12px;font:inherit;font-size:18px;color:#fff;background:#b4232a;border:0;border-radius:8px}
.notice{background:#fff8c5;border-radius:8px;padding:10px 12px;margin:0 0 12px}
ul.board{margin:0;padding:0;list-style:none}
ul.board li{padding:10px 0;border-bottom:1px solid #eaeef2}
ul.board li:last-child{border-bottom:0}
footer{text-align:center;color:#6e7781;font-size:13px;padding:8px 16px 24px}
`;

export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Robots-Tag': 'noindex, nofollow',
  'Cache-Control': 'no-store',
};

/** A whole page: `body` is HTML already escaped by the caller. */
export function page(o: { status?: number; title: string; subtitle?: string; body: string; footer?: string; headers?: Record<string, string> }): HttpResponse {
  const html = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${esc(o.title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(o.title)}</h1>${o.subtitle ? `<p>${esc(o.subtitle)}</p>` : ''}</header>
<main>${o.body}</main>${o.footer ? `<footer>${esc(o.footer)}</footer>` : ''}</body></html>`;
  return { status: o.status ?? 200, body: html, headers: { ...PAGE_HEADERS, ...(o.headers ?? {}) } };
}

let fontBytes: Buffer | null | undefined;

/**
 * The route answer for {@link FONT_PATH}: the CJK font file (read once), cached for a year by
 * the browser; 404 when the deployment has none.
 */
export function fontResponse(file: string | null): HttpResponse {
  if (fontBytes === undefined) {
    // A collection (.ttc) is not a web font; only a single .otf/.ttf is served.
    try { fontBytes = file && /\.(otf|ttf)$/i.test(file) ? readFileSync(file) : null; } catch { fontBytes = null; }
  }
  if (!fontBytes) return { status: 404, body: 'no font', headers: { 'Cache-Control': 'no-store' } };
  return { status: 200, body: fontBytes, headers: { 'Content-Type': 'font/otf', 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' } };
}
