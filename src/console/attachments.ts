import type { AttachmentStore } from '../attachments/store.js';

/** A file a consumer sent (photo, PDF), for staff: the bytes and how to serve them. */
export async function readAttachment(files: AttachmentStore, id: string) {
  const file = await files.find(id);
  return file ? { contentType: file.contentType, size: file.size, bytes: file.bytes } : null;
}

/** What the case view shows for a message's files: stored ones as links, refused ones as a note. */
export function attachmentLinks(attachments: Record<string, unknown>[] | null | undefined) {
  return (attachments ?? []).flatMap((a) =>
    typeof a.ref === 'string' && /^[0-9a-f-]{36}$/.test(a.ref) && !a.refused && !a.fetch
      ? [{ id: a.ref, image: a.kind === 'image', name: typeof a.filename === 'string' ? a.filename : null }]
      : [],
  );
}

/** Files of a message that were not stored (too big, wrong type, could not be fetched), for the agent. */
export function refusedAttachments(attachments: Record<string, unknown>[] | null | undefined) {
  return (attachments ?? []).flatMap((a) =>
    typeof a.refused === 'string'
      ? [{ reason: a.refused, name: typeof a.filename === 'string' ? a.filename : null, size: typeof a.size === 'number' ? a.size : null }]
      : [],
  );
}
