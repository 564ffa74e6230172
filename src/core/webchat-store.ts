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
  /**
   * A page of this identity's history after `after`, and the cursor to continue from. Outgoing
   * messages become visible only once delivered, which can be after later messages were shown; so
   * the cursor never passes a reply still pending delivery (the next page may repeat messages after
   * it: clients dedupe by id).
   */
  history(channelIdentityId: string, after: number, limit: number): Promise<{ messages: WebchatHistoryMessage[]; cursor: number }>;
}
