import type { Message } from '../db/schema.js';
import type { Responder } from '../inbox/responder.js';
import { recordSatisfaction } from './cases.js';
import { type HandoffMessages, SATISFACTION_CHOICE } from './wording.js';

/** The 1–5 score a message gives: a pressed `csat_N` button, or a bare digit (channels without buttons). */
export function satisfactionScore(message: Pick<Message, 'choice' | 'text'>): number | null {
  const fromChoice = message.choice ? SATISFACTION_CHOICE.exec(message.choice) : null;
  if (fromChoice?.[1]) return Number(fromChoice[1]);
  const digit = /^\s*([1-5])\s*(?:分|星|stars?)?\s*$/iu.exec(message.text);
  return digit?.[1] ? Number(digit[1]) : null;
}

/**
 * Wraps the bot: a resolved conversation's answer to the satisfaction question is recorded and
 * thanked for (closing the conversation); every other message goes to the bot as before.
 */
export function withSatisfaction(inner: Responder, wording: HandoffMessages): Responder {
  const prepare = inner.prepare?.bind(inner);
  return {
    ...(prepare ? { prepare } : {}),
    async respond(input) {
      const { conversation, message, tx, now } = input;
      if (conversation.status === 'resolved' && conversation.satisfaction === null) {
        const score = satisfactionScore(message);
        if (score !== null && (await recordSatisfaction(tx, conversation.id, score, now))) {
          return { replies: [{ author: 'system', text: wording.satisfaction.thanks[conversation.locale] }] };
        }
      }
      return inner.respond(input);
    },
  };
}
