import type { ActionCatalogue } from '../engine/check-flows.js';
import { silentLogger } from '../logger.js';
import { type ActionDeps, createActionRegistry } from './index.js';

/**
 * The names and outcomes of the registered actions, for checking flows without running them. The
 * caller passes the ports (the CLI passes the database adapters): no action runs, so any will do.
 */
export function builtInActionCatalogue(ports: Pick<ActionDeps, 'orders' | 'refunds'>): ActionCatalogue {
  return createActionRegistry({ orders: ports.orders, refunds: ports.refunds, logger: silentLogger });
}
