import type { Responder } from './responder.js';

/** Wraps a responder so each turn's duration (respond, inside its transaction) is reported; prepare passes through. */
export function timedResponder(inner: Responder, observe: (ms: number) => void): Responder {
  const timed: Responder = {
    async respond(input) {
      const started = performance.now();
      try {
        return await inner.respond(input);
      } finally {
        observe(performance.now() - started);
      }
    },
  };
  if (inner.prepare) {
    const prepare = inner.prepare.bind(inner);
    timed.prepare = (input) => prepare(input);
  }
  return timed;
}
