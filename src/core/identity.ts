import { z } from 'zod';

/**
 * How sure kefu is of who is writing (DESIGN.md "Trust"). `proven`: the channel proved it (a
 * signed web chat identity, a Telegram user's own shared contact, an email that came back through
 * the conversation's reply address or that a trusted server marked DMARC pass). `claimed`: the
 * sender says who they are and we answer to that address, but nothing proves it (an email From
 * header). `anonymous`: nothing is known.
 */
export const IdentityLevel = z.enum(['proven', 'claimed', 'anonymous']);
export type IdentityLevel = z.infer<typeof IdentityLevel>;

/** What an unproven sender can do on their channel to prove who they are; the bot says so. */
export const ProofRemedy = z.enum(['reply', 'share_contact', 'sign_in']);
export type ProofRemedy = z.infer<typeof ProofRemedy>;

/** What a channel adapter could prove about the sender of one inbound message. */
export const SenderIdentity = z.object({
  /** The level the adapter itself established. Absent = anonymous: nothing is proven by default. */
  level: IdentityLevel.default('anonymous'),
  /** How the level was established, for agents and audits (`signed_session`, `shared_contact`, `dmarc`, `from_header`…). */
  basis: z.string().max(40).nullable().default(null),
  /**
   * The message is proven when it came through the reply address of a conversation of this very
   * sender (`thread.conversationToken`): kefu sent that address only to the sender's mailbox.
   */
  replyTokenProves: z.boolean().default(false),
  /**
   * The channel authenticates the sender's id itself (a Telegram user id), so a proof recorded on
   * the identity earlier still holds; and a proof in this message is recorded for later ones.
   */
  remember: z.boolean().default(false),
});
export type SenderIdentity = z.infer<typeof SenderIdentity>;
export type SenderIdentityInput = z.input<typeof SenderIdentity>;

/**
 * An account action (orders, coupon codes, refunds, complaints on an order, linking) was reached
 * by a sender whose identity is not proven. Thrown by the action layer; the bot answers with a way
 * to prove it instead.
 */
export class ProofRequired extends Error {
  constructor(readonly action: string) {
    super(`${action} needs a proven identity`);
    this.name = 'ProofRequired';
  }
}
