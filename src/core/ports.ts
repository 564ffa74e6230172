import { randomUUID } from 'node:crypto';

/** Source of the current time; tests pass a fake one. */
export interface Clock {
  now(): Date;
}

/** Source of identifiers. */
export interface IdGen {
  uuid(): string;
}

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: IdGen = { uuid: () => randomUUID() };

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current: Date = new Date('2026-11-22T09:00:00Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(at: Date): void {
    this.current = new Date(at.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
