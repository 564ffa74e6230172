import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
export function webchatPage(): string {
  return PAGE;
}
