import { z } from 'zod';
import { AppError } from './errors.js';

/** Turns a zod error into field-level details a client can show. */
export function validationError(error: z.ZodError, what = 'request body'): AppError {
  const details = error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const first = details[0];
  return new AppError(
    'validation_failed',
    `Invalid ${what}${first ? `: ${first.path} ${first.message}` : ''}`,
    details,
  );
}

/** Reads and validates a JSON body, with clear errors for malformed JSON and wrong fields. */
export async function parseJson<T extends z.ZodType>(c: { req: { json(): Promise<unknown> } }, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new AppError('bad_request', 'Request body is not valid JSON');
  }
  // PostgreSQL text cannot hold U+0000: refuse it here instead of failing deep in a query.
  if (hasNul(raw)) throw new AppError('bad_request', 'Request body contains a NUL character');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
  return false;
}
