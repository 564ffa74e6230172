import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  return PAGE.replace('__KEFU_CONFIG__', () => config);
}
