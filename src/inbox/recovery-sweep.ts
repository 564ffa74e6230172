import type { Logger } from '../logger.js';
import type { Processor } from './processor.js';

// Short, like the conversation leases it waits out: a dead instance's backlog drains in seconds.
const SWEEP_MS = 2000;

/** The recovery timer: picks up messages nobody is answering (a crash, a lost lease) now and every 2 s. */
export function createRecoverySweep(processor: Processor, logger: Logger) {
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    timer = setTimeout(() => {
      processor
        .sweep()
        .catch((err: unknown) => logger.error({ err }, 'processor.sweep_failed'))
        .finally(() => {
          if (timer) schedule();
        });
    }, SWEEP_MS);
    timer.unref();
  };
  return {
    async start(): Promise<void> {
      await processor.sweep();
      schedule();
    },
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
