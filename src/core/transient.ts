import { AppError } from './errors.js';

// SQLSTATE classes that say "try again": connection exceptions, transaction rollbacks
// (serialization failures, deadlocks), insufficient resources, operator intervention, system errors.
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58)/;
const TRANSIENT_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
]);

/**
 * Whether an error says "we could not do it now" (the database or a network is away) rather
 * than "this input can never be stored". Intake answers the first with a temporary failure
 * (503, SMTP 451) so the sender retries, and dead-letters the second.
 */
export function isTransientError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof AppError) return current.code === 'unavailable';
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string' && (TRANSIENT_NODE.has(code) || (code.length === 5 && TRANSIENT_SQLSTATE.test(code)))) return true;
    current = current.cause;
  }
  return false;
}
