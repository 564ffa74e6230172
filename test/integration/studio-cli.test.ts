import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studioExport, studioImport } from '../../src/cli/studio.js';
import { FLOWS_DIR } from '../../src/paths.js';
import { backends } from '../support/db.js';
import { testService } from '../support/service.js';

describe.each(backends())('kefu studio export / import on %s', (backend) => {
  let service: Awaited<ReturnType<typeof testService>>;
  let dir: string;
  beforeAll(async () => {
    service = await testService(backend, { seed: false });
    dir = mkdtempSync(join(tmpdir(), 'kefu-studio-'));
  });
  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the documents in force as files, and stages changed files as drafts after validating them', async () => {
    const ids = await studioExport(service.studio, dir);
    expect(ids).toEqual(expect.arrayContaining(['flows/refund.yaml', 'flows/intents.yaml', 'prompts/classify.md', 'transcripts/refund-happy.zh-Hans.yaml']));
    const refund = readFileSync(join(dir, 'flows/refund.yaml'), 'utf8');
    expect(refund).toBe(readFileSync(join(FLOWS_DIR, 'refund.yaml'), 'utf8'));
    expect(await studioImport(service.studio, dir, 'no change')).toEqual([]);

    writeFileSync(join(dir, 'flows/refund.yaml'), refund.replace('action: refund.submit', 'action: refund.teleport'));
    await expect(studioImport(service.studio, dir, 'broken')).rejects.toThrow(/flows\/refund\.yaml line \d+ \(steps\.submit\): calls the unknown action "refund\.teleport"/);
    expect((await service.studio.list()).find((d) => d.id === 'flows/refund.yaml')?.state).toBe('baseline');

    writeFileSync(join(dir, 'flows/refund.yaml'), refund.replace('现在就退吗？', '现在就退款吗？'));
    expect(await studioImport(service.studio, dir, 'reviewed in git')).toEqual(['flows/refund.yaml']);
    const doc = await service.studio.document('flows/refund.yaml');
    expect(doc.draft?.content).toContain('现在就退款吗？');
    expect(doc.draft?.comment).toBe('reviewed in git');
    expect(doc.published).toBeNull();
  });
});
