import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (never a downloaded browser). */
export const CHROMIUM = process.env.KEFU_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.KEFU_REQUIRE_BROWSER === '1';
const FOUND = existsSync(CHROMIUM);

// Exactly the launch arguments STACK.md verified for Debian's Chromium.
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether a browser suite must be skipped: only when Chromium is missing and not required.
 * Says so once on stderr, so `npm test` tells which suites it did not run.
 */
export function skipBrowserSuite(name: string): boolean {
  const skip = !FOUND && !REQUIRED;
  if (skip) {
    process.stderr.write(
      `\n[kefu tests] ${name} SKIPPED: no Chromium at ${CHROMIUM} ` +
        '(apt-get install chromium, or set KEFU_CHROMIUM; KEFU_REQUIRE_BROWSER=1 turns this into a failure)\n',
    );
  }
  return skip;
}

/** Launches Chromium headless; with KEFU_REQUIRE_BROWSER=1 a missing browser fails loudly. */
export async function launchChromium(): Promise<Browser> {
  if (!FOUND) throw new Error(`KEFU_REQUIRE_BROWSER=1 but Chromium was not found at ${CHROMIUM} (set KEFU_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

/** One accessibility rule a page breaks, as axe-core reports it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core (WCAG 2 A/AA rules) in the page and returns what it breaks. */
export async function axeViolations(page: import('playwright-core').Page): Promise<AxeViolation[]> {
  const { source } = await import('axe-core');
  // Evaluated through the DevTools protocol, not as an inline <script>: the pages send a strict
  // CSP (hash-pinned script-src) that rightly refuses an injected inline script. The pages' own
  // scripts still run under that real CSP; only the test's auditing tool is exempt.
  await page.evaluate(`${source}\n;void 0`);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map((n: { target: string[] }) => n.target.join(' ')),
    }));
  });
}

/** Serves an app on a free loopback port for a browser to visit. */
export async function serveOnLoopback(fetch: (request: Request) => Response | Promise<Response>) {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    /** Stops the server, cutting live streams that would otherwise keep it open. */
    async close() {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
