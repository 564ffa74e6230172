import type { Hono } from 'hono';
import { createEmailChannel } from '../channels/email/module.js';
import { createTelegramAdapter } from '../channels/telegram/index.js';
import { createTelegramChannel } from '../channels/telegram/module.js';
import { createWebchatChannel } from '../channels/webchat/module.js';
import type { ProofRemedy } from './core/identity.js';
import { type MessageFilesDeps, storeMessageFiles } from './inbox/message-files.js';
import type { Config } from './config.js';
import type { ChannelAdapter } from './core/channel.js';
import type { ChannelModule, LiveEvents, ReceiveInbound } from './core/channel-module.js';
import { ChannelKind } from './core/message.js';
import type { Clock } from './core/ports.js';
import type { Db } from './db/client.js';
import { linkIdentityByPhone, setIdentityReachable } from './inbox/link-identity.js';
import { markUnreachable } from './inbox/mark-unreachable.js';
import { recordDeadLetter } from './inbox/dead-letters.js';
import { createWebchatStore } from './inbox/webchat-store.js';
import { webchatLabels } from './i18n/webchat-labels.js';
import type { Logger } from './logger.js';

/** The channels one service runs, ready to mount and start. */
export interface Channels {
  /** The adapter per channel the outbox sends through. */
  readonly adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  /** Every channel's routes and pages, for the app. */
  readonly mounts: { path: string; app: Hono<any> }[];
  /** Paths whose channel enforces its own body limit (raw MIME email). */
  readonly rawBodyPaths: string[];
  /** How a sender on this channel proves who they are (for account actions); null = it cannot. */
  proofRemedy(channel: ChannelKind): ProofRemedy | null;
  /** Downloads a file a channel only referenced (Telegram); undefined where the channel cannot. */
  fetchFile(channel: ChannelKind): ((ref: string) => Promise<Uint8Array>) | undefined;
  /** Starts listeners and polling. */
  start(): Promise<void>;
  /** Stops them and waits for the channels' background work. */
  stop(): Promise<void>;
}

export interface ChannelsDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  live: LiveEvents;
  receive: ReceiveInbound;
  /** Where consumers' files are kept, and how a file is judged (content, size; HEIC converted). */
  messageFiles: MessageFilesDeps;
  /** Replace or add channel adapters (tests pass fakes for remote channels). */
  overrides?: Partial<Record<ChannelKind, ChannelAdapter>> | undefined;
}

/**
 * The composition root's channel factory: the only place (besides the service) that names the
 * channels. Each channel gets its storage through ports from src/inbox, built here.
 */
export function createChannels(deps: ChannelsDeps): Channels {
  const { config, logger, clock, db, receive } = deps;
  const modules: ChannelModule[] = [];
  // Email: inbound over the SMTP listener and/or the webhook, outbound over SMTP_URL, each when configured.
  if (config.SMTP_LISTEN_PORT !== undefined || config.SMTP_URL || config.EMAIL_WEBHOOK_SECRET) {
    modules.push(
      createEmailChannel({
        from: config.EMAIL_FROM ?? null,
        smtpUrl: config.SMTP_URL ?? null,
        listenPort: config.SMTP_LISTEN_PORT ?? null,
        listenHost: config.HOST,
        trustedAuthservIds: config.EMAIL_TRUSTED_AUTHSERV_ID,
        log: logger,
        webhookSecret: config.EMAIL_WEBHOOK_SECRET,
        intake: {
          receive,
          markUnreachable: async (addresses, reason) => void (await markUnreachable(db, 'email', addresses, reason)),
          deadLetter: async (raw, reason) => void (await recordDeadLetter(db, { channel: 'email', reason, payload: raw })),
          files: {
            accept: deps.messageFiles.accept,
            store: (messageId, files) => storeMessageFiles(deps.messageFiles, messageId, files),
            maxBytes: config.ATTACHMENT_MAX_BYTES,
          },
        },
      }),
    );
  }
  modules.push(
    createWebchatChannel({
      store: createWebchatStore(db, deps.messageFiles.files),
      clock,
      live: deps.live,
      demoMode: config.demoMode,
      identitySecret: config.WEBCHAT_IDENTITY_SECRET,
      receive,
      allowedOrigins: config.WEBCHAT_ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter((o) => o !== ''),
      maxAttachmentBytes: config.ATTACHMENT_MAX_BYTES,
      acceptFile: deps.messageFiles.accept,
      labels: webchatLabels(),
    }),
  );
  const telegramMode = config.TELEGRAM_MODE ?? 'off';
  if (telegramMode !== 'off' && config.TELEGRAM_BOT_TOKEN) {
    modules.push(
      createTelegramChannel({
        token: config.TELEGRAM_BOT_TOKEN,
        webhookSecret: config.TELEGRAM_WEBHOOK_SECRET,
        mode: telegramMode,
        log: logger,
        maxFileBytes: config.ATTACHMENT_MAX_BYTES,
        receive,
        linkByPhone: async (externalId, phone) => {
          const linked = await linkIdentityByPhone(db, { channel: 'telegram', externalId, phone, now: clock.now() });
          logger.info({ channel: 'telegram', outcome: linked.outcome }, 'channel_identity.phone_verified');
        },
        deadLetter: async (payload, reason) => void (await recordDeadLetter(db, { channel: 'telegram', reason, payload })),
        setReachable: async (externalId, reachable) =>
          void (await setIdentityReachable(db, { channel: 'telegram', externalId, reachable, reason: 'bot blocked by the user' })),
      }),
    );
  }
  return channelSet(modules, deps.overrides ?? {});
}

/** Mounts and runs the modules; an overriding adapter replaces a channel's adapter and its start/stop (not its routes). */
function channelSet(modules: ChannelModule[], overrides: Partial<Record<ChannelKind, ChannelAdapter>>): Channels {
  const replaced = (m: ChannelModule) => {
    const adapter = overrides[m.name];
    return adapter ? adapterOnly(m.name, adapter) : m;
  };
  const running = modules.map(replaced);
  for (const [name, adapter] of Object.entries(overrides)) {
    const kind = ChannelKind.parse(name);
    if (adapter && !running.some((m) => m.name === kind)) running.push(adapterOnly(kind, adapter));
  }
  const adapters: Partial<Record<ChannelKind, ChannelAdapter>> = Object.fromEntries(running.map((m) => [m.name, m.adapter]));
  return {
    adapters,
    proofRemedy: (channel) => adapters[channel]?.capabilities.proofRemedy ?? null,
    mounts: modules.flatMap((m) => m.routes ?? []),
    rawBodyPaths: modules.flatMap((m) => m.rawBodyPaths ?? []),
    fetchFile(channel) {
      const found = modules.find((m) => m.name === channel)?.fetchFile;
      return found ? (ref) => found(ref) : undefined;
    },
    async start() {
      for (const m of running) await m.start?.();
    },
    async stop() {
      for (const m of running) await m.stop?.();
    },
  };
}

function adapterOnly(name: ChannelKind, adapter: ChannelAdapter): ChannelModule {
  return { name, adapter, start: async () => adapter.start?.(), stop: async () => adapter.stop?.() };
}

/** The Bot API client the `kefu telegram` commands use to register or remove the webhook. */
export function telegramBotApi(token: string, webhookSecret: string | undefined) {
  return createTelegramAdapter({ token, webhookSecret });
}
