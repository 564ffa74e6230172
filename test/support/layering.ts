import { readdirSync, readFileSync } from 'node:fs';
import { posix, relative, sep } from 'node:path';

/** One import of one of our files by another, as repository-relative paths. */
export interface ImportEdge {
  from: string;
  to: string;
  line: number;
}

const SOURCE = /\.(?:ts|tsx|js|mjs)$/;
const STATIC = /^[ \t]*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"\n]+)['"]/gm;
const BARE = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/**
 * Every relative import (static, re-export, side-effect, dynamic; type-only too) in the source
 * files under `dirs` of `root`. Tests are left out: like a composition root they wire real parts
 * together. Library imports are not edges: every room may use libraries.
 */
export function scanImports(root: string, dirs: readonly string[] = ['src', 'channels']): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(posix.join(root.split(sep).join('/'), dir))) {
      const from = relative(root, file).split(sep).join('/');
      const text = readFileSync(file, 'utf8');
      for (const pattern of [STATIC, BARE, DYNAMIC]) {
        for (const match of text.matchAll(pattern)) {
          const specifier = match[1];
          if (!specifier?.startsWith('.')) continue;
          const to = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
          const line = text.slice(0, match.index).split('\n').length;
          edges.push({ from, to, line });
        }
      }
    }
  }
  return edges.sort((a, b) => a.from.localeCompare(b.from) || a.line - b.line);
}

function sourceFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE.test(e.name) && !/\.test\.[jt]sx?$/.test(e.name) ? [path] : [];
  });
}

/** The room a file lives in (see docs/architecture.md). */
export function roomOf(path: string): string {
  if (path === 'src/service.ts' || path === 'src/service-channels.ts') return 'composition root';
  const channel = /^channels\/([^/]+)\//.exec(path);
  if (channel) return `channel ${channel[1]}`;
  const room = /^src\/([^/.]+)\//.exec(path);
  return room ? `src/${room[1]}` : path;
}

const isChannel = (room: string) => room.startsWith('channel ');

/** The rule an import breaks, or null. */
export function brokenRule(from: string, to: string): string | null {
  const a = roomOf(from);
  const b = roomOf(to);
  if (a === 'src/engine' && b !== 'src/engine' && b !== 'src/core') return 'src/engine may import only src/engine and src/core';
  if (a === 'src/core' && b !== 'src/core') return 'src/core imports nothing of ours';
  if (a === 'src/db' && (b === 'src/engine' || b === 'src/inbox' || isChannel(b))) return 'src/db never imports the engine, the inbox or a channel';
  if (a === 'src/i18n' && b !== 'src/i18n' && b !== 'src/core') return 'src/i18n (wording files) imports only src/core';
  if (isChannel(a) && !isChannel(b) && b !== 'src/core' && b !== 'src/i18n') return 'a channel may import only src/core and src/i18n (and itself)';
  if (isChannel(b) && !isChannel(a) && a !== 'composition root') {
    return 'only channels/ and the composition root (src/service.ts, src/service-channels.ts) import a channel';
  }
  return null;
}

/** Every import that breaks a layering rule, one readable line each. */
export function layeringViolations(edges: readonly ImportEdge[]): string[] {
  return edges.flatMap((e) => {
    const rule = brokenRule(e.from, e.to);
    return rule ? [`${e.from}:${e.line} imports ${e.to}: ${rule}`] : [];
  });
}
