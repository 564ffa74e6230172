import type { Logger } from '../logger.js';
import type { Processor } from './processor.js';

const SWEEP_MS = 5000;

/** The recovery timer: picks up messages nobody is answering (a crash, a lost lease) now and every 5 s. */
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
