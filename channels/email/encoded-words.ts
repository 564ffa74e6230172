import iconv from 'iconv-lite';

/** One RFC 2047 encoded word: `=?charset[*lang]?Q|B?text?=`. */
const ENCODED_WORD = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?([qQbB])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? '';
    const hex = text.slice(i + 1, i + 3);
    if (ch === '_') bytes.push(0x20);
    else if (ch === '=' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(ch.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

/**
 * Decodes a raw header value whose RFC 2047 words are in UTF-7 (Outlook 2000 wrote
 * `=?utf-7?Q?Fr+APY-sche?=`), which mailparser leaves as `Fr+APY-sche`. Every word is decoded
 * with iconv-lite (whitespace between adjacent words dropped, as RFC 2047 says); returns null when
 * the value has no UTF-7 word, so mailparser's own decoding stands.
 */
export function decodeUtf7Header(raw: string | null | undefined): string | null {
  if (!raw || !/=\?utf-?7(?:\*[^?]*)?\?/i.test(raw)) return null;
  const unfolded = raw.replace(/\r?\n[ \t]/g, ' ');
  const joined = unfolded.replace(/(\?=)\s+(?==\?)/g, '$1');
  return joined.replace(ENCODED_WORD, (whole, charset: string, encoding: string, text: string) => {
    const name = charset.toLowerCase() === 'utf-7' ? 'utf7' : charset;
    if (!iconv.encodingExists(name)) return whole;
    return iconv.decode(wordBytes(encoding, text), name);
  });
}
