import type { Hono } from 'hono';
import type { ChannelAdapter } from './channel.js';
import type { ChannelKind, InboundMessageInput } from './message.js';

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
  start?(): Promise<void>;
  /** Stops the background work and waits for work still on its way. */
  stop?(): Promise<void>;
}

/** Live change notices: which channel identity has new messages to read (ids only). */
export interface LiveEvents {
  subscribe(listener: (event: { channelIdentityId?: string | undefined }) => void): () => void;
}
