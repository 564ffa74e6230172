import { and, count, eq, gte, inArray } from 'drizzle-orm';
import { conversations, messages } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Responder } from './responder.js';

export interface ClaimedThrottle {
  /** Bot and system messages one identity may get per window while its messages are only claimed. */
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
      const [sent] = await input.tx
        .select({ n: count() })
        .from(messages)
        .innerJoin(conversations, eq(conversations.id, messages.conversationId))
        .where(
          and(
            eq(conversations.channelIdentityId, input.conversation.channelIdentityId),
            eq(messages.direction, 'out'),
            inArray(messages.author, ['bot', 'system']),
            gte(messages.createdAt, new Date(input.now.getTime() - throttle.windowMs)),
          ),
        );
      if ((sent?.n ?? 0) + result.replies.length <= throttle.limit) return result;
      throttle.logger.info({ conversationId: input.conversation.id, messageId: input.message.id }, 'reply.throttled');
      return { ...result, replies: [] };
    },
  };
}
