import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { silentLogger } from '../logger.js';
import { createActionDeps } from './create-action-deps.js';

describe('action ports from configuration', () => {
  it('takes the refund review thresholds from the environment', () => {
    const deps = createActionDeps(
      loadConfig({ DATABASE_URL: 'pglite://memory', REFUND_REVIEW_COUNT: '5', REFUND_REVIEW_WINDOW_DAYS: '14', REFUND_REVIEW_AMOUNT_CENTS: '100000' }),
      silentLogger,
    );
    expect(deps.review).toEqual({ recentCount: 5, recentWindowDays: 14, largeAmountCents: 100_000 });
    expect(createActionDeps(loadConfig({ DATABASE_URL: 'pglite://memory' }), silentLogger).review).toEqual({
      recentCount: 3,
      recentWindowDays: 30,
      largeAmountCents: 50_000,
    });
  });

  it('refuses an order API URL without a token, and a URL that is not one', () => {
    expect(() => loadConfig({ ORDER_API_URL: 'https://orders.example.test' })).toThrow(ConfigError);
    expect(() => loadConfig({ ORDER_API_URL: 'not a url', ORDER_API_TOKEN: 't' })).toThrow(/ORDER_API_URL/);
    expect(() => loadConfig({ ORDER_API_URL: 'https://orders.example.test', ORDER_API_TOKEN: 't', ORDER_API_TIMEOUT_MS: '0' })).toThrow(/ORDER_API_TIMEOUT_MS/);
  });
});
