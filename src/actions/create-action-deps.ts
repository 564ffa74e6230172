import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createDbOrderSource } from './db-order-source.js';
import { createDbRefundGateway } from './db-refund-gateway.js';
import { createHttpOrderSource } from './http-order-source.js';
import { createHttpRefundGateway } from './http-refund-gateway.js';
import type { ActionDeps } from './index.js';
import { OrderApiClient } from './order-api-client.js';

/** The action ports the configuration asks for: the platform's order API when ORDER_API_URL is set, else our tables. */
export function createActionDeps(config: Config, logger: Logger): ActionDeps {
  const review = {
    recentCount: config.REFUND_REVIEW_COUNT,
    recentWindowDays: config.REFUND_REVIEW_WINDOW_DAYS,
    largeAmountCents: config.REFUND_REVIEW_AMOUNT_CENTS,
  };
  if (config.ORDER_API_URL && config.ORDER_API_TOKEN) {
    const client = new OrderApiClient({
      baseUrl: config.ORDER_API_URL,
      token: config.ORDER_API_TOKEN,
      timeoutMs: config.ORDER_API_TIMEOUT_MS,
      logger,
    });
    return { orders: createHttpOrderSource(client), refunds: createHttpRefundGateway(client), review, logger };
  }
  return { orders: createDbOrderSource(), refunds: createDbRefundGateway(), review, logger };
}
