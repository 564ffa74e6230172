/**
 * Group commit: calls made while a batch is being collected (the same turn of the event loop) or
 * while the previous batch runs go out together as one statement. Under load that is one round trip
 * for many conversations instead of one each; alone, a call waits for nothing but a setImmediate.
 * A failed batch rejects every call in it, and each caller falls back to its own path.
 */
export class Batcher<I, O> {
  private queue: { input: I; resolve: (out: O) => void; reject: (err: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    /** Runs one batch; returns one output per input, in order. */
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxBatch = 64,
    /**
     * Batches running at once. More than one keeps a batch that waits on a row lock from holding up
     * every call behind it; each still takes what queued meanwhile.
     */
    private readonly maxRunning = 1,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running >= this.maxRunning || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.maxRunning || this.queue.length === 0) return;
    this.running += 1;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const outputs = await this.run(batch.map((b) => b.input));
      batch.forEach((b, i) => b.resolve(outputs[i] as O));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running -= 1;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
