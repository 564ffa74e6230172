import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type ErrorCode } from '../core/errors.js';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  validation_failed: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** The JSON error body used everywhere: `{error: {code, message, details?}}`. */
export function errorResponse(c: Context, err: AppError) {
  const body = { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
  return c.json(body, STATUS[err.code]);
}

// Request parsing lives in the core so channels' routes use the same errors; re-exported for the console.
export { parseJson, validationError } from '../core/request.js';
