import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** The service's real logger (redaction included), writing its JSON lines into memory. */
export function capturedLogger(level = 'debug'): { logger: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, text: () => lines.join('') };
}
