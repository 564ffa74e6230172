import { NeedsTransaction } from './read-only-tx.js';
import type { Responder } from './responder.js';

/** Wraps a responder so each turn's duration (respond, inside its transaction) is reported; prepare passes through. */
export function timedResponder(inner: Responder, observe: (ms: number) => void): Responder {
  const timed: Responder = {
    async respond(input) {
      const started = performance.now();
      let counted = true;
      try {
        return await inner.respond(input);
      } catch (err) {
        // A try that wanted to write runs again in a transaction: that run is the turn.
        if (err instanceof NeedsTransaction) counted = false;
        throw err;
      } finally {
        if (counted) observe(performance.now() - started);
      }
    },
  };
  if (inner.prepare) {
    const prepare = inner.prepare.bind(inner);
    timed.prepare = (input) => prepare(input);
  }
  return timed;
}
