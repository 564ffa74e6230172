import { performance } from 'node:perf_hooks';

/** How long after the last inbound message intake counts as active. */
export const INTAKE_QUIET_MS = 200;
/** Event-loop utilisation (0..1) from which the process counts as saturated. */
export const SATURATED_UTILISATION = 0.85;
const SAMPLE_MS = 100;

export interface IntakePressureOptions {
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  /** The event loop's utilisation since the last call, 0..1 (default: Node's eventLoopUtilization). */
  utilisation?: () => number;
  /** Called when pressure eased: turns held back may start. */
  onEased: () => void;
}

/**
 * Whether intake is under pressure: messages arrive twice as fast as turns answer them (a burst, not
 * people waiting for their answers) and the event loop is saturated. Bot turns and intake share one
 * process; under a burst, each turn's CPU delays the 202 of the messages behind it. While under
 * pressure the processor runs few turns at once, so stored-and-acknowledged stays fast; once
 * messages stop coming, or the CPU has room, it runs many, and the backlog drains at full speed.
 * A turn waiting on the LLM or the database uses no CPU, so it never counts.
 */
export class IntakePressure {
  private lastReceived = Number.NEGATIVE_INFINITY;
  private sampler: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly utilisation: () => number;
  private wasUnder = false;
  /** Messages stored and turns finished since the last sample. */
  private arrivedSince = 0;
  private answeredSince = 0;
  /** The last sample saw a burst on a saturated event loop. */
  private saturatedBurst = false;

  constructor(private readonly options: IntakePressureOptions) {
    this.now = options.now ?? (() => performance.now());
    this.utilisation = options.utilisation ?? nodeUtilisation();
  }

  /** A message arrived. */
  received(): void {
    this.lastReceived = this.now();
    this.arrivedSince += 1;
    // Sampled only while messages arrive: an idle service runs no timer.
    if (!this.sampler) {
      this.utilisation(); // starts the window at this message
      this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
      this.sampler.unref();
    }
  }

  /** A bot turn finished. */
  answered(): void {
    this.answeredSince += 1;
  }

  /** Over the last sample messages arrived twice as fast as they were answered and the event loop was saturated; and they still arrive. */
  get under(): boolean {
    return this.now() - this.lastReceived < INTAKE_QUIET_MS && this.saturatedBurst;
  }

  /** Takes one utilisation sample (every 100 ms while messages arrive; tests call it directly). */
  sample(): void {
    const utilised = this.utilisation(); // read every sample: each covers the 100 ms since the last
    // Twice as fast: people writing again once answered arrive about as fast as they are answered.
    this.saturatedBurst = this.arrivedSince > 2 * this.answeredSince && utilised >= SATURATED_UTILISATION;
    this.arrivedSince = 0;
    this.answeredSince = 0;
    if (this.now() - this.lastReceived >= INTAKE_QUIET_MS && this.sampler) {
      clearInterval(this.sampler);
      this.sampler = null;
    }
    const under = this.under;
    if (this.wasUnder && !under) this.options.onEased();
    this.wasUnder = under;
  }

  close(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }
}

/** Node's event-loop utilisation since the previous call. */
function nodeUtilisation(): () => number {
  let previous = performance.eventLoopUtilization();
  return () => {
    const current = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(current, previous);
    previous = current;
    return delta.utilization;
  };
}
