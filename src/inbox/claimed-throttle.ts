import { and, count, eq, gte } from 'drizzle-orm';
import { conversations, messages } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Responder } from './responder.js';

export interface ClaimedThrottle {
  /** Claimed messages of one identity answered per window; later ones are stored but not answered. */
  limit: number;
  windowMs: number;
  logger: Logger;
}

/**
 * Caps what the bot sends in answer to `claimed` messages, per channel identity: such a sender
 * only says who they are (an email From header), and our answers go to that address, not to them.
 * Without a cap, forged mail would make kefu flood someone else's mailbox. Over the cap the turn
 * still runs and is stored; only its replies are dropped (logged `reply.throttled`).
 */
export function throttleClaimedReplies(responder: Responder, throttle: ClaimedThrottle): Responder {
  return {
    ...(responder.prepare ? { prepare: (input) => responder.prepare?.(input) ?? Promise.resolve(null) } : {}),
    async respond(input) {
      const result = await responder.respond(input);
      if (input.message.identityLevel !== 'claimed' || result.replies.length === 0) return result;
      // Earlier claimed messages of this identity taken in within the window (this one is not processed yet).
      const [earlier] = await input.tx
        .select({ n: count() })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(
          and(
            eq(conversations.channelIdentityId, input.conversation.channelIdentityId),
            eq(messages.direction, 'in'),
            eq(messages.identityLevel, 'claimed'),
            gte(messages.processedAt, new Date(input.now.getTime() - throttle.windowMs)),
          ),
        );
      if ((earlier?.n ?? 0) < throttle.limit) return result;
      throttle.logger.info({ conversationId: input.conversation.id, messageId: input.message.id }, 'reply.throttled');
      return { ...result, replies: [] };
    },
  };
}
