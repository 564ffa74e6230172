import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ChannelAdapter } from '../../src/core/channel.js';
import type { IdentityLevel } from '../../src/core/identity.js';
import { Locale, MAX_TEXT_LENGTH, type InboundMessageInput } from '../../src/core/message.js';

/** `POST /api/webchat/sessions` body. */
export const SessionRequest = z
  .object({
    customerId: z.string().min(1).max(100).optional(),
    signature: z.string().min(1).max(200).optional(),
    locale: Locale.optional(),
  })
  .strict();
export type SessionRequest = z.infer<typeof SessionRequest>;

export const ClientMessageId = z.string().min(1).max(100).regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only');

/** `POST /api/webchat/messages` body: free text or a pressed quick reply. */
export const MessageRequest = z
  .object({
    clientMessageId: ClientMessageId,
    text: z.string().trim().min(1, 'text is empty').max(MAX_TEXT_LENGTH).optional(),
    choice: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((v) => (v.text === undefined) !== (v.choice === undefined), {
    message: 'send exactly one of text or choice',
    path: ['text'],
  });
export type MessageRequest = z.infer<typeof MessageRequest>;

/** `POST /api/webchat/locale` body: the language the consumer picked on the page. */
export const LocaleRequest = z.object({ locale: Locale }).strict();
export type LocaleRequest = z.infer<typeof LocaleRequest>;

/** The HMAC-SHA256 (hex) a host app sends to prove which of its customers opened the chat. */
export function signCustomerId(customerId: string, secret: string): string {
  return createHmac('sha256', secret).update(customerId).digest('hex');
}

/** Constant-time check of a host app's identity signature. */
export function verifyCustomerSignature(customerId: string, signature: string, secret: string): boolean {
  // Buffer.from(…, 'hex') stops at the first non-hex character, so "<valid hex>junk" would pass:
  // the whole value must be exactly the 64 hex digits.
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
  const expected = Buffer.from(signCustomerId(customerId, secret), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The channel identity a web chat session speaks for. */
export function webchatExternalId(session: { customerId: string | null; visitorId: string }): string {
  return session.customerId ? `customer:${session.customerId}` : `visitor:${session.visitorId}`;
}

/** Turns a web chat request into the core's inbound message. */
export function toInbound(
  identity: { externalId: string; customerId: string | null; displayName: string | null },
  body: MessageRequest,
  choiceLabel: string | null,
  locale: Locale | null,
  identityLevel: IdentityLevel = 'anonymous',
): InboundMessageInput {
  const choice = body.choice ?? null;
  return {
    channel: 'webchat',
    // Scoped to the identity, so two browsers can never collide on a client-generated id.
    externalMessageId: `${identity.externalId}/${body.clientMessageId}`,
    sender: { externalId: identity.externalId, displayName: identity.displayName, customerId: identity.customerId },
    text: choice === null ? (body.text ?? '') : (choiceLabel ?? choice),
    choice,
    locale,
    // The session proved it (signed identity) or not; an anonymous visitor can only sign in in the host app.
    identity: { level: identityLevel, basis: identityLevel === 'proven' ? 'signed_session' : null },
  };
}

/**
 * Web chat delivery: the message is already in the database and the browser reads it from there,
 * so there is nothing to send. Live streams are woken by the live event the outbox worker
 * publishes once the delivery is recorded (waking them earlier would find nothing new).
 */
export function createWebchatAdapter(): ChannelAdapter {
  return {
    kind: 'webchat',
    capabilities: { buttons: true, maxTextLength: MAX_TEXT_LENGTH, formatting: 'plain', proofRemedy: 'sign_in', storedIsDelivered: true },
    async send() {
      return { ok: true, externalId: null };
    },
  };
}
