import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from './client.js';
import { flowVersions } from './schema.js';

/** One flow version as storage keeps it: the definition is opaque JSON (the bot encodes and parses it). */
export interface FlowSnapshot {
  flowId: string;
  version: string;
  definition: Record<string, unknown>;
}

/**
 * Stores the definition of each loaded flow version (once per version), so a conversation pinned
 * to a version keeps running on it in another instance or after a restart with changed files.
 */
export async function saveFlowVersions(db: DbOrTx, snapshots: readonly FlowSnapshot[], now: Date): Promise<void> {
  if (snapshots.length === 0) return;
  await db
    .insert(flowVersions)
    .values(snapshots.map((s) => ({ flowId: s.flowId, version: s.version, definition: s.definition, createdAt: now })))
    .onConflictDoNothing();
}

/** A stored flow version's definition, or null when this database never saw it. */
export async function findFlowVersion(db: DbOrTx, flowId: string, version: string): Promise<unknown> {
  const [row] = await db
    .select({ definition: flowVersions.definition })
    .from(flowVersions)
    .where(and(eq(flowVersions.flowId, flowId), eq(flowVersions.version, version)))
    .limit(1);
  return row ? row.definition : null;
}
