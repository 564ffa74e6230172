import type { Hono } from 'hono';
import type { ChannelAdapter } from './channel.js';
import type { ChannelKind, InboundMessageInput } from './message.js';
import type { AcceptedFile } from './sniff.js';

/** What storing one inbound message tells the channel that took it in. */
export interface StoredInbound {
  messageId: string;
  duplicate: boolean;
}

/** Stores an inbound message durably and schedules the bot; resolves once it is stored. */
export type ReceiveInbound = (inbound: InboundMessageInput) => Promise<StoredInbound>;

/** The logging a channel does (pino-compatible; never message text or personal data). */
export interface ChannelLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** HTTP routes a channel serves, mounted by the app at `path`. */
export interface ChannelRoutes {
  path: string;
  app: Hono<any>;
}

/**
 * One channel as the composition root mounts it: the adapter the outbox sends through, the
 * routes the app mounts, and what runs in the background (an SMTP listener, Telegram polling).
 */
export interface ChannelModule {
  readonly name: ChannelKind;
  readonly adapter: ChannelAdapter;
  readonly routes?: readonly ChannelRoutes[];
  /** Exact paths under /api exempt from the JSON body limit because the channel enforces its own. */
  readonly rawBodyPaths?: readonly string[];
  /**
   * Downloads a file a consumer sent by the channel's handle (`Attachment.ref` of an attachment
   * marked `fetch`). Errors must not carry credentials (a bot token in a URL).
   */
  fetchFile?(ref: string): Promise<Uint8Array>;
  start?(): Promise<void>;
  /** Stops the background work and waits for work still on its way. */
  stop?(): Promise<void>;
}

/** Live change notices: which channel identity has new messages to read (ids only). */
export interface LiveEvents {
  subscribe(listener: (event: { channelIdentityId?: string | undefined }) => void): () => void;
}

/** A file of a stored inbound message that passed `AcceptFile`, by its index in the message's attachments. */
export interface MessageFile {
  index: number;
  file: Extract<AcceptedFile, { ok: true }>;
}

/**
 * Stores accepted files of an inbound message already stored (email attachments, whose bytes come
 * with the mail) and points the message's attachments at them; idempotent per message and index.
 */
export type StoreMessageFiles = (messageId: string, files: MessageFile[]) => Promise<void>;
