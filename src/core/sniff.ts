/** What a file is, judged by its first bytes (never by its name or the sender's word). */
export type Sniffed =
  | { kind: 'image'; contentType: 'image/jpeg' | 'image/png' }
  | { kind: 'document'; contentType: 'application/pdf' }
  | { kind: 'heic' }
  | { kind: 'unknown' };

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) => prefix.every((b, i) => bytes[at + i] === b);
const ascii = (s: string) => [...s].map((ch) => ch.charCodeAt(0));

// HEIF brands (ISO/IEC 23008-12) iPhones write.
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** JPEG, PNG and PDF are accepted; HEIC is recognised so it can be converted (or refused with its own words). */
export function sniffUpload(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'image', contentType: 'image/jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', contentType: 'image/png' };
  if (startsWith(bytes, ascii('%PDF-'))) return { kind: 'document', contentType: 'application/pdf' };
  if (startsWith(bytes, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...bytes.slice(8, 12));
    if (HEIF_BRANDS.has(brand)) return { kind: 'heic' };
  }
  return { kind: 'unknown' };
}

/** A file taken in from a channel: either stored-able bytes (HEIC already converted) or why not. */
export type AcceptedFile =
  | { ok: true; kind: 'image' | 'document'; contentType: 'image/jpeg' | 'image/png' | 'application/pdf'; bytes: Uint8Array; converted: boolean }
  | { ok: false; reason: 'too_big' | 'type' | 'heic' };

/** A channel's download turned out larger than ATTACHMENT_MAX_BYTES (its size was not told up front): no retry. */
export class FileTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`file larger than ${maxBytes} bytes`);
    this.name = 'FileTooLarge';
  }
}

/** Judges a file by content and size, converting HEIC photos to JPEG (the port channels get). */
export type AcceptFile = (bytes: Uint8Array) => Promise<AcceptedFile>;
