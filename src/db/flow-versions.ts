import { and, eq } from 'drizzle-orm';
import { Flow } from '../engine/flow-schema.js';
import type { VersionedFlow } from '../engine/load-flows.js';
import type { DbOrTx } from './client.js';
import { flowVersions } from './schema.js';

/**
 * Stores the definition of each loaded flow version (once per version), so a conversation pinned
 * to a version keeps running on it in another instance or after a restart with changed files.
 */
export async function saveFlowVersions(db: DbOrTx, flows: readonly VersionedFlow[], now: Date): Promise<void> {
  if (flows.length === 0) return;
  await db
    .insert(flowVersions)
    .values(flows.map((f) => ({ flowId: f.flow.id, version: f.version, definition: Flow.encode(f.flow), createdAt: now })))
    .onConflictDoNothing();
}

/** A stored flow version, or null when this database never saw it (or it no longer parses). */
export async function findFlowVersion(db: DbOrTx, flowId: string, version: string): Promise<Flow | null> {
  const [row] = await db
    .select({ definition: flowVersions.definition })
    .from(flowVersions)
    .where(and(eq(flowVersions.flowId, flowId), eq(flowVersions.version, version)))
    .limit(1);
  if (!row) return null;
  const parsed = Flow.safeParse(row.definition);
  return parsed.success ? parsed.data : null;
}
