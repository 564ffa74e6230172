import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { Locale } from '../core/message.js';

/** Root of the per-locale wording files: `locales/<locale>/<area>.yaml`. */
export const LOCALES_DIR = join(import.meta.dirname, '../../locales');

export const LOCALES = Locale.options;

/** A nested YAML mapping of strings, flattened to dotted keys (`queue.title`). */
type Tree = { [key: string]: string | Tree };
const TreeSchema: z.ZodType<Tree> = z.lazy(() => z.record(z.string(), z.union([z.string(), TreeSchema])));

export type Vars = Record<string, string | number>;

/** Wording of one area (console, studio, …) in every locale, with `{{var}}` interpolation. */
export class Catalog {
  constructor(
    readonly area: string,
    private readonly entries: Record<Locale, Map<string, string>>,
  ) {}

  /** The text for `key` in `locale`, falling back to zh-Hans; an unknown key throws (a programming error). */
  t(locale: Locale, key: string, vars: Vars = {}): string {
    const text = this.entries[locale].get(key) ?? this.entries['zh-Hans'].get(key);
    if (text === undefined) throw new Error(`unknown wording key ${this.area}:${key}`);
    return interpolate(text, vars);
  }

  has(key: string): boolean {
    return this.entries['zh-Hans'].has(key);
  }

  /** Every key with its text in each locale (for a client-side bundle or a check). */
  keys(locale: Locale): ReadonlyMap<string, string> {
    return this.entries[locale];
  }

  /** A translator bound to one locale. */
  bind(locale: Locale): (key: string, vars?: Vars) => string {
    return (key, vars) => this.t(locale, key, vars);
  }

  /** Keys present in one locale but missing in another, as `locale:key` strings. */
  missing(): string[] {
    const all = new Set(LOCALES.flatMap((l) => [...this.entries[l].keys()]));
    return LOCALES.flatMap((l) => [...all].filter((k) => !this.entries[l].has(k)).map((k) => `${l}:${k}`));
  }
}

export function interpolate(text: string, vars: Vars): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : String(value);
  });
}

function flatten(tree: Tree, prefix: string, out: Map<string, string>): Map<string, string> {
  for (const [key, value] of Object.entries(tree)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(full, value);
    else flatten(value, full, out);
  }
  return out;
}

const cache = new Map<string, Catalog>();

/** Loads `locales/<locale>/<area>.yaml` for every locale (cached per process). */
export function loadCatalog(area: string, dir: string = LOCALES_DIR): Catalog {
  const cacheKey = `${dir}\u0000${area}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const read = (locale: Locale) => {
    const raw: unknown = parse(readFileSync(join(dir, locale, `${area}.yaml`), 'utf8')) ?? {};
    return flatten(TreeSchema.parse(raw), '', new Map());
  };
  const catalog = new Catalog(area, { 'zh-Hans': read('zh-Hans'), 'zh-Hant': read('zh-Hant'), en: read('en') });
  cache.set(cacheKey, catalog);
  return catalog;
}

/** Every area that has a wording file in zh-Hans. */
export function listAreas(dir: string = LOCALES_DIR): string[] {
  return readdirSync(join(dir, 'zh-Hans'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}
