import type { Clock } from '../core/ports.js';

export interface CircuitBreakerOptions {
  clock: Clock;
  /** Failures within `windowMs` that open the circuit (default 5). */
  failureThreshold?: number;
  /** The window failures are counted in (default 30 s). */
  windowMs?: number;
  /** How long the circuit stays open before one trial call (default 60 s). */
  openMs?: number;
  /** Called when the circuit opens (metrics, logs). */
  onOpen?: () => void;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * Stops calling a failing endpoint: after `failureThreshold` failures within `windowMs` the circuit
 * opens for `openMs`; then one trial call is let through (half-open). Its success closes the
 * circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private readonly clock: Clock;
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly openMs: number;
  private readonly onOpen: () => void;
  private failures: number[] = [];
  private openedAt: number | null = null;
  private trialInFlight = false;

  constructor(options: CircuitBreakerOptions) {
    this.clock = options.clock;
    this.threshold = options.failureThreshold ?? 5;
    this.windowMs = options.windowMs ?? 30_000;
    this.openMs = options.openMs ?? 60_000;
    this.onOpen = options.onOpen ?? (() => {});
  }

  /** The state as of now. */
  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.clock.now().getTime() - this.openedAt >= this.openMs ? 'half_open' : 'open';
  }

  /** Whether a call may go out now; in half-open state only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** The endpoint answered. */
  recordSuccess(): void {
    this.failures = [];
    this.openedAt = null;
    this.trialInFlight = false;
  }

  /** The endpoint failed (timeout, 5xx, 429, connection). */
  recordFailure(): void {
    const now = this.clock.now().getTime();
    if (this.openedAt !== null) {
      // A failed trial (or a late failure while open) keeps the circuit open for another period.
      this.openedAt = now;
      this.trialInFlight = false;
      return;
    }
    this.failures = this.failures.filter((t) => now - t < this.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.threshold) {
      this.openedAt = now;
      this.failures = [];
      this.onOpen();
    }
  }

  /** The call was not a verdict on the endpoint (e.g. the model refused): frees a trial slot. */
  release(): void {
    this.trialInFlight = false;
  }
}
