import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { AppError } from '../core/errors.js';
import { Flow, Globals } from './flow-schema.js';

/** A flow with its content-hash version. */
export interface VersionedFlow {
  flow: Flow;
  version: string;
}

/** Every flow of a flows/ directory plus the global behaviour settings. */
export interface FlowSet {
  globals: Globals;
  flows: ReadonlyMap<string, VersionedFlow>;
}

/** A problem found while reading flow files, for `kefu flows check` and boot errors. */
export interface FlowProblem {
  file: string;
  path: string;
  message: string;
}

export const GLOBALS_FILE = 'global.yaml';

/** flows/ also holds other teams' data (the intent lexicon, handoff wording): a flow file is one with `steps`. */
function isFlowDocument(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && Object.hasOwn(raw, 'steps');
}

/** The version of a flow: a short hash of its canonical JSON, so equal content means equal version. */
export function flowVersion(flow: Flow): string {
  return createHash('sha256').update(canonicalJson(flow)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function zodProblems(file: string, error: z.ZodError): FlowProblem[] {
  return error.issues.map((issue) => ({ file, path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

/** Reads and validates flows/*.yaml; returns what it could load and every problem found. */
export function readFlows(dir: string): { set: FlowSet | null; problems: FlowProblem[] } {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return parseFlowFiles(files.map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') })));
}

/** Validates flow files given as texts (the files of flows/, or their versions edited in the studio). */
export function parseFlowFiles(entries: readonly { file: string; text: string }[]): { set: FlowSet | null; problems: FlowProblem[] } {
  const problems: FlowProblem[] = [];
  const flows = new Map<string, VersionedFlow>();
  let globals: Globals | null = null;
  const files = entries.map((e) => e.file);
  for (const { file, text } of entries) {
    let raw: unknown;
    try {
      raw = parse(text);
    } catch (err) {
      problems.push({ file, path: '(file)', message: `not valid YAML: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (file === GLOBALS_FILE) {
      const parsed = Globals.safeParse(raw);
      if (parsed.success) globals = parsed.data;
      else problems.push(...zodProblems(file, parsed.error));
      continue;
    }
    if (!isFlowDocument(raw)) continue;
    const parsed = Flow.safeParse(raw);
    if (!parsed.success) {
      problems.push(...zodProblems(file, parsed.error));
      continue;
    }
    const flow = parsed.data;
    if (`${flow.id}.yaml` !== basename(file)) problems.push({ file, path: 'id', message: `the flow id "${flow.id}" must match the file name` });
    if (flows.has(flow.id)) problems.push({ file, path: 'id', message: `flow "${flow.id}" is defined twice` });
    flows.set(flow.id, { flow, version: flowVersion(flow) });
  }
  if (!globals) {
    if (!files.includes(GLOBALS_FILE) || problems.length === 0) problems.push({ file: GLOBALS_FILE, path: '(file)', message: 'missing: global behaviour settings are required' });
    return { set: null, problems };
  }
  if (!flows.has(globals.mainFlow)) problems.push({ file: GLOBALS_FILE, path: 'mainFlow', message: `no flow "${globals.mainFlow}"` });
  return { set: { globals, flows }, problems };
}

/** Loads flows for the running service; any schema problem stops the boot with a readable list. */
export function loadFlows(dir: string): FlowSet {
  const { set, problems } = readFlows(dir);
  if (!set || problems.length > 0) {
    const list = problems.map((p) => `${p.file} ${p.path}: ${p.message}`).join('\n');
    throw new AppError('internal', `flows in ${dir} are invalid:\n${list}`, problems);
  }
  return set;
}
