import { type AcceptFile, type AcceptedFile, sniffUpload } from '../core/sniff.js';

/** Photos larger than this many pixels are not decoded (a HEIC bomb would take all the memory). */
const MAX_HEIC_PIXELS = 50_000_000;

/**
 * Judges a file the way every channel must: by its first bytes and its size. JPEG, PNG and PDF are
 * kept as they are; an iPhone HEIC photo is converted to JPEG (heic-convert: libheif compiled to
 * WebAssembly, no native build), so agents can open it anywhere; anything else is refused.
 */
export function createAcceptFile(maxBytes: number): AcceptFile {
  return async (bytes): Promise<AcceptedFile> => {
    if (bytes.length > maxBytes) return { ok: false, reason: 'too_big' };
    const sniffed = sniffUpload(bytes);
    if (sniffed.kind === 'image' || sniffed.kind === 'document') return { ok: true, ...sniffed, bytes, converted: false };
    if (sniffed.kind === 'unknown') return { ok: false, reason: 'type' };
    const jpeg = await heicToJpeg(bytes);
    if (!jpeg) return { ok: false, reason: 'heic' };
    if (jpeg.length > maxBytes) return { ok: false, reason: 'too_big' };
    return { ok: true, kind: 'image', contentType: 'image/jpeg', bytes: jpeg, converted: true };
  };
}

/** The photo as JPEG, or null when it cannot be decoded (damaged, or too many pixels). */
export async function heicToJpeg(bytes: Uint8Array): Promise<Uint8Array | null> {
  if (heicPixels(bytes) > MAX_HEIC_PIXELS) return null;
  try {
    // Loaded on first use: the decoder (WebAssembly) costs ~1 s and some memory to start.
    const { default: convert } = await import('heic-convert');
    const out = await convert({ buffer: bytes, format: 'JPEG', quality: 0.85 });
    const jpeg = out instanceof Uint8Array ? out : new Uint8Array(out);
    return sniffUpload(jpeg).kind === 'image' ? jpeg : null;
  } catch {
    return null;
  }
}

/** The largest `ispe` (image spatial extents) box's pixel count, read without decoding; 0 if none. */
function heicPixels(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let most = 0;
  // 'ispe' box: size(4) 'ispe'(4) version/flags(4) width(4) height(4)
  for (let i = 4; i + 16 <= bytes.length && i < 1_000_000; i++) {
    if (bytes[i] === 0x69 && bytes[i + 1] === 0x73 && bytes[i + 2] === 0x70 && bytes[i + 3] === 0x65) {
      most = Math.max(most, view.getUint32(i + 8) * view.getUint32(i + 12));
    }
  }
  return most;
}
