import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'pages/webchat.html'), 'utf8');

/** The consumer web chat page; it talks to the documented /api/webchat API only. */
export function webchatPage(options: { demoMode: boolean }): string {
  return PAGE.replace('__KEFU_CONFIG__', JSON.stringify({ demoMode: options.demoMode }));
}
