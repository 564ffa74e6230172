import { distance } from 'fastest-levenshtein';
import { pinyin } from 'pinyin-pro';

/**
 * Typo- and homophone-tolerant phrase matching, built once per lexicon.
 *
 * Chinese: a pinyin IME puts the wrong character of the right sound on screen (推款, 腿款, 退宽 for
 * 退款). So a Han phrase also matches a run of characters that sound the same without tones; the
 * distance is the number of characters that differ. Latin: a slip of one letter (refnd), two in
 * long words; the distance is the Levenshtein distance.
 */
export interface FuzzyHit<G> {
  group: G;
  /** The lexicon phrase as written. */
  phrase: string;
  /** What the text had in its place. */
  found: string;
  distance: number;
  kind: 'pinyin' | 'edit';
}

export interface FuzzyIndex<G> {
  /** The best (smallest-distance) hit per group. `normalised` is lower case, Simplified. */
  find(normalised: string): Map<G, FuzzyHit<G>>;
}

interface HanPhrase<G> {
  group: G;
  phrase: string;
  chars: string[];
  readings: string[][];
  maxDistance: number;
}

interface LatinPhrase<G> {
  group: G;
  phrase: string;
  stem: string;
  prefix: boolean;
  maxDistance: number;
}

const HAN_ONLY = /^\p{Script=Han}+$/u;
const LATIN_WORD = /^[a-z]+$/;
const WORDS = /[a-z]+/g;

/** Toneless readings of one character, every reading of a polyphone; cached, the set of characters is bounded. */
export function createReadings(): (char: string) => string[] {
  const cache = new Map<string, string[]>();
  return (char) => {
    let readings = cache.get(char);
    if (!readings) {
      const all = pinyin(char, { toneType: 'none', type: 'array', multiple: true }).filter((r) => /^[a-zü]+$/.test(r));
      readings = [...new Set(all)];
      cache.set(char, readings);
    }
    return readings;
  };
}

/** How many characters a Han phrase may differ by: one in short phrases, a third of longer ones. */
function hanMaxDistance(length: number): number {
  return length <= 3 ? 1 : Math.floor(length / 3);
}

/** Letters a Latin word may differ by: none under 6 letters (too many real words are that close). */
function latinMaxDistance(length: number): number {
  if (length < 6) return 0;
  return length < 9 ? 1 : 2;
}

export function createFuzzyIndex<G>(entries: readonly { group: G; phrase: string; text: string; prefix: boolean }[]): FuzzyIndex<G> {
  const readingsOf = createReadings();
  const byFirstReading = new Map<string, HanPhrase<G>[]>();
  const latinByLength = new Map<number, LatinPhrase<G>[]>();
  for (const { group, phrase, text, prefix } of entries) {
    if (HAN_ONLY.test(text)) {
      const chars = [...text];
      if (chars.length < 2) continue;
      const readings = chars.map(readingsOf);
      if (readings.some((r) => r.length === 0)) continue;
      const entry: HanPhrase<G> = { group, phrase, chars, readings, maxDistance: hanMaxDistance(chars.length) };
      for (const r of readings[0] ?? []) {
        const list = byFirstReading.get(r) ?? [];
        list.push(entry);
        byFirstReading.set(r, list);
      }
    } else if (LATIN_WORD.test(text)) {
      const maxDistance = latinMaxDistance(text.length);
      if (maxDistance === 0) continue;
      const entry: LatinPhrase<G> = { group, phrase, stem: text, prefix, maxDistance };
      const list = latinByLength.get(text.length) ?? [];
      list.push(entry);
      latinByLength.set(text.length, list);
    }
  }

  const findHan = (normalised: string, hits: Map<G, FuzzyHit<G>>) => {
    const chars = [...normalised];
    const readings = chars.map((c) => (HAN_ONLY.test(c) ? readingsOf(c) : []));
    for (let i = 0; i < chars.length; i += 1) {
      for (const first of readings[i] ?? []) {
        for (const p of byFirstReading.get(first) ?? []) {
          if (i + p.chars.length > chars.length) continue;
          let differ = 0;
          let ok = true;
          for (let k = 0; k < p.chars.length && ok; k += 1) {
            const c = chars[i + k] ?? '';
            if (c === p.chars[k]) continue;
            differ += 1;
            const want = p.readings[k] ?? [];
            ok = differ <= p.maxDistance && (readings[i + k] ?? []).some((r) => want.includes(r));
          }
          if (!ok || differ === 0) continue;
          record(hits, { group: p.group, phrase: p.phrase, found: chars.slice(i, i + p.chars.length).join(''), distance: differ, kind: 'pinyin' });
        }
      }
    }
  };

  const findLatin = (normalised: string, hits: Map<G, FuzzyHit<G>>) => {
    for (const m of normalised.matchAll(WORDS)) {
      const word = m[0];
      if (word.length < 5) continue;
      for (let len = word.length - 2; len <= word.length + 2; len += 1) {
        for (const p of latinByLength.get(len) ?? []) {
          // A prefix phrase (refund*) is compared with the word's start of about its own length.
          const candidates = p.prefix ? [word.slice(0, len - 1), word.slice(0, len), word.slice(0, len + 1)] : [word];
          let best = Number.POSITIVE_INFINITY;
          for (const c of candidates) if (Math.abs(c.length - len) <= p.maxDistance) best = Math.min(best, distance(c, p.stem));
          if (best === 0 || best > p.maxDistance) continue;
          record(hits, { group: p.group, phrase: p.phrase, found: word, distance: best, kind: 'edit' });
        }
      }
    }
  };

  return {
    find(normalised) {
      const hits = new Map<G, FuzzyHit<G>>();
      if (byFirstReading.size > 0) findHan(normalised, hits);
      if (latinByLength.size > 0) findLatin(normalised, hits);
      return hits;
    },
  };
}

function record<G>(hits: Map<G, FuzzyHit<G>>, hit: FuzzyHit<G>): void {
  const known = hits.get(hit.group);
  if (!known || hit.distance < known.distance) hits.set(hit.group, hit);
}

// A toneless syllable is an initial and a final: (initial, final) numbers its stand-in, the same in
// every process and for every order of texts (the n-gram model's features depend on it).
const INITIALS = ['zh', 'ch', 'sh', 'b', 'p', 'm', 'f', 'd', 't', 'n', 'l', 'g', 'k', 'h', 'j', 'q', 'x', 'r', 'z', 'c', 's', 'y', 'w', ''];
const FINALS = [
  'a', 'o', 'e', 'i', 'u', 'ü', 'v', 'ai', 'ei', 'ui', 'ao', 'ou', 'iu', 'ie', 'üe', 've', 'ue', 'er', 'an', 'en', 'in', 'un', 'ün', 'vn',
  'ang', 'eng', 'ing', 'ong', 'ia', 'iao', 'ian', 'iang', 'iong', 'ua', 'uo', 'uai', 'uan', 'uang', 'n', 'ng', 'm', 'hm', 'hng', 'ê',
];
const PARSED_SLOTS = INITIALS.length * FINALS.length;
// Private Use Area: U+E000 … U+F8FF.
const PUA_START = 0xe000;
const PUA_SIZE = 0x1900;

/** The stand-in character of a toneless reading: fixed, whatever was mapped before. */
export function soundStandIn(reading: string): string {
  for (let i = 0; i < INITIALS.length; i += 1) {
    const initial = INITIALS[i] ?? '';
    if (!reading.startsWith(initial)) continue;
    const f = FINALS.indexOf(reading.slice(initial.length));
    if (f >= 0) return String.fromCharCode(PUA_START + i * FINALS.length + f);
  }
  // A reading outside the table (none in practice): hashed into the rest of the area.
  let h = 0x811c9dc5;
  for (const ch of reading) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return String.fromCharCode(PUA_START + PARSED_SLOTS + (h % (PUA_SIZE - PARSED_SLOTS)));
}

/**
 * Replaces each Han character by a stand-in for its (first) toneless reading, from the Private Use
 * Area: text and lexicon mapped alike match whatever same-sound characters an IME put on screen.
 * The stand-in depends on the reading alone (not on what was mapped before), so a model trained on
 * sound features reads them the same at inference.
 */
export function createSoundMapper(): (text: string) => string {
  const readingsOf = createReadings();
  const cache = new Map<string, string>();
  return (text) => {
    let out = '';
    for (const char of text) {
      let mapped = cache.get(char);
      if (mapped === undefined) {
        const reading = /\p{Script=Han}/u.test(char) ? readingsOf(char)[0] : undefined;
        mapped = reading === undefined ? char : soundStandIn(reading);
        cache.set(char, mapped);
      }
      out += mapped;
    }
    return out;
  };
}
