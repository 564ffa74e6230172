import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAcceptFile } from './accept.js';

const HEIC = new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/images/gradient-64x48.heic')));
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...Buffer.from('JFIF')]);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const PDF = new Uint8Array(Buffer.from('%PDF-1.4\n'));

describe('accepting a file by its content', () => {
  const accept = createAcceptFile(64 * 1024);

  it('keeps JPEG, PNG and PDF as they are, whatever they are called', async () => {
    expect(await accept(JPEG)).toMatchObject({ ok: true, kind: 'image', contentType: 'image/jpeg', converted: false, bytes: JPEG });
    expect(await accept(PNG)).toMatchObject({ ok: true, kind: 'image', contentType: 'image/png' });
    expect(await accept(PDF)).toMatchObject({ ok: true, kind: 'document', contentType: 'application/pdf' });
  });

  it('converts an iPhone HEIC photo to a JPEG of the same picture', async () => {
    const result = await accept(HEIC);
    expect(result).toMatchObject({ ok: true, kind: 'image', contentType: 'image/jpeg', converted: true });
    if (!result.ok) return;
    expect([...result.bytes.slice(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    // The JPEG's SOF0/SOF2 frame header holds the picture's size: 48 high, 64 wide.
    const sof = result.bytes.findIndex((b, i) => b === 0xff && (result.bytes[i + 1] === 0xc0 || result.bytes[i + 1] === 0xc2));
    const view = new DataView(result.bytes.buffer, result.bytes.byteOffset);
    expect([view.getUint16(sof + 5), view.getUint16(sof + 7)]).toEqual([48, 64]);
  });

  it('refuses a damaged HEIC, other types and files over the limit', async () => {
    expect(await accept(HEIC.slice(0, 200))).toEqual({ ok: false, reason: 'heic' });
    expect(await accept(new Uint8Array(Buffer.from('MZ\x90\x00 not a photo')))).toEqual({ ok: false, reason: 'type' });
    expect(await accept(new Uint8Array(64 * 1024 + 1).fill(0xff))).toEqual({ ok: false, reason: 'too_big' });
  });
});
