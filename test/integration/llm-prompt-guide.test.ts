import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { FakeClock } from '../../src/core/ports.js';
import { DEFAULT_LEXICON_PATH, loadLexicon, parseLexicon } from '../../src/intent/lexicon.js';
import { createRulesClassifier } from '../../src/intent/rules-classifier.js';
import { createClassifier, LlmMetrics } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logger.js';
import { completionBody, completionsHandler, intentAnswer, llmConfig, onUnhandled, thirdPartyServer } from '../support/llm.js';

const server = thirdPartyServer();
beforeAll(() => server.listen(onUnhandled));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function classifierWith(lexicon = loadLexicon()) {
  const { handler, bodies } = completionsHandler(() => HttpResponse.json(completionBody(JSON.stringify(intentAnswer({ intent: 'refund', confidence: 0.9 })))));
  server.use(handler);
  const classifier = createClassifier(llmConfig(), silentLogger, {
    metrics: new LlmMetrics(),
    clock: new FakeClock(),
    rules: createRulesClassifier(lexicon),
    lexicon,
  });
  return { classifier, bodies };
}

const context = { locale: 'zh-Hans' as const, step: null, recentTurns: [] };

describe('the LLM classify prompt uses what the rules know', () => {
  it('lists every intent with the description and examples written in flows/intents.yaml', async () => {
    const lexicon = loadLexicon();
    const { classifier, bodies } = classifierWith(lexicon);
    // Nothing in the lexicon matches: the rules are unsure and the LLM is asked.
    await classifier.classify('嗯那个东西我想问问', context);
    expect(bodies).toHaveLength(1);
    const system: string = bodies[0].messages[0].content;
    for (const [intent, entry] of Object.entries(lexicon.guide)) {
      expect(system).toContain(`- ${intent}: ${entry.description}`);
      expect(entry.examples.length).toBeGreaterThanOrEqual(3);
      for (const example of entry.examples) expect(system).toContain(JSON.stringify(example));
    }
    // The shipped file's own words, not a copy kept in code.
    expect(system).toContain('我上周买的那个券不想要了，钱能退回来吗');
    expect(system).toContain('"The restaurant said my voucher expired but it\'s valid until December"');
  });

  it('an edited lexicon guide changes what the model is told', async () => {
    const document = parse(readFileSync(DEFAULT_LEXICON_PATH, 'utf8'));
    document.guide.refund_status = { description: 'asks where a refund stands (edited by the platform team)', examples: ['退款咋还没到呀'] };
    const lexicon = parseLexicon(parse(stringify(document)));
    const { classifier, bodies } = classifierWith(lexicon);
    await classifier.classify('嗯那个东西我想问问', context);
    const system: string = bodies[0].messages[0].content;
    expect(system).toContain('- refund_status: asks where a refund stands (edited by the platform team)\n  Examples: "退款咋还没到呀"');
    expect(system).not.toContain('我的退款到哪了');
  });

  it('passes the rules\' typo-tolerant candidates (intent, matched phrase, distance) as hints', async () => {
    const { classifier, bodies } = classifierWith();
    // 推款 is 退款 typed with a pinyin IME; with 投诉-ish "不满意" the rules are not sure which it is.
    const text = '推款的事我很不满意';
    const rules = createRulesClassifier(loadLexicon()).classifySync(text, null);
    expect(rules.confidence).toBeLessThan(0.75);
    await classifier.classify(text, context);
    expect(bodies).toHaveLength(1);
    const user: string = bodies[0].messages[1].content;
    const hints = JSON.parse(/What keyword rules found[\s\S]*?: (\[.*\])\n/.exec(user)?.[1] ?? 'null');
    expect(hints).toEqual(
      expect.arrayContaining([
        { intent: 'refund', phrase: '退款', found: '推款', distance: 1, kind: 'pinyin' },
        expect.objectContaining({ intent: 'complaint', distance: 0, kind: 'exact' }),
      ]),
    );
  });

  it('an English misspelling reaches the model as an edit of the lexicon word', async () => {
    const { classifier, bodies } = classifierWith();
    const text = 'the food was bad, refnd?';
    const rules = createRulesClassifier(loadLexicon()).classifySync(text, null);
    if (rules.confidence >= 0.75) throw new Error(`the rules are sure of "${text}" (${rules.confidence}); pick a text they doubt`);
    await classifier.classify(text, { ...context, locale: 'en' });
    const user: string = bodies[0].messages[1].content;
    expect(user).toContain('{"intent":"refund","phrase":"refund*","found":"refnd","distance":1,"kind":"edit"}');
  });

  it('with nothing matched the hints are an empty list', async () => {
    const { classifier, bodies } = classifierWith();
    await classifier.classify('嗯那个东西我想问问', context);
    expect(bodies[0].messages[1].content).toMatch(/distance" how many characters differ\): \[\]\n/);
  });
});
