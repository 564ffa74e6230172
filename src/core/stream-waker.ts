import type { SSEStreamingApi } from 'hono/streaming';

const KEEP_ALIVE_MS = 25_000;

/**
 * Lets a live-stream loop sleep until something changed: `wake()` ends the sleep at once; after
 * 25 s without a change a keep-alive comment goes out so proxies keep the connection open.
 */
export class StreamWaker {
  private wakeSleeper: (() => void) | null = null;

  wake(): void {
    this.wakeSleeper?.();
  }

  async sleep(stream: SSEStreamingApi): Promise<void> {
    const woke = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), KEEP_ALIVE_MS);
      this.wakeSleeper = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    this.wakeSleeper = null;
    if (!woke && !stream.aborted) await stream.write(': keep-alive\n\n');
  }
}
