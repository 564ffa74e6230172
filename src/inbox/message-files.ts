import { eq } from 'drizzle-orm';
import type { AttachmentStore } from '../attachments/store.js';
import type { MessageFile } from '../core/channel-module.js';
import type { Clock } from '../core/ports.js';
import { redactSecrets } from '../core/redact.js';
import { type AcceptFile, FileTooLarge } from '../core/sniff.js';
import type { Db } from '../db/client.js';
import { conversations, type Message, messages } from '../db/schema.js';
import type { Logger } from '../logger.js';

export interface MessageFilesDeps {
  db: Db;
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'info'>;
  files: AttachmentStore;
  accept: AcceptFile;
}

type Entry = Record<string, unknown>;

/** Stores accepted files of a stored inbound message and points its attachments at them (email). */
export async function storeMessageFiles(deps: MessageFilesDeps, messageId: string, files: MessageFile[]): Promise<void> {
  const [row] = await deps.db
    .select({ attachments: messages.attachments, channelIdentityId: conversations.channelIdentityId })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(eq(messages.id, messageId))
    .limit(1);
  if (!row) throw new Error(`message ${messageId} not found`);
  const entries = [...row.attachments];
  for (const { index, file } of files) {
    const entry = entries[index];
    if (!entry) continue;
    entries[index] = await keep(deps, row.channelIdentityId, messageId, index, entry, file);
  }
  await deps.db.update(messages).set({ attachments: entries }).where(eq(messages.id, messageId));
}

/**
 * The processing step's part for channels whose files must be downloaded (Telegram): each
 * attachment marked `fetch` is fetched (three tries), judged by its content and stored; a file
 * the channel will not hand over is marked `unavailable` for the agent. Returns the message as
 * stored afterwards. Never throws: the turn goes on with the text whatever happens to the files.
 */
export async function fetchMessageFiles(
  deps: MessageFilesDeps,
  message: Message,
  fetchFile: ((ref: string) => Promise<Uint8Array>) | undefined,
): Promise<Message> {
  if (!message.attachments.some((a) => a.fetch === true)) return message;
  try {
    const [conversation] = await deps.db
      .select({ channelIdentityId: conversations.channelIdentityId })
      .from(conversations)
      .where(eq(conversations.id, message.conversationId))
      .limit(1);
    if (!conversation) return message;
    const entries: Entry[] = [];
    for (const [index, entry] of message.attachments.entries()) {
      if (entry.fetch !== true || typeof entry.ref !== 'string' || !fetchFile) {
        entries.push(entry.fetch === true ? unfetched(entry) : entry);
        continue;
      }
      let tooLarge = false;
      const bytes = await withRetries(
        () => fetchFile(entry.ref as string),
        (err, attempt) => {
          tooLarge = err instanceof FileTooLarge;
          deps.logger.warn({ channel: message.channel, messageId: message.id, attempt, error: redactSecrets(errorText(err)) }, 'attachment.fetch_failed');
          return !tooLarge;
        },
      );
      if (bytes === null) {
        const { fetch: _fetch, ...rest } = entry;
        entries.push(tooLarge ? { ...rest, refused: 'too_big' } : unfetched(entry));
        continue;
      }
      const accepted = await deps.accept(bytes);
      if (!accepted.ok) {
        const { fetch: _fetch, ...rest } = entry;
        entries.push({ ...rest, refused: accepted.reason, size: bytes.length });
        continue;
      }
      entries.push(await keep(deps, conversation.channelIdentityId, message.id, index, entry, accepted));
    }
    const [updated] = await deps.db.update(messages).set({ attachments: entries }).where(eq(messages.id, message.id)).returning();
    deps.logger.info({ channel: message.channel, messageId: message.id, files: entries.filter((e) => !e.refused && !e.fetch).length }, 'attachment.fetched');
    return updated ?? message;
  } catch (err) {
    deps.logger.warn({ messageId: message.id, error: redactSecrets(errorText(err)) }, 'attachment.store_failed');
    return message;
  }
}

async function keep(deps: MessageFilesDeps, channelIdentityId: string, messageId: string, index: number, entry: Entry, file: MessageFile['file']): Promise<Entry> {
  const filename = typeof entry.filename === 'string' ? (file.converted ? entry.filename.replace(/\.(heic|heif)$/i, '') + '.jpg' : entry.filename) : null;
  const saved = await deps.files.save({
    channelIdentityId,
    uploadKey: `message:${messageId}:${index}`,
    contentType: file.contentType,
    filename,
    bytes: file.bytes,
    now: deps.clock.now(),
  });
  const { fetch: _fetch, refused: _refused, ...rest } = entry;
  // The channel's own handle stays for agents (a Telegram file_id), the ref is now our stored file.
  return { ...rest, kind: file.kind, contentType: file.contentType, filename, size: file.bytes.length, ref: saved.id, channelRef: entry.ref ?? null };
}

function unfetched(entry: Entry): Entry {
  const { fetch: _fetch, ...rest } = entry;
  return { ...rest, refused: 'unavailable' };
}

const RETRY_DELAYS_MS = [300, 1500];

/** Runs `work` up to three times; `onError` returns false when trying again is pointless. */
async function withRetries<T>(work: () => Promise<T>, onError: (err: unknown, attempt: number) => boolean): Promise<T | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!onError(err, attempt)) return null;
      const delay = RETRY_DELAYS_MS[attempt - 1];
      if (delay === undefined) return null;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}
