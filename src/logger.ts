import { pino, type Logger } from 'pino';

export type { Logger };

/** The service logger: JSON lines, event names `noun.verb`, no message text unless enabled. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'kefu' },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'], censor: '[redacted]' },
    },
    destination ?? process.stdout,
  );
}

/** A logger that drops everything (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
