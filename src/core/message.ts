import { z } from 'zod';
import { SenderIdentity } from './identity.js';

/** The channels kefu talks through. Only channels/ and the composition root care which is which. */
export const ChannelKind = z.enum(['webchat', 'telegram', 'email']);
export type ChannelKind = z.infer<typeof ChannelKind>;

export const Locale = z.enum(['zh-Hans', 'zh-Hant', 'en']);
export type Locale = z.infer<typeof Locale>;

export const Author = z.enum(['customer', 'bot', 'agent', 'system']);
export type Author = z.infer<typeof Author>;

/** A file that came with a message (photo, document, voice, email attachment). */
export const Attachment = z.object({
  kind: z.enum(['image', 'document', 'audio', 'video', 'other']),
  filename: z.string().nullable(),
  contentType: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  /** Channel-specific handle to fetch it (Telegram file_id, email content-id, storage key). */
  ref: z.string().nullable(),
  inline: z.boolean().default(false),
  /**
   * Not kept, and why: over ATTACHMENT_MAX_BYTES, not a photo/PDF by its content, an undecodable
   * HEIC photo, or the channel would not hand it over. Agents see the note; the consumer was told.
   */
  refused: z.enum(['too_big', 'type', 'heic', 'unavailable']).nullable().optional(),
  /** The processing step fetches the bytes from the channel (`ref` is the channel's handle, e.g. a Telegram file_id). */
  fetch: z.boolean().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

export const QuickReply = z.object({ id: z.string().min(1).max(64), label: z.string().min(1).max(200) });
export type QuickReply = z.infer<typeof QuickReply>;

/**
 * Quick reply id that asks the consumer to share their phone number. Adapters whose capabilities
 * have `contactRequest` render it as their native control (Telegram: a `request_contact` keyboard
 * button); the others show it as an ordinary button or numbered option.
 */
export const SHARE_PHONE_REPLY_ID = 'share_phone';

/**
 * Something a channel says by itself in answer to an inbound message (wording from the channel's
 * own file). It becomes an outbound message of the conversation, written in the transaction that
 * stores the inbound message and delivered through the outbox like every reply.
 */
export const ChannelNotice = z.object({
  text: z.string().min(1),
  quickReplies: z.array(QuickReply).default([]),
});
export type ChannelNotice = z.infer<typeof ChannelNotice>;

/** Who sent an inbound message, as the channel knows them. */
export const Sender = z.object({
  /** The channel's stable id for this person (Telegram user id, email address, web chat visitor). */
  externalId: z.string().min(1).max(320),
  displayName: z.string().max(200).nullable().default(null),
  /** Set when the channel has already established which customer this is (signed web chat identity). */
  customerId: z.string().nullable().default(null),
  phone: z.string().max(40).nullable().default(null),
  email: z.string().max(320).nullable().default(null),
});
export type Sender = z.infer<typeof Sender>;

/** Hints a channel gives for joining an existing conversation (email threading). */
export const ThreadHint = z.object({
  conversationToken: z.string().nullable().default(null),
  inReplyTo: z.array(z.string()).default([]),
  /** The topic, normalised for matching (without Re:/Fwd:). */
  subject: z.string().nullable().default(null),
  /** This message's own subject, decoded, as sent (kept on the message for agents). */
  messageSubject: z.string().max(1000).nullable().default(null),
});
export type ThreadHint = z.infer<typeof ThreadHint>;

/** What every channel adapter turns its input into; the core's only view of the outside world. */
export const InboundMessage = z.object({
  channel: ChannelKind,
  /** The channel's own id for this message: the dedupe key (Telegram update_id, Message-ID, client id). */
  externalMessageId: z.string().min(1).max(512),
  sender: Sender,
  text: z.string(),
  /** The id of a quick reply the consumer pressed, if any. */
  choice: z.string().max(64).nullable().default(null),
  attachments: z.array(Attachment).default([]),
  locale: Locale.nullable().default(null),
  thread: ThreadHint.nullable().default(null),
  /** Recorded but never answered (auto-replies, bounces, edits that need no reply). */
  silent: z.boolean().default(false),
  /** The channel's id of the underlying message when the dedupe key differs (Telegram `chat:message_id`). */
  channelMessageRef: z.string().min(1).max(512).nullable().default(null),
  /** This is a new version of an earlier message: that message's `channelMessageRef`. History is kept. */
  editOf: z.string().min(1).max(512).nullable().default(null),
  /** The full original (e.g. the whole email with quoted history) kept for agents. */
  original: z.string().nullable().default(null),
  receivedAt: z.date().nullable().default(null),
  /** What the channel answers by itself (stored only with a new message, never for a redelivery). */
  notices: z.array(ChannelNotice).optional(),
  /** What the channel proved about the sender; absent = anonymous. */
  identity: SenderIdentity.default(SenderIdentity.parse({})),
});
export type InboundMessage = z.infer<typeof InboundMessage>;
export type InboundMessageInput = z.input<typeof InboundMessage>;

/** A message the core wants delivered; channel adapters render it for their medium. */
export interface OutboundMessage {
  messageId: string;
  conversationId: string;
  channel: ChannelKind;
  recipient: { channelIdentityId: string; externalId: string; displayName: string | null };
  author: Author;
  text: string;
  quickReplies: QuickReply[];
  locale: Locale;
  /** Channel threading data stored on the conversation (email Message-IDs, subject). */
  thread: Record<string, unknown>;
  createdAt: Date;
}

/** The longest text a consumer can send in one message. */
export const MAX_TEXT_LENGTH = 8000;
