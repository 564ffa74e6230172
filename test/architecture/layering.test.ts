import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layeringViolations, scanImports } from '../support/layering.js';

const ROOT = join(import.meta.dirname, '../..');

describe('layering (docs/architecture.md)', () => {
  it('holds in this repository: no import breaks a rule', () => {
    const edges = scanImports(ROOT);
    // The scan sees the tree: the composition root wires the channels and the engine is imported.
    expect(edges.some((e) => e.from === 'src/service-channels.ts' && e.to.startsWith('channels/webchat/'))).toBe(true);
    expect(edges.some((e) => e.from.startsWith('src/bot/') && e.to.startsWith('src/engine/'))).toBe(true);
    expect(layeringViolations(edges)).toEqual([]);
  });
});

describe('the layering scan on a small made-up tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'kefu-layering-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  write('src/core/message.ts', "import { z } from 'zod';\nexport const x = 1;\n");
  write('src/core/bad.ts', "import { db } from '../db/client.js';\n");
  write('src/engine/advance.ts', "import type { Locale } from '../core/message.js';\nimport { x } from './state.js';\n");
  write('src/engine/bad.ts', "import { x } from '../core/message.js';\n\nexport { y } from '../logger.js';\n");
  write('src/db/client.ts', "import { AppError } from '../core/errors.js';\n");
  write('src/db/bad.ts', "import type { Flow } from '../engine/flow-schema.js';\nimport { hub } from '../inbox/live-hub.js';\n");
  write('src/inbox/receive.ts', "import {\n  a,\n  b,\n} from '../db/client.js';\n");
  write('channels/mail/index.ts', "import type { ChannelAdapter } from '../../src/core/channel.js';\nimport { parse } from './parse.js';\n");
  write('channels/mail/bad.ts', "import { messages } from '../../src/db/schema.js';\nconst f = () => import('../../src/engine/advance.js');\n");
  write('channels/mail/parse.test.ts', "import { messages } from '../../src/db/schema.js';\n");
  write('src/service.ts', "import { createMail } from '../channels/mail/index.js';\n");
  write('src/service-channels.ts', "import { createMail } from '../channels/mail/index.js';\n");
  write('src/console/bad.ts', "// a comment\nimport '../../channels/mail/index.js';\n");
  write('channels/mail/wording.ts', "import { loadCatalog } from '../../src/i18n/catalog.js';\n");
  write('src/i18n/bad.ts', "import { db } from '../db/client.js';\n");
  write('src/cli/bad.ts', "export async function f() {\n  const { x } = await import('../../channels/mail/index.js');\n}\n");

  it('reports each broken rule with the file, the line and the rule, and nothing else', () => {
    expect(layeringViolations(scanImports(root))).toEqual([
      'channels/mail/bad.ts:1 imports src/db/schema.ts: a channel may import only src/core and src/i18n (and itself)',
      'channels/mail/bad.ts:2 imports src/engine/advance.ts: a channel may import only src/core and src/i18n (and itself)',
      'src/cli/bad.ts:2 imports channels/mail/index.ts: only channels/ and the composition root (src/service.ts, src/service-channels.ts) import a channel',
      'src/console/bad.ts:2 imports channels/mail/index.ts: only channels/ and the composition root (src/service.ts, src/service-channels.ts) import a channel',
      'src/core/bad.ts:1 imports src/db/client.ts: src/core imports nothing of ours',
      'src/db/bad.ts:1 imports src/engine/flow-schema.ts: src/db never imports the engine, the inbox or a channel',
      'src/db/bad.ts:2 imports src/inbox/live-hub.ts: src/db never imports the engine, the inbox or a channel',
      'src/engine/bad.ts:3 imports src/logger.ts: src/engine may import only src/engine and src/core',
      'src/i18n/bad.ts:1 imports src/db/client.ts: src/i18n (wording files) imports only src/core',
    ]);
  });

  it('finds multi-line, re-export, side-effect and dynamic imports', () => {
    const edges = scanImports(root).map((e) => `${e.from}:${e.line} -> ${e.to}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        'src/inbox/receive.ts:1 -> src/db/client.ts',
        'src/engine/bad.ts:3 -> src/logger.ts',
        'src/console/bad.ts:2 -> channels/mail/index.ts',
        'src/cli/bad.ts:2 -> channels/mail/index.ts',
      ]),
    );
    // Tests wire real parts together, like the composition root: they are not scanned.
    expect(edges.filter((e) => e.includes('.test.'))).toEqual([]);
  });
});
