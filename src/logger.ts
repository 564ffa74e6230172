import { pino, type Logger } from 'pino';
import { redactLogLine, redactSecrets } from './core/redact.js';

export type { Logger };

/**
 * Errors are logged by type, code, redacted message and stack only: drizzle's query errors carry
 * the statement's parameters (message texts, names, email subjects) as properties and in their
 * message, PostgreSQL's `detail` quotes row values, and HTTP client errors quote URLs with tokens.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? redactSecrets(err) : err;
  const code = 'code' in err && (typeof err.code === 'string' || typeof err.code === 'number') ? err.code : undefined;
  return {
    type: err.name,
    message: redactSecrets(err.message),
    ...(code === undefined ? {} : { code }),
    ...(err.stack ? { stack: redactSecrets(err.stack) } : {}),
    ...(err.cause !== undefined && depth < 3 ? { cause: serializeError(err.cause, depth + 1) } : {}),
  };
}

/** The service logger: JSON lines, event names `noun.verb`, no message text unless enabled. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'kefu' },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], censor: '[redacted]' },
      serializers: { err: serializeError },
      // Last line of defence: whatever field a token or SQL parameter list ends up in.
      hooks: { streamWrite: redactLogLine },
    },
    destination ?? process.stdout,
  );
}

/** A logger that drops everything (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
