import { afterEach, beforeEach, vi } from 'vitest';

// Tests fail on stray console output: src must log through pino, tests assert on behaviour.
let spies: ReturnType<typeof vi.spyOn>[] = [];
beforeEach(() => {
  spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      throw new Error(`Unexpected console.${level}: ${args.map(String).join(' ')}`);
    }),
  );
});
afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});
