import { createActionRegistry } from '../actions/index.js';
import { createDbOrderSource } from '../actions/db-order-source.js';
import { createDbRefundGateway } from '../actions/db-refund-gateway.js';
import { silentLogger } from '../logger.js';
import type { ActionCatalogue } from './check-flows.js';

/** The names and outcomes of the registered actions, for checking flows without a database. */
export function builtInActionCatalogue(): ActionCatalogue {
  return createActionRegistry({ orders: createDbOrderSource(), refunds: createDbRefundGateway(), logger: silentLogger });
}
