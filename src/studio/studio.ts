import { createTwoFilesPatch } from 'diff';
import { parse } from 'yaml';
import type { ActionRegistry } from '../actions/registry.js';
import { AppError } from '../core/errors.js';
import type { ClassifyContext, IntentClassifier } from '../core/intent.js';
import type { Locale } from '../core/message.js';
import type { Clock } from '../core/ports.js';
import type { Database } from '../db/client.js';
import { saveFlowSnapshots } from '../bot/flow-snapshots.js';
import { auditLog, studioLabels } from '../db/schema.js';
import type { Actor } from '../console/cases.js';
import { FlowLibrary } from '../engine/flow-library.js';
import { type FlowSet, parseFlowFiles } from '../engine/load-flows.js';
import { type Lexicon, parseLexicon } from '../intent/lexicon.js';
import { createRulesClassifier } from '../intent/rules-classifier.js';
import type { Logger } from '../logger.js';
import { DocumentId, fileOf, kindOf, readBaseline, type DocumentKind } from './documents.js';
import { LabelledExample, type LexiconScore, readLabelledSet, scoreLexicon } from './lexicon-score.js';
import { type Engine, inSandbox, playTranscript, SandboxConversation, type SandboxReply, type TranscriptResult } from './sandbox.js';
import * as store from './store.js';
import { Transcript } from './transcript.js';
import { type StudioProblem, validateDocuments } from './validate.js';

/** The NOTIFY channel a publish is announced on; every instance reloads what is in force. */
export const STUDIO_CHANNEL = 'kefu_studio';

/** The intent rules in force; a publish of the lexicon swaps them without a restart. */
export class SwappableClassifier implements IntentClassifier {
  private current: IntentClassifier;
  /**
   * `build` makes the in-process stages from a lexicon (the service: rules, then the local n-gram
   * model; by default the rules alone).
   */
  constructor(
    private inForce: Lexicon,
    private readonly build: (lexicon: Lexicon) => IntentClassifier = createRulesClassifier,
  ) {
    this.current = build(inForce);
  }
  classify(text: string, context: ClassifyContext) {
    return this.current.classify(text, context);
  }
  /** The same stages over another lexicon (a draft's, in the simulator and golden transcripts). */
  classifierFor(lexicon: Lexicon): IntentClassifier {
    return this.build(lexicon);
  }
  /** The lexicon in force: its `guide` is what the LLM prompt lists. */
  get lexicon(): Lexicon {
    return this.inForce;
  }
  /** A published lexicon takes over. */
  useLexicon(lexicon: Lexicon): void {
    this.current = this.build(lexicon);
    this.inForce = lexicon;
  }
}

export interface StudioDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** Dry-run actions (real reads, simulated payouts) for the simulator and golden transcripts; also the catalogue checks use. */
  actions: ActionRegistry;
  /** The live flows of this instance: a publish replaces them. */
  library: FlowLibrary;
  /** The live intent rules of this instance. */
  rules: SwappableClassifier;
  /** STUDIO_FOUR_EYES: a draft's author may not publish it. */
  fourEyes: boolean;
  baseline?: ReadonlyMap<string, string>;
  examples?: readonly LabelledExample[];
}

export type DocumentState = 'baseline' | 'draft' | 'published';

export interface DocumentSummary {
  id: string;
  kind: DocumentKind;
  state: DocumentState;
  draft: { number: number; author: string | null; at: Date } | null;
  published: { number: number; by: string | null; at: Date | null } | null;
}

export interface PublishCheck {
  problems: StudioProblem[];
  transcripts: TranscriptResult[];
  lexicon: { before: LexiconScore; after: LexiconScore } | null;
}

const EDITORS: readonly Actor['role'][] = ['editor', 'admin'];
const PUBLISHERS: readonly Actor['role'][] = ['admin'];

function must(actor: Actor, roles: readonly Actor['role'][], what: string): void {
  if (!roles.includes(actor.role)) throw new AppError('forbidden', `${what} needs the role ${roles.join(' or ')}`);
}

/** Says where a problem is, for people: `flows/refund.yaml line 42 (steps.confirm.text): missing translation: en`. */
export function describeProblem(p: StudioProblem): string {
  return `${p.documentId}${p.line ? ` line ${p.line}` : ''} (${p.path}): ${p.message}`;
}

/**
 * The platform studio: versioned documents over the baseline files, validation, the simulator,
 * golden transcripts and lexicon scoring as publish gates, publish and rollback (audited, and
 * announced to every instance), the labelled set.
 */
export class Studio {
  readonly baseline: ReadonlyMap<string, string>;
  private readonly examples: readonly LabelledExample[];
  private stopListening: (() => Promise<void>) | null = null;
  private reloading: Promise<void> = Promise.resolve();
  /** Bumped on every reload (tests and the health of a publish). */
  generation = 0;

  constructor(private readonly deps: StudioDeps) {
    this.baseline = deps.baseline ?? readBaseline();
    this.examples = deps.examples ?? readLabelledSet();
  }

  private get db() {
    return this.deps.database.db;
  }

  /** Loads what is published and follows publishes made by any instance. */
  async start(): Promise<void> {
    this.stopListening = await this.deps.database.listen(STUDIO_CHANNEL, () => {
      this.reloading = this.reloading.then(() => this.reload()).catch((err: unknown) => this.deps.logger.error({ err }, 'studio.reload_failed'));
    });
    await this.reload();
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
    this.stopListening = null;
    await this.reloading;
  }

  /** Makes the published versions the live flows and intent rules of this instance. */
  async reload(): Promise<void> {
    const texts = await store.publishedTexts(this.db, this.baseline);
    const built = this.buildEngine(texts);
    if ('problems' in built) {
      // A publish is validated first; this only happens when the code changed under a published version.
      this.deps.logger.error({ problems: built.problems.length }, 'studio.published_invalid');
      return;
    }
    this.deps.library.replace(built.set);
    await saveFlowSnapshots(this.db, this.deps.library, this.deps.clock.now());
    this.deps.rules.useLexicon(built.lexicon);
    this.generation += 1;
    this.deps.logger.info({ generation: this.generation }, 'studio.reloaded');
  }

  private buildEngine(texts: ReadonlyMap<string, string>): { set: FlowSet; lexicon: Lexicon; library: FlowLibrary } | { problems: string[] } {
    const read = parseFlowFiles([...texts].filter(([id]) => id.startsWith('flows/')).map(([id, text]) => ({ file: fileOf(id), text })));
    if (!read.set || read.problems.length > 0) return { problems: read.problems.map((p) => `${p.file} ${p.path}: ${p.message}`) };
    let lexicon: Lexicon;
    try {
      lexicon = parseLexicon(parse(texts.get('flows/intents.yaml') ?? ''), 'flows/intents.yaml');
    } catch (err) {
      return { problems: [err instanceof Error ? err.message : String(err)] };
    }
    return { set: read.set, lexicon, library: new FlowLibrary(read.set) };
  }

  private engineOf(texts: ReadonlyMap<string, string>): Engine & { lexicon: Lexicon } {
    const built = this.buildEngine(texts);
    if ('problems' in built) throw new AppError('validation_failed', `the draft does not load: ${built.problems[0] ?? ''}`, { problems: built.problems });
    return { library: built.library, classifier: this.deps.rules.classifierFor(built.lexicon), lexicon: built.lexicon };
  }

  private known(id: string): void {
    const parsed = DocumentId.safeParse(id);
    if (!parsed.success) throw new AppError('bad_request', parsed.error.issues[0]?.message ?? 'bad document id');
  }

  /** Every document with its state: baseline only, published, or with a draft; who and when. */
  async list(): Promise<DocumentSummary[]> {
    const heads = await store.listHeads(this.db);
    const byId = new Map(heads.map((h) => [h.documentId, h]));
    const versions = await store.versionsById(this.db, heads.flatMap((h) => [h.draftId, h.publishedId].filter((v): v is string => v !== null)));
    const ids = [...new Set([...this.baseline.keys(), ...byId.keys()])].sort();
    return ids.map((id) => {
      const head = byId.get(id);
      const draft = head?.draftId ? versions.get(head.draftId) : undefined;
      const published = head?.publishedId ? versions.get(head.publishedId) : undefined;
      return {
        id,
        kind: kindOf(id),
        state: draft ? 'draft' : published ? 'published' : 'baseline',
        draft: draft ? { number: draft.number, author: draft.authorName, at: draft.createdAt } : null,
        published: published ? { number: published.number, by: published.publishedByName, at: published.publishedAt } : null,
      };
    });
  }

  /** One document: baseline, published and draft texts, and its whole history. */
  async document(id: string) {
    this.known(id);
    const head = await store.headOf(this.db, id);
    const baseline = this.baseline.get(id) ?? null;
    if (!head && baseline === null) throw new AppError('not_found', `No document ${id}`);
    const history = await store.history(this.db, id);
    const draft = history.find((v) => v.id === head?.draftId) ?? null;
    const published = history.find((v) => v.id === head?.publishedId) ?? null;
    return { id, kind: kindOf(id), baseline, published, draft, content: draft?.content ?? published?.content ?? baseline ?? '', history };
  }

  /** Texts as the drafts would make them (published elsewhere), optionally with one unsaved text. */
  async draftTexts(override?: { id: string; content: string }): Promise<Map<string, string>> {
    const texts = await store.publishedTexts(this.db, this.baseline);
    for (const [id, v] of await store.drafts(this.db)) texts.set(id, v.content);
    if (override) texts.set(override.id, override.content);
    return texts;
  }

  /** Validation as you type: the problems of one document's text, checked together with every other draft. */
  async validate(id: string, content: string): Promise<{ problems: StudioProblem[]; elsewhere: number }> {
    this.known(id);
    const all = validateDocuments(await this.draftTexts({ id, content }), this.deps.actions);
    const problems = all.filter((p) => p.documentId === id);
    return { problems, elsewhere: all.length - problems.length };
  }

  async saveDraft(actor: Actor, id: string, content: string, comment: string) {
    must(actor, EDITORS, 'Editing');
    this.known(id);
    if (!this.baseline.has(id) && kindOf(id) !== 'transcript' && !(await store.headOf(this.db, id))) {
      throw new AppError('not_found', `No document ${id}; only new golden transcripts can be created`);
    }
    const version = await store.saveDraft(this.db, { documentId: id, content, authorId: actor.id, comment, now: this.deps.clock.now() });
    const { problems } = await this.validate(id, content);
    return { version, problems };
  }

  async discardDraft(actor: Actor, id: string): Promise<void> {
    must(actor, EDITORS, 'Editing');
    this.known(id);
    await store.discardDraft(this.db, id, this.deps.clock.now());
  }

  async nameVersion(actor: Actor, versionId: string, name: string | null): Promise<void> {
    must(actor, EDITORS, 'Naming a version');
    if (!(await store.nameVersion(this.db, versionId, name))) throw new AppError('not_found', `No version ${versionId}`);
  }

  /** A unified diff between two versions of a document: version ids, or `baseline`, `published`, `draft`. */
  async diff(id: string, from: string, to: string): Promise<{ from: string; to: string; patch: string }> {
    const doc = await this.document(id);
    const pick = (ref: string): { label: string; text: string } => {
      if (ref === 'baseline') return { label: 'baseline', text: doc.baseline ?? '' };
      if (ref === 'published') return { label: doc.published ? `v${doc.published.number} (published)` : 'baseline', text: doc.published?.content ?? doc.baseline ?? '' };
      if (ref === 'draft') return { label: doc.draft ? `v${doc.draft.number} (draft)` : 'no draft', text: doc.draft?.content ?? doc.published?.content ?? doc.baseline ?? '' };
      const v = doc.history.find((h) => h.id === ref || String(h.number) === ref);
      if (!v) throw new AppError('not_found', `No version ${ref} of ${id}`);
      return { label: `v${v.number}${v.name ? ` “${v.name}”` : ''}`, text: v.content };
    };
    const a = pick(from);
    const b = pick(to);
    return { from: a.label, to: b.label, patch: createTwoFilesPatch(`${id} ${a.label}`, `${id} ${b.label}`, a.text, b.text, '', '', { context: 3 }) };
  }

  /** Everything a publish of these drafts must pass: validation, every golden transcript, the lexicon score. */
  async checkPublish(ids: readonly string[]): Promise<PublishCheck> {
    const texts = await store.publishedTexts(this.db, this.baseline);
    const current = new Map(texts);
    const pending = await store.drafts(this.db);
    for (const id of ids) {
      const draft = pending.get(id);
      if (!draft) throw new AppError('conflict', `${id} has no draft to publish`);
      texts.set(id, draft.content);
    }
    const problems = validateDocuments(texts, this.deps.actions);
    if (problems.length > 0) return { problems, transcripts: [], lexicon: null };
    const engine = this.engineOf(texts);
    const transcripts: TranscriptResult[] = [];
    const now = this.deps.clock.now();
    for (const [id, text] of texts) {
      if (kindOf(id) !== 'transcript') continue;
      const transcript = Transcript.parse(parse(text));
      transcripts.push(await playTranscript(this.db, engine, this.deps.actions, this.deps.logger, id, transcript, now));
    }
    let lexicon: PublishCheck['lexicon'] = null;
    if (ids.includes('flows/intents.yaml')) {
      const examples = await this.labelledSet();
      lexicon = { before: scoreLexicon(this.engineOf(current).lexicon, examples), after: scoreLexicon(engine.lexicon, examples) };
    }
    return { problems, transcripts, lexicon };
  }

  /**
   * Publishes drafts together (a flow with its updated golden transcript). Refused while any
   * check fails; a lower lexicon accuracy needs `confirmLowerAccuracy`. Audited, then live here at
   * once and on every other instance through NOTIFY.
   */
  async publish(actor: Actor, input: { documents: readonly string[]; comment: string; confirmLowerAccuracy?: boolean }): Promise<PublishCheck> {
    must(actor, PUBLISHERS, 'Publishing');
    if (input.documents.length === 0) throw new AppError('bad_request', 'Name at least one document with a draft');
    for (const id of input.documents) this.known(id);
    const pending = await store.drafts(this.db);
    if (this.deps.fourEyes) {
      const own = input.documents.filter((id) => pending.get(id)?.authorId === actor.id);
      if (own.length > 0) throw new AppError('forbidden', `Four-eyes rule: someone other than the author must publish ${own.join(', ')}`);
    }
    const check = await this.checkPublish(input.documents);
    const first = check.problems[0];
    if (first) throw new AppError('validation_failed', `Cannot publish: ${describeProblem(first)}`, { problems: check.problems });
    const failed = check.transcripts.find((t) => !t.ok);
    if (failed?.difference) {
      const d = failed.difference;
      throw new AppError('validation_failed', `Cannot publish: golden transcript ${failed.documentId} turn ${d.turn}: expected ${d.expected}, got ${d.actual}`, {
        transcripts: check.transcripts,
      });
    }
    if (check.lexicon && check.lexicon.after.accuracy < check.lexicon.before.accuracy && !input.confirmLowerAccuracy) {
      const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
      throw new AppError('conflict', `The lexicon draft lowers accuracy from ${pct(check.lexicon.before.accuracy)} to ${pct(check.lexicon.after.accuracy)}; confirm to publish anyway`, {
        confirmationRequired: true,
        lexicon: check.lexicon,
      });
    }
    const now = this.deps.clock.now();
    await this.db.transaction(async (tx) => {
      for (const id of input.documents) {
        const draft = pending.get(id);
        if (!draft) continue;
        await store.setPublished(tx, id, draft.id, actor.id, now);
        await tx.insert(auditLog).values({
          actorType: 'agent',
          actorId: actor.id,
          action: 'studio.publish',
          subjectType: 'studio_document',
          subjectId: id,
          data: { versionId: draft.id, number: draft.number, authorId: draft.authorId, comment: input.comment, lexicon: check.lexicon ? { before: check.lexicon.before.accuracy, after: check.lexicon.after.accuracy } : null },
          createdAt: now,
        });
      }
    });
    await this.announce();
    this.deps.logger.info({ documents: input.documents.length }, 'studio.published');
    return check;
  }

  /** Puts an earlier version (or the baseline, `baseline`) back in force in one action; validated and audited. */
  async rollback(actor: Actor, id: string, to: string, comment: string): Promise<void> {
    must(actor, PUBLISHERS, 'Rolling back');
    const doc = await this.document(id);
    const target = to === 'baseline' ? null : doc.history.find((v) => v.id === to || String(v.number) === to);
    if (target === undefined) throw new AppError('not_found', `No version ${to} of ${id}`);
    if (target === null && doc.baseline === null) throw new AppError('conflict', `${id} has no baseline file`);
    const texts = await store.publishedTexts(this.db, this.baseline);
    texts.set(id, target?.content ?? doc.baseline ?? '');
    const problems = validateDocuments(texts, this.deps.actions);
    const first = problems[0];
    if (first) throw new AppError('validation_failed', `Cannot roll back: ${describeProblem(first)}`, { problems });
    const now = this.deps.clock.now();
    await this.db.transaction(async (tx) => {
      await store.setPublished(tx, id, target?.id ?? null, actor.id, now);
      await tx.insert(auditLog).values({
        actorType: 'agent',
        actorId: actor.id,
        action: 'studio.rollback',
        subjectType: 'studio_document',
        subjectId: id,
        data: { from: doc.published?.id ?? null, to: target?.id ?? 'baseline', number: target?.number ?? null, comment },
        createdAt: now,
      });
    });
    await this.announce();
    this.deps.logger.info({ documentId: id }, 'studio.rolled_back');
  }

  /** Reloads here at once, and tells every other instance to reload. */
  private async announce(): Promise<void> {
    await this.reload();
    await this.deps.database.notify(STUDIO_CHANNEL, JSON.stringify({ at: this.deps.clock.now().toISOString() }));
  }

  /**
   * Runs the drafts as a chosen demo customer: the turns are replayed from the start in a sandbox
   * each time (nothing is written), and the replies of every turn come back.
   */
  async simulate(input: { customerId: string; locale: Locale; turns: { text: string; choice: string | null }[] }) {
    const engine = this.engineOf(await this.draftTexts());
    const now = this.deps.clock.now();
    return inSandbox(this.db, async (tx) => {
      const sandbox = await SandboxConversation.open(tx, engine, this.deps.actions, this.deps.logger, input.customerId, input.locale);
      const turns: { input: { text: string; choice: string | null }; replies: SandboxReply[] }[] = [];
      for (const turn of input.turns) turns.push({ input: turn, replies: await sandbox.send(turn, now) });
      const c = sandbox.conversation;
      return { turns, status: c.status, flowId: c.flowId, state: c.state, effects: await sandbox.effects() };
    });
  }

  /** The labelled set: the shipped examples plus those editors labelled from real traffic. */
  async labelledSet(): Promise<LabelledExample[]> {
    const rows = await this.db.select().from(studioLabels);
    const added = rows.flatMap((r) => {
      const parsed = LabelledExample.safeParse(r);
      return parsed.success ? [parsed.data] : [];
    });
    const seen = new Set(added.map((a) => a.text));
    return [...this.examples.filter((e) => !seen.has(e.text)), ...added];
  }

  /** Labels an utterance (from the not-understood list); it joins the labelled set. */
  async addLabel(actor: Actor, input: { text: string; intent: LabelledExample['intent']; lang: string }): Promise<void> {
    must(actor, EDITORS, 'Labelling');
    const now = this.deps.clock.now();
    await this.db
      .insert(studioLabels)
      .values({ text: input.text, intent: input.intent, lang: input.lang, authorId: actor.id, createdAt: now })
      .onConflictDoUpdate({ target: studioLabels.text, set: { intent: input.intent, authorId: actor.id, createdAt: now } });
  }

  /** The lexicon score of the current drafts against the published lexicon (for the lexicon page). */
  async scoreDraft(): Promise<{ before: LexiconScore; after: LexiconScore }> {
    const examples = await this.labelledSet();
    const before = this.engineOf(await store.publishedTexts(this.db, this.baseline)).lexicon;
    const after = this.engineOf(await this.draftTexts()).lexicon;
    return { before: scoreLexicon(before, examples), after: scoreLexicon(after, examples) };
  }

  /** The version of a flow new conversations start on, on this instance. */
  liveFlow(flowId: string) {
    return this.deps.library.current(flowId);
  }

  /** The global settings in force on this instance (the not-understood list reads their wording). */
  liveGlobals() {
    return this.deps.library.globals;
  }

  /** Published texts (what `kefu studio export` writes). */
  publishedTexts(): Promise<Map<string, string>> {
    return store.publishedTexts(this.db, this.baseline);
  }

  /** Stages files as drafts after validating them together (`kefu studio import`); nothing is staged when any fails. */
  async importDrafts(files: ReadonlyMap<string, string>, authorId: string | null, comment: string): Promise<{ staged: string[]; problems: StudioProblem[] }> {
    for (const id of files.keys()) this.known(id);
    const texts = await this.draftTexts();
    const changed = [...files].filter(([id, text]) => texts.get(id) !== text);
    for (const [id, text] of changed) texts.set(id, text);
    const problems = validateDocuments(texts, this.deps.actions);
    if (problems.length > 0) return { staged: [], problems };
    const now = this.deps.clock.now();
    for (const [id, content] of changed) await store.saveDraft(this.db, { documentId: id, content, authorId, comment, now });
    return { staged: changed.map(([id]) => id), problems: [] };
  }
}
