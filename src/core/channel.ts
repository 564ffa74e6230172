import type { ProofRemedy } from './identity.js';
import type { ChannelKind, OutboundMessage } from './message.js';

/** What a channel can show; the core renders quick replies from this, never from the channel's name. */
export interface ChannelCapabilities {
  /** Tappable quick-reply buttons; otherwise they are rendered as numbered text options. */
  buttons: boolean;
  /** Longest text one message may carry; longer texts are split by the adapter. */
  maxTextLength: number;
  formatting: 'plain' | 'markdown' | 'html';
  /** Renders the `share_phone` quick reply as a native "share my phone number" control. */
  contactRequest?: boolean;
  /** How an unproven sender proves who they are on this channel (the bot tells them when an account action needs it). */
  proofRemedy?: ProofRemedy;
  /**
   * The consumer reads replies from our store (web chat): a reply is delivered when it is
   * committed, so bot turns write it as sent and skip the outbox (which exists for remotes).
   */
  storedIsDelivered?: boolean;
}

/** The remote accepted the message. */
export interface SendOk {
  ok: true;
  externalId: string | null;
  /** Threading data to remember on the conversation (e.g. the Message-ID we used). */
  thread?: Record<string, unknown>;
}

/** The send failed: `retryable` splits "we could not reach it" from "the remote said no". */
export interface SendFailed {
  ok: false;
  retryable: boolean;
  error: string;
  /** The recipient can never be reached again on this identity (bot blocked, hard bounce). */
  unreachable?: boolean;
  /** The remote asked us to wait this long before retrying (Telegram 429 retry_after). */
  retryAfterMs?: number;
}

export type SendResult = SendOk | SendFailed;

/** One adapter per channel: translate, verify, send. Inbound parsing lives with its HTTP/SMTP entry point. */
export interface ChannelAdapter {
  readonly kind: ChannelKind;
  readonly capabilities: ChannelCapabilities;
  send(message: OutboundMessage): Promise<SendResult>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
