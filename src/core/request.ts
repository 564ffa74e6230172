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
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}
