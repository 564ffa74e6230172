import type { Flow, Globals, Option, Step, Text } from './flow-schema.js';
import { LOCALES } from './flow-schema.js';
import { type FlowProblem, type FlowSet, readFlows } from './load-flows.js';
import { FILTERS, templateVars } from './template.js';

/** What the checker needs to know about each action: the outcomes flows may branch on. */
export type ActionCatalogue = ReadonlyMap<string, { outcomes: readonly string[] }>;

interface Edge {
  to: string;
  /** Slots this transition sets. */
  defs: string[];
}

function edges(step: Step): Edge[] {
  const fromOptions = (options: Option[]) => options.map((o) => ({ to: o.next, defs: Object.keys(o.set ?? {}) }));
  switch (step.kind) {
    case 'say':
      return [{ to: step.next, defs: [] }];
    case 'ask':
      return [{ to: step.next, defs: [step.slot] }, { to: step.onFail, defs: [] }, ...fromOptions(step.options)];
    case 'choose':
      return [
        ...fromOptions(step.options),
        ...step.from.map((f) => ({ to: f.next, defs: [f.slot] })),
        ...(step.capture ? [{ to: step.capture.next, defs: [step.capture.slot] }] : []),
      ];
    case 'action': {
      const defs = step.save ? [step.save] : [];
      return [...Object.values(step.on), ...(step.otherwise ? [step.otherwise] : [])].map((to) => ({ to, defs }));
    }
    case 'branch':
      // A case that requires a slot to be present (or equal to something) proves it set on that edge.
      return [
        ...step.cases.map((c) => ({ to: c.next, defs: c.if.present === true || c.if.equals !== undefined || c.if.in ? [c.if.slot.split('.')[0] ?? ''] : [] })),
        { to: step.else, defs: [] },
      ];
    case 'handoff':
    case 'goto':
    case 'end':
      return [];
  }
}

/** Every wording of a step with where it sits, and the extra variables it may use. */
function texts(step: Step): { where: string; text: Text; extra: string[] }[] {
  const options = (list: Option[]) => list.map((o) => ({ where: `option ${o.id}`, text: o.label, extra: [] }));
  switch (step.kind) {
    case 'say':
      return [{ where: 'text', text: step.text, extra: [] }];
    case 'ask':
      return [{ where: 'text', text: step.text, extra: [] }, { where: 'invalid', text: step.invalid, extra: [] }, ...options(step.options)];
    case 'choose':
      return [{ where: 'text', text: step.text, extra: [] }, ...options(step.options)];
    case 'handoff':
      return [{ where: 'text', text: step.text, extra: ['ticketNumber'] }];
    case 'end':
      return step.text ? [{ where: 'text', text: step.text, extra: [] }] : [];
    case 'action':
    case 'branch':
    case 'goto':
      return [];
  }
}

function missingLocales(text: Text): string[] {
  return LOCALES.filter((l) => !text[l]);
}

/** Slots set on every path from an entry to each step (forward must-analysis). */
function definitelySet(flow: Flow, entries: Set<string>): Map<string, Set<string> | null> {
  const ids = Object.keys(flow.steps);
  const inSets = new Map<string, Set<string> | null>(ids.map((id) => [id, entries.has(id) ? new Set<string>() : null]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const id of ids) {
      const current = inSets.get(id);
      const step = flow.steps[id];
      if (current === null || current === undefined || !step) continue;
      for (const edge of edges(step)) {
        if (!inSets.has(edge.to)) continue;
        const out = new Set([...current, ...edge.defs]);
        const before = inSets.get(edge.to) ?? null;
        const next = before === null ? out : new Set([...before].filter((s) => out.has(s)));
        if (entries.has(edge.to)) next.clear();
        if (before === null || next.size !== before.size) {
          inSets.set(edge.to, next);
          changed = true;
        }
      }
    }
  }
  return inSets;
}

function checkFlow(file: string, flow: Flow, all: ReadonlyMap<string, Flow>, actions: ActionCatalogue, humanId: string): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const at = (path: string, message: string) => problems.push({ file, path, message });
  const stepIds = new Set(Object.keys(flow.steps));
  if (!stepIds.has(flow.start)) at('start', `the start step "${flow.start}" does not exist`);

  // Entries: the start, and steps other flows jump to.
  const entries = new Set([flow.start]);
  for (const other of all.values()) {
    for (const step of Object.values(other.steps)) if (step.kind === 'goto' && step.flow === flow.id && step.step) entries.add(step.step);
  }

  for (const [id, step] of Object.entries(flow.steps)) {
    const where = `steps.${id}`;
    for (const edge of edges(step)) {
      if (!stepIds.has(edge.to)) at(where, `goes to step "${edge.to}", which does not exist`);
    }
    if (step.kind === 'goto') {
      const target = all.get(step.flow);
      if (!target) at(where, `goes to flow "${step.flow}", which does not exist`);
      else if (step.step && !target.steps[step.step]) at(where, `goes to step "${step.step}" of flow "${step.flow}", which does not exist`);
    }
    if (step.kind === 'action') {
      const def = actions.get(step.action);
      if (!def) {
        at(where, `calls the unknown action "${step.action}" (known: ${[...actions.keys()].join(', ')})`);
      } else {
        for (const outcome of Object.keys(step.on)) {
          if (!def.outcomes.includes(outcome)) at(`${where}.on.${outcome}`, `"${step.action}" has no outcome "${outcome}" (it has: ${def.outcomes.join(', ')})`);
        }
        const unhandled = def.outcomes.filter((o) => !(o in step.on));
        if (unhandled.length > 0 && !step.otherwise) at(`${where}.on`, `outcomes of "${step.action}" not handled and no "otherwise": ${unhandled.join(', ')}`);
      }
    }
    if (step.kind === 'choose' || step.kind === 'ask') {
      const seen = new Set<string>();
      for (const o of step.options) {
        if (o.id === humanId) at(`${where}.options`, `option id "${o.id}" is reserved for the "talk to a person" button every question gets`);
        if (seen.has(o.id)) at(`${where}.options`, `option id "${o.id}" is used twice`);
        seen.add(o.id);
      }
      if (step.kind === 'choose' && step.options.length === 0 && step.from.length === 0 && !step.capture) at(where, 'a choose step needs options, a list (from) or a capture');
    }
    for (const t of texts(step)) {
      const missing = missingLocales(t.text);
      if (missing.length > 0) at(`${where}.${t.where}`, `missing translation: ${missing.join(', ')}`);
    }
    if (step.kind === 'choose') {
      for (const [i, f] of step.from.entries()) {
        const missing = missingLocales(f.label);
        if (missing.length > 0) at(`${where}.from.${i}.label`, `missing translation: ${missing.join(', ')}`);
      }
    }
  }

  // Unreachable steps.
  const reached = new Set<string>();
  const queue = [...entries].filter((e) => stepIds.has(e));
  while (queue.length > 0) {
    const id = queue.pop() ?? '';
    if (reached.has(id)) continue;
    reached.add(id);
    const step = flow.steps[id];
    if (step) for (const e of edges(step)) if (stepIds.has(e.to) && !reached.has(e.to)) queue.push(e.to);
  }
  for (const id of stepIds) if (!reached.has(id)) at(`steps.${id}`, 'is unreachable: no step leads to it');

  // Template variables must be set on every path that reaches the step.
  const sets = definitelySet(flow, entries);
  for (const [id, step] of Object.entries(flow.steps)) {
    const available = sets.get(id);
    if (!available) continue;
    const uses: { where: string; template: string; extra: string[] }[] = [];
    for (const t of texts(step)) for (const l of LOCALES) if (t.text[l]) uses.push({ where: `${t.where} (${l})`, template: t.text[l] ?? '', extra: t.extra });
    if (step.kind === 'action') for (const [k, v] of Object.entries(step.input)) if (typeof v === 'string') uses.push({ where: `input.${k}`, template: v, extra: [] });
    if (step.kind === 'choose') for (const [i, f] of step.from.entries()) uses.push({ where: `from.${i}.list`, template: `{{${f.list}}}`, extra: [] });
    for (const use of uses) {
      for (const v of templateVars(use.template)) {
        const root = v.path.split('.')[0] ?? '';
        if (v.filter && !(v.filter in FILTERS)) at(`steps.${id}.${use.where}`, `unknown filter "${v.filter}" (known: ${Object.keys(FILTERS).join(', ')})`);
        if (!v.optional && !available.has(root) && !use.extra.includes(root)) {
          at(`steps.${id}.${use.where}`, `uses {{${v.path}}} but "${root}" is not set on every path to this step`);
        }
      }
    }
  }
  return problems;
}

function checkGlobals(globals: Globals): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const { proofRequired, ...messages } = globals.messages;
  const texts: [string, Text][] = [
    ['humanOption.label', globals.humanOption.label],
    ...Object.entries(messages),
    ...Object.entries(proofRequired).map(([k, v]): [string, Text] => [`proofRequired.${k}`, v]),
  ];
  for (const [where, text] of texts) {
    const missing = missingLocales(text);
    if (missing.length > 0) problems.push({ file: 'global.yaml', path: where, message: `missing translation: ${missing.join(', ')}` });
  }
  return problems;
}

/** Checks every flow in a directory: schema, actions and their outcomes, dangling and unreachable steps, translations, template variables. */
export function checkFlows(dir: string, actions: ActionCatalogue): { problems: FlowProblem[]; flows: number } {
  return checkFlowSet(readFlows(dir), actions);
}

/** The same checks over flow files already read (the studio checks drafts this way). */
export function checkFlowSet(read: { set: FlowSet | null; problems: FlowProblem[] }, actions: ActionCatalogue): { problems: FlowProblem[]; flows: number } {
  const { set } = read;
  const problems = [...read.problems];
  if (!set) return { problems, flows: 0 };
  const all = new Map([...set.flows].map(([id, v]) => [id, v.flow]));
  problems.push(...checkGlobals(set.globals));
  for (const flow of all.values()) problems.push(...checkFlow(`${flow.id}.yaml`, flow, all, actions, set.globals.humanOption.id));
  return { problems, flows: all.size };
}

/** One line per problem, for people. */
export function formatProblems(problems: FlowProblem[]): string {
  return problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n');
}
