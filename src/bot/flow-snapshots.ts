import type { DbOrTx } from '../db/client.js';
import { findFlowVersion, saveFlowVersions } from '../db/flow-versions.js';
import type { FlowLibrary } from '../engine/flow-library.js';
import { Flow } from '../engine/flow-schema.js';

/** Stores a snapshot of every flow version the library holds (storage keeps them as JSON). */
export async function saveFlowSnapshots(db: DbOrTx, library: FlowLibrary, now: Date): Promise<void> {
  const snapshots = library.all().map((f) => ({ flowId: f.flow.id, version: f.version, definition: Flow.encode(f.flow) }));
  await saveFlowVersions(db, snapshots, now);
}

/** A stored flow version, or null when this database never saw it (or it no longer parses). */
export async function findFlowSnapshot(db: DbOrTx, flowId: string, version: string): Promise<Flow | null> {
  const definition = await findFlowVersion(db, flowId, version);
  if (definition === null) return null;
  const parsed = Flow.safeParse(definition);
  return parsed.success ? parsed.data : null;
}
