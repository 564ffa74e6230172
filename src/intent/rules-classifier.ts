import { hanScriptCounts, toSimplified } from '../core/han-variants.js';
import type { Classification, ClassifyContext, ComplaintCategory, Intent, IntentCandidate, IntentClassifier, Sentiment } from '../core/intent.js';
import { detectLocale } from '../core/locale.js';
import type { Locale } from '../core/message.js';
import { createFuzzyIndex, createSoundMapper, type FuzzyHit, type FuzzyIndex } from './fuzzy.js';
import { type CueGroup, type Lexicon, SCORED_INTENTS } from './lexicon.js';

/** At or above this confidence the rules answer alone; below it the cascade asks the LLM. */
export const CONFIDENT_THRESHOLD = 0.75;

/** Whether a classification is sure enough to act on without asking the LLM. */
export function confidentEnough(result: Classification): boolean {
  return result.confidence >= CONFIDENT_THRESHOLD;
}

// Scores saturate: one strong cue (weight 4) reaches the threshold on its own, weak cues add up.
const SATURATION = 2.5;
// A "person" score this high wins over everything else: asking for a human is always honoured.
const HUMAN_DECISIVE = 4;
// Confidence of answers that need no scoring: a bare order number or coupon code, a bare yes/no.
const BARE_ANSWER = 0.9;
// Nothing matched: say `other`, but not confidently, so the LLM gets a look.
const NOTHING_MATCHED = 0.3;
// A code in a sentence that names no intent: probably about that order.
const CODE_IN_SENTENCE = 0.55;

type ScoredIntent = (typeof SCORED_INTENTS)[number];

interface CompiledGroup {
  weight: number;
  matches(normalised: string, raw: string): boolean;
  /** Whether its phrases or regexes match the text with every Han character replaced by its sound (null: not tried). */
  soundsLike: ((sound: string) => boolean) | null;
  /** A Han phrase or regex of the group, to name it when it matched by sound. */
  describe(): string;
  /** The first of its phrases (or regexes) found as written and the text it matched (for explaining an answer), or null. */
  phraseIn(normalised: string): { phrase: string; found: string } | null;
}

// Each unit of typo/homophone distance takes this share off the group's weight: 推款 counts 0.9 × 退款.
const FUZZY_PENALTY = 0.1;
// Only cues that decide on their own (weight >= 3), or Han phrases of 3+ characters, match fuzzily:
// two-character hints like 一般 have too many same-sounding everyday words (一半).
const FUZZY_MIN_WEIGHT = 3;

type Match = NonNullable<Classification['match']>;

// A regex cue is named by this many characters of its source at most.
const MAX_PATTERN_SHOWN = 40;
// Candidates passed on (to the LLM as hints): the strongest few are enough.
const MAX_CANDIDATES = 4;

interface CompiledLexicon {
  intents: Record<ScoredIntent, CompiledGroup[]>;
  categories: (CompiledGroup & { category: ComplaintCategory })[];
  anger: CompiledGroup[];
  negative: CompiledGroup[];
  yes: string[];
  no: string[];
  tails: string[];
  fuzzy: FuzzyIndex<CompiledGroup>;
  /** Each Han character replaced by one stand-in per toneless reading. */
  sound(text: string): string;
}

/** The deterministic, synchronous lexicon classifier: the first stage of intent detection and its fallback. */
export function createRulesClassifier(lexicon: Lexicon): IntentClassifier & { classifySync(text: string, context?: ClassifyContext | null): Classification } {
  const compiled = compileLexicon(lexicon);
  const classifySync = (text: string, context: ClassifyContext | null = null): Classification => classifyText(compiled, text, context);
  return {
    classifySync,
    classify: async (text, context) => classifySync(text, context),
  };
}

/** Full-width to half-width, case-folded, Traditional to Simplified, whitespace collapsed. */
export function normaliseText(text: string): string {
  return toSimplified(text.normalize('NFKC').replace(/[\u2018\u2019\u02bc]/g, "'").toLowerCase())
    .replace(/\s+/g, ' ')
    .trim();
}

const ORDER_NUMBER = /(?<![a-z0-9])kf[\s-]*((?:\d[\s-]?){7}\d)(?![0-9])/;
const COUPON_DASHED = /(?<![A-Za-z0-9])([A-Za-z0-9]{4}) ?- ?([A-Za-z0-9]{4}) ?- ?([A-Za-z0-9]{4})(?![A-Za-z0-9])/;
// Without dashes only in capitals and with a digit and a letter, so words and phone numbers are not codes.
const COUPON_PLAIN = /(?<![A-Za-z0-9])([A-Z0-9]{4}) ?([A-Z0-9]{4}) ?([A-Z0-9]{4})(?![A-Za-z0-9])/g;
const HAN = /\p{Script=Han}/u;
const FILLER = /[\s\p{P}\p{S}]/gu;
const CLAUSE_BREAK = /[,.!?;~、。，！？；…\n]/u;
const CLAUSE_BREAK_ALL = /[,.!?;~、。，！？；…\n]+/gu;
const CLAUSE_BREAK_KEEP = /([,.!?;~、。，！？；…\n]+)/u;

/** The demo platform's order number (`KF` + 8 digits), tolerant of case, spaces and dashes. */
export function extractOrderNumber(normalised: string): { value: string; match: string } | null {
  const m = ORDER_NUMBER.exec(normalised);
  if (!m?.[1]) return null;
  return { value: `KF${m[1].replace(/[\s-]/g, '')}`, match: m[0] };
}

/** A coupon code `XXXX-XXXX-XXXX` (upper-case letters and digits), with or without the dashes. */
export function extractCouponCode(raw: string): { value: string; match: string } | null {
  const dashed = COUPON_DASHED.exec(raw);
  if (dashed?.[1] && dashed[2] && dashed[3]) return { value: `${dashed[1]}-${dashed[2]}-${dashed[3]}`.toUpperCase(), match: dashed[0] };
  for (const plain of raw.matchAll(COUPON_PLAIN)) {
    const code = `${plain[1]}${plain[2]}${plain[3]}`;
    if (/[0-9]/.test(code) && /[A-Z]/.test(code)) return { value: `${plain[1]}-${plain[2]}-${plain[3]}`, match: plain[0] };
  }
  return null;
}

// A message of this many clauses or more is read clause by clause when the whole is unclear.
const LONG_MESSAGE_CLAUSES = 3;
const ACTIONABLE: readonly Intent[] = ['human', 'refund', 'complaint', 'account_help', 'order_help'];
// Requests that stand out of a story (money back, a person); a review's passing "快递" does not.
const OVERRULING: readonly Intent[] = ['human', 'refund'];

function classifyText(lexicon: CompiledLexicon, text: string, context: ClassifyContext | null): Classification {
  let whole = classifyWhole(lexicon, text, context);
  if (!confidentEnough(whole)) {
    // A request wrapped in a greeting or thanks, read without them when that makes it clearer.
    const trimmed = withoutCourtesy(lexicon, text);
    const request = trimmed === text ? null : classifyWhole(lexicon, trimmed, context);
    if (request && request.intent !== 'other' && request.confidence > whole.confidence) whole = request;
  }
  if (confidentEnough(whole)) return whole;
  const clauses = text.split(CLAUSE_BREAK_ALL).filter((c) => c.replace(FILLER, '') !== '');
  if (clauses.length < LONG_MESSAGE_CLAUSES) return whole;
  // Speech-to-text and rambling: greetings, the story and thanks dilute the one request. Take the
  // strongest actionable clause (ties: the order of ACTIONABLE), keeping the whole text's slots.
  let best: Classification | null = null;
  for (const clause of clauses) {
    const c = classifyWhole(lexicon, clause, context);
    // A clause may sharpen what the whole already leans to; only a sure money-back or person request overrules it.
    if (!ACTIONABLE.includes(c.intent) || c.confidence < 0.5 || (c.intent !== whole.intent && !(OVERRULING.includes(c.intent) && confidentEnough(c)))) continue;
    if (!best || c.confidence > best.confidence || (c.confidence === best.confidence && ACTIONABLE.indexOf(c.intent) < ACTIONABLE.indexOf(best.intent))) best = c;
  }
  if (!best || best.confidence <= whole.confidence) return whole;
  return { ...whole, intent: best.intent, confidence: best.confidence, match: best.match, ...mergedCandidates(whole, best) };
}

/**
 * The text without its courtesy clauses (a "你好" before or a "谢谢" after the request: clauses of
 * only the lexicon's tail words) when something else remains. Thanks and greetings count as
 * feedback (`other`) on their own, so left in they would dilute the request they wrap.
 */
function withoutCourtesy(lexicon: CompiledLexicon, text: string): string {
  // Clauses at even indexes, each followed by its break ("?" and "!" stay with what they end).
  const parts = text.split(CLAUSE_BREAK_KEEP);
  const courtesy = (i: number) => {
    const clause = normaliseText(parts[i] ?? '').replace(FILLER, '');
    return clause !== '' && onlyTail(clause, lexicon.tails);
  };
  const dropped = new Set<number>();
  for (let i = 0; i < parts.length; i += 2) if (courtesy(i)) dropped.add(i);
  const kept = parts.filter((p, i) => i % 2 === 0 && !dropped.has(i) && p.replace(FILLER, '') !== '');
  if (dropped.size === 0 || kept.length === 0) return text;
  return parts.filter((_, i) => !dropped.has(i) && !dropped.has(i - 1)).join('').replace(/^[\s\p{P}]+/u, '');
}

/** The whole text's candidates, with the deciding clause's first when the whole lacked it. */
function mergedCandidates(whole: Classification, clause: Classification): Pick<Classification, 'candidates'> {
  const list = [...(clause.candidates ?? []).slice(0, 1), ...(whole.candidates ?? [])];
  const seen = new Set<string>();
  const unique = list.filter((c) => {
    const key = `${c.intent}|${c.phrase}|${c.found}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.length > 0 ? { candidates: unique.slice(0, MAX_CANDIDATES) } : {};
}

function classifyWhole(lexicon: CompiledLexicon, text: string, context: ClassifyContext | null): Classification {
  const raw = text.normalize('NFKC');
  const normalised = normaliseText(text);
  const language = chooseLanguage(raw, context?.locale ?? null);

  const orderNumber = extractOrderNumber(normalised);
  const couponCode = extractCouponCode(orderNumber ? raw.replace(new RegExp(orderNumber.match.replace(/[\s-]/g, '[\\s-]*'), 'i'), ' ') : raw);

  const fuzzy = lexicon.fuzzy.find(normalised);
  let sound: string | null = null;
  let exactHuman = 0;
  // Per intent, the evidence of its strongest group: what `kefu classify` shows and the LLM gets as a hint.
  const evidence = new Map<ScoredIntent, { weight: number; match: Match | null; group: CompiledGroup }>();
  const weigh = (intent: ScoredIntent, group: CompiledGroup): number => {
    let weight = 0;
    let hit: FuzzyHit<CompiledGroup> | undefined;
    if (group.matches(normalised, raw)) {
      weight = group.weight;
      if (intent === 'human') exactHuman += weight;
    } else if ((hit = fuzzy.get(group))) {
      weight = group.weight * (1 - FUZZY_PENALTY * hit.distance);
    } else if (group.soundsLike && (sound ??= lexicon.sound(normalised)) !== normalised && group.soundsLike(sound)) {
      // A regex cue (客服在吗, 什么时候能到) written with a same-sound character: at least one differs.
      weight = group.weight * (1 - FUZZY_PENALTY);
      hit = { group, phrase: group.describe(), found: '', distance: 1, kind: 'pinyin' };
    }
    if (weight > 0 && weight > (evidence.get(intent)?.weight ?? 0)) {
      const match: Match | null = hit ? { phrase: hit.phrase, found: hit.found, distance: hit.distance, kind: hit.kind } : null;
      evidence.set(intent, { weight, match, group });
    }
    return weight;
  };
  const scores: Record<ScoredIntent, number> = { human: 0, complaint: 0, refund_status: 0, refund: 0, account_help: 0, order_help: 0, other: 0 };
  for (const intent of SCORED_INTENTS) {
    for (const group of lexicon.intents[intent]) scores[intent] += weigh(intent, group);
  }
  let complaintCategory: ComplaintCategory | null = null;
  for (const group of lexicon.categories) {
    const weight = weigh('complaint', group);
    if (weight <= 0) continue;
    complaintCategory ??= group.category;
    scores.complaint += weight;
  }
  // Anger sets the sentiment and, when nothing else says what it is about, makes it a complaint.
  const anger = lexicon.anger.find((g) => g.matches(normalised, raw));
  const angry = anger !== undefined;
  if (anger && SCORED_INTENTS.every((intent) => intent === 'other' || scores[intent] <= 0)) scores.complaint += anger.weight;
  const sentiment: Sentiment = angry ? 'angry' : lexicon.negative.some((g) => g.matches(normalised, raw)) ? 'negative' : 'neutral';
  const answered = detectAffirmation(lexicon, normalised);
  const affirmation = answered?.answer ?? null;

  const slots = {
    orderNumber: orderNumber?.value ?? null,
    couponCode: couponCode?.value ?? null,
    complaintCategory,
    affirmation,
  };
  const explain = (intent: Intent): Match | null => {
    const found = SCORED_INTENTS.includes(intent as ScoredIntent) ? evidence.get(intent as ScoredIntent) : undefined;
    if (!found) return null;
    if (found.match) return found.match;
    const hit = found.group.phraseIn(normalised);
    return hit === null ? null : { ...hit, distance: 0, kind: 'exact' };
  };
  // Every intent with a matching cue, strongest first: the hints the LLM gets when the rules are unsure.
  const candidates = (): IntentCandidate[] => {
    const out: IntentCandidate[] = [];
    for (const [intent] of [...evidence].sort((a, b) => b[1].weight - a[1].weight)) {
      const match = explain(intent);
      if (match && out.length < MAX_CANDIDATES) out.push({ intent, ...match });
    }
    return out;
  };
  const answer = (intent: Intent, confidence: number): Classification => {
    // Only an unsure answer goes on to the LLM; a sure one need not pay for explaining every cue.
    const list = confidence < CONFIDENT_THRESHOLD ? candidates() : [];
    return {
      intent,
      confidence: Math.round(Math.min(1, Math.max(0, confidence)) * 1000) / 1000,
      slots,
      sentiment,
      language,
      source: 'rules',
      match: explain(intent),
      ...(list.length > 0 ? { candidates: list } : {}),
    };
  };

  // Only words as written decide for a person on their own: 货人 sounds like 活人 but asks for no one.
  if (exactHuman >= HUMAN_DECISIVE) return answer('human', saturate(scores.human));
  // A bare 是的 / 不是 / "yes" answers the bot's question, whatever weak cues its words carry.
  if (answered?.whole) return answer('other', BARE_ANSWER);

  let best: ScoredIntent | null = null;
  let second = 0;
  for (const intent of SCORED_INTENTS) {
    const score = scores[intent];
    if (score <= 0) continue;
    if (best === null || score > scores[best]) {
      if (best !== null) second = Math.max(second, scores[best]);
      best = intent;
    } else {
      second = Math.max(second, score);
    }
  }
  if (best !== null) {
    const top = scores[best];
    return answer(best, saturate(top) * (1 - 0.6 * (second / top)));
  }

  const code = orderNumber ?? couponCode;
  if (code) {
    const rest = normalised.replace(code.match.toLowerCase(), '').replace(FILLER, '');
    // A code alone names an order but asks nothing (like a bare yes/no it answers a question):
    // `other`, so the main menu offers what can be done with that order; a waiting step captures it.
    return answer('other', rest.length <= 2 ? BARE_ANSWER : CODE_IN_SENTENCE);
  }
  if (affirmation) return answer('other', BARE_ANSWER);
  return answer('other', NOTHING_MATCHED);
}

/** The text's own language; for Chinese that looks the same in both scripts (我要退款), the conversation's. */
function chooseLanguage(raw: string, known: Locale | null): Locale | null {
  const detected = detectLocale(raw);
  if (detected === null) return known;
  if (detected !== 'en' && known !== null && known !== 'en') {
    const { traditional, simplified } = hanScriptCounts(raw);
    if (traditional === 0 && simplified === 0) return known;
  }
  return detected;
}

function saturate(score: number): number {
  return 1 - Math.exp(-score / SATURATION);
}

/**
 * yes/no when the message (or its first clause) is an answer word, followed at most by tail words
 * (呀, 谢谢, "thanks"); `whole` when nothing else follows.
 */
function detectAffirmation(lexicon: CompiledLexicon, normalised: string): { answer: 'yes' | 'no'; whole: boolean } | null {
  const clause = (normalised.split(CLAUSE_BREAK)[0] ?? '').replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '');
  if (clause === '') return null;
  const yes = longestAnswerPrefix(lexicon.yes, lexicon.tails, clause);
  const no = longestAnswerPrefix(lexicon.no, lexicon.tails, clause);
  if (yes === 0 && no === 0) return null;
  const answer = no >= yes ? 'no' : 'yes';
  // Whole when the rest of the message, too, is only tail words ("好的，谢谢", "ok, thanks").
  const everything = normalised.replace(/^[\s\p{P}\p{S}]+/u, '');
  const whole = longestAnswerPrefix(answer === 'yes' ? lexicon.yes : lexicon.no, lexicon.tails, everything) > 0;
  return { answer, whole };
}

function longestAnswerPrefix(words: string[], tails: string[], clause: string): number {
  let best = 0;
  for (const word of words) {
    if (word.length > best && clause.startsWith(word) && onlyTail(clause.slice(word.length), tails)) best = word.length;
  }
  return best;
}

function onlyTail(rest: string, tails: string[]): boolean {
  let left = rest.replace(FILLER, '');
  while (left !== '') {
    const tail = tails.find((t) => left.startsWith(t));
    if (tail === undefined) return false;
    left = left.slice(tail.length);
  }
  return true;
}

function compileLexicon(lexicon: Lexicon): CompiledLexicon {
  const fuzzyEntries: { group: CompiledGroup; phrase: string; text: string; prefix: boolean }[] = [];
  const sound = createSoundMapper();
  const compile = (source: CueGroup): CompiledGroup => {
    const group = compileGroup(source, source.weight >= FUZZY_MIN_WEIGHT ? sound : null);
    for (const phrase of [...source['zh-Hans'], ...source['zh-Hant'], ...source.en]) {
      const prefix = phrase.endsWith('*');
      const text = normaliseText(prefix ? phrase.slice(0, -1) : phrase);
      if (source.weight >= FUZZY_MIN_WEIGHT || (source.weight > 0 && [...text].length >= 3 && /^\p{Script=Han}+$/u.test(text))) {
        fuzzyEntries.push({ group, phrase, text, prefix });
      }
    }
    return group;
  };
  const groups = (list: CueGroup[]): CompiledGroup[] => list.map(compile);
  const intents = {
    human: groups(lexicon.intents.human),
    complaint: groups(lexicon.intents.complaint),
    refund: groups(lexicon.intents.refund),
    account_help: groups(lexicon.intents.account_help),
    order_help: groups(lexicon.intents.order_help),
    refund_status: groups(lexicon.intents.refund_status),
    other: groups(lexicon.intents.other),
  };
  const categories = lexicon.complaintCategories.map((g) => ({ ...compile(g), category: g.category }));
  return {
    intents,
    categories,
    fuzzy: createFuzzyIndex(fuzzyEntries),
    sound,
    anger: groups(lexicon.anger),
    negative: groups(lexicon.negative),
    yes: answerWords(lexicon.affirmation.yes),
    no: answerWords(lexicon.affirmation.no),
    // Longest first, without spaces: the tail is compared with punctuation and spaces removed.
    tails: answerWords(lexicon.affirmation.tail)
      .map((t) => t.replace(FILLER, ''))
      .filter((t) => t !== '')
      .sort((a, b) => b.length - a.length),
  };
}

function answerWords(group: CueGroup): string[] {
  return [...group['zh-Hans'], ...group['zh-Hant'], ...group.en].map(normaliseText);
}

function compileGroup(group: CueGroup, sound: ((text: string) => string) | null): CompiledGroup {
  const written = [...group['zh-Hans'], ...group['zh-Hant'], ...group.en];
  const phrases = written.map(phraseSource);
  const sources = [...(phrases.length > 0 ? [phrases.join('|')] : []), ...group.regex];
  const normalisedPatterns = sources.map((s) => new RegExp(s, 'u'));
  // The regexes with their Han literals replaced by sound stand-ins; only where they have Han literals.
  // Phrases are left to the fuzzy index, which bounds how many characters may differ.
  const soundPatterns = sound ? group.regex.filter((s) => HAN.test(s)).map((s) => new RegExp(sound(s), 'u')) : [];
  const rawPatterns = group.rawRegex.map((s) => new RegExp(s, 'u'));
  // Compiled on first use: only needed to explain an answer, not to score it.
  let each: { phrase: string; pattern: RegExp }[] | null = null;
  return {
    weight: group.weight,
    matches: (normalised, raw) => normalisedPatterns.some((p) => p.test(normalised)) || rawPatterns.some((p) => p.test(raw)),
    soundsLike: soundPatterns.length > 0 ? (text) => soundPatterns.some((p) => p.test(text)) : null,
    describe: () => written.find((w) => HAN.test(w)) ?? group.regex.find((r) => HAN.test(r)) ?? '',
    phraseIn: (normalised) => {
      each ??= written.map((phrase, i) => ({ phrase, pattern: new RegExp(phrases[i] ?? '', 'u') }));
      const hit = each.find((e) => e.pattern.test(normalised));
      if (hit) return { phrase: hit.phrase, found: hit.phrase.replace(/\*$/, '') };
      for (const pattern of group.regex) {
        const m = new RegExp(pattern, 'u').exec(normalised);
        // A long pattern is named by its start; `found` is the consumer's words it matched.
        if (m) return { phrase: `/${pattern.length > MAX_PATTERN_SHOWN ? `${pattern.slice(0, MAX_PATTERN_SHOWN)}…` : pattern}/`, found: m[0] };
      }
      return null;
    },
  };
}

/** A phrase as a regex source: escaped, Latin words matched whole, `*` at the end for "and longer". */
function phraseSource(phrase: string): string {
  const prefix = phrase.endsWith('*');
  const text = normaliseText(prefix ? phrase.slice(0, -1) : phrase);
  const body = text
    .split(' ')
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\s+');
  const start = /^[a-z0-9]/.test(text) ? '(?<![a-z0-9])' : '';
  const end = !prefix && /[a-z0-9]$/.test(text) ? '(?![a-z0-9])' : '';
  return `${start}${body}${end}`;
}
