import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCALES, loadCatalog } from '../../src/i18n/catalog.js';

const PAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pages');
const read = (name: string) => readFileSync(join(PAGES_DIR, name), 'utf8');

// The widget carries its styles: a host page adds one <script> tag and nothing else, and no build
// step runs. Replacer functions, so `$` sequences in the sources are taken literally.
const WIDGET = read('widget.js').replace("'__KEFU_CSS__'", () => JSON.stringify(read('widget.css')));
const PAGE = read('webchat.html');

/** The embeddable widget script (`/widget.js`); the full page at `/` runs the same code. */
export function widgetScript(): string {
  return WIDGET;
}

/** The consumer web chat page: a shell that loads /widget.js in full-page mode. */
export function webchatPage(options: { demoMode: boolean }): string {
  // Demo mode says so on the page itself, in every language, whatever the visitor picks.
  return options.demoMode ? PAGE.replace('<body>', () => `<body>\n${demoBanner()}`) : PAGE;
}

function demoBanner(): string {
  const auth = loadCatalog('auth');
  const lines = LOCALES.map((l) => `<span lang="${l}">${escapeHtml(auth.t(l, 'demo.banner'))}</span>`).join(' ');
  return `<div id="demo-banner" role="note" style="background:#fff3cd;color:#5c4400;padding:6px 12px;font-size:14px;text-align:center">${lines}</div>`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
