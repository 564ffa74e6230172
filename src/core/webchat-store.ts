import type { IdentityLevel } from './identity.js';
import type { Author, Locale, QuickReply } from './message.js';

/** A verified web chat session and the channel identity it speaks for. */
export interface WebchatSession {
  id: string;
  expiresAt: Date;
  channelIdentityId: string;
  externalId: string;
  customerId: string;
  displayName: string | null;
  locale: Locale | null;
  /** What the session proves about who is writing (signed identity: proven). */
  identityLevel: IdentityLevel;
  /** The customer is flagged as a first-time user: the page starts in senior mode. */
  firstTimeUser: boolean;
}

/** A stored file a consumer sent, as the web chat serves it back. */
export interface WebchatAttachment {
  id: string;
  channelIdentityId: string;
  contentType: string;
  filename: string | null;
  size: number;
  bytes: Uint8Array;
}

/** A customer a demo visitor may chat as. */
export interface DemoCustomer {
  id: string;
  name: string | null;
  locale: Locale;
  birthYear: number | null;
  firstTimeUser: boolean;
}

/** A message as the web chat history shows it. */
export interface WebchatHistoryMessage {
  id: string;
  seq: number;
  author: Author;
  text: string;
  quickReplies: QuickReply[] | null;
  /** Files that came with it; `ref` is an attachment id the session may fetch. */
  attachments: Record<string, unknown>[];
  createdAt: Date;
}

/** What a new session stores: the identity it speaks for and the hash of its token. */
export interface NewWebchatSession {
  /** A known customer, or null for a visitor (a guest customer is created for it). */
  customerId: string | null;
  externalId: string;
  /** The locale the visitor asked for, if any. */
  locale: Locale | null;
  identityLevel: IdentityLevel;
  tokenHash: string;
  now: Date;
  expiresAt: Date;
}

/** The storage the web chat channel's routes need (sessions, identities, messages), as a port. */
export interface WebchatStore {
  /** Demo mode only: the non-guest customers, the featured senior first-time user first. */
  demoCustomers(limit: number): Promise<DemoCustomer[]>;
  /** The customer when one exists (guests were made from an unproven channel identity). */
  findCustomer(customerId: string): Promise<{ id: string; guest: boolean } | null>;
  /** Finds or creates the session's channel identity (`opened`: it is new, so the chat is new) (with a guest customer for a visitor), then stores the session. */
  createSession(input: NewWebchatSession): Promise<{ sessionId: string; opened: boolean }>;
  /** The session with this token hash, expired or not; null when there is none. */
  findSession(tokenHash: string): Promise<WebchatSession | null>;
  /** The label of the quick reply `choice` among those the bot offered this identity most recently. */
  lastChoiceLabel(channelIdentityId: string, choice: string): Promise<string | null>;
  /** The language the identity's latest conversation speaks (it follows "English please"); null before any. */
  conversationLocale(channelIdentityId: string): Promise<Locale | null>;
  /** The consumer chose a language on the page: the session and the open conversation follow it. */
  setLocale(sessionId: string, channelIdentityId: string, locale: Locale): Promise<void>;
  /** Stores an upload once per (identity, uploadKey); a repeat returns the first one's id. */
  saveAttachment(input: Omit<WebchatAttachment, 'id'> & { uploadKey: string; now: Date }): Promise<{ id: string }>;
  /** A stored upload, or null. */
  findAttachment(id: string): Promise<WebchatAttachment | null>;
  /**
   * A page of this identity's history after `after`, and the cursor to continue from. Outgoing
   * messages become visible only once delivered, which can be after later messages were shown; so
   * the cursor never passes a reply still pending delivery (the next page may repeat messages after
   * it: clients dedupe by id). With it, the language of the identity's latest conversation and
   * when an agent last saw it (as `conversationStatus`), read in the same statement.
   */
  history(
    channelIdentityId: string,
    after: number,
    limit: number,
  ): Promise<{ messages: WebchatHistoryMessage[]; cursor: number; locale: Locale | null; agentSeenAt: Date | null }>;
}
