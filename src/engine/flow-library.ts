import type { Flow, Globals } from './flow-schema.js';
import type { FlowSet, VersionedFlow } from './load-flows.js';

/**
 * The flows a process knows, by id and by version. Every version loaded during the process's
 * life stays available, so a conversation continues on the version it started on after a flow
 * file changes; snapshots from the database can be added for versions loaded by other processes.
 */
export class FlowLibrary {
  private set: FlowSet;
  private readonly versions = new Map<string, Flow>();

  constructor(set: FlowSet) {
    this.set = set;
    this.remember(set);
  }

  get globals(): Globals {
    return this.set.globals;
  }

  /** The current version of a flow. */
  current(flowId: string): VersionedFlow | undefined {
    return this.set.flows.get(flowId);
  }

  /** A flow at a given version, if this process knows it. */
  pinned(flowId: string, version: string): VersionedFlow | undefined {
    const flow = this.versions.get(key(flowId, version));
    return flow ? { flow, version } : undefined;
  }

  /** Adds a known older version (e.g. a snapshot from the database). */
  addVersion(flow: Flow, version: string): void {
    this.versions.set(key(flow.id, version), flow);
  }

  /** Makes a newly loaded set current; earlier versions stay reachable for conversations in progress. */
  replace(set: FlowSet): void {
    this.set = set;
    this.remember(set);
  }

  /** Every current flow. */
  all(): VersionedFlow[] {
    return [...this.set.flows.values()];
  }

  private remember(set: FlowSet): void {
    for (const { flow, version } of set.flows.values()) this.versions.set(key(flow.id, version), flow);
  }
}

function key(flowId: string, version: string): string {
  return `${flowId}@${version}`;
}
