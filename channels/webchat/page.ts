import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCALES, loadCatalog } from '../../src/i18n/catalog.js';

const PAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pages');
const read = (name: string) => readFileSync(join(PAGES_DIR, name), 'utf8');

// Script and styles are inlined: one request, no build step, nothing else to route.
// Replacer functions, so `$` sequences in the sources are taken literally.
const PAGE = read('webchat.html')
  .replace('__KEFU_CSS__', () => read('webchat.css'))
  .replace('__KEFU_JS__', () => read('webchat.js'));

/** The consumer web chat page; it talks to the documented /api/webchat API only. */
export function webchatPage(options: { demoMode: boolean }): string {
  // `<` is escaped so no value can close the script element.
  const config = JSON.stringify({ demoMode: options.demoMode }).replaceAll('<', '\\u003c');
  const page = PAGE.replace('__KEFU_CONFIG__', () => config);
  // Demo mode says so on the page itself, in every language, whatever the visitor picks.
  return options.demoMode ? page.replace('<body>', () => `<body>\n${demoBanner()}`) : page;
}

function demoBanner(): string {
  const auth = loadCatalog('auth');
  const lines = LOCALES.map((l) => `<span lang="${l}">${escapeHtml(auth.t(l, 'demo.banner'))}</span>`).join(' ');
  return `<div id="demo-banner" role="note" style="background:#fff3cd;color:#5c4400;padding:6px 12px;font-size:14px;text-align:center">${lines}</div>`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
