import { afterEach, describe, expect, it } from 'vitest';
import { INTAKE_QUIET_MS, IntakePressure } from './intake-pressure.js';

describe('IntakePressure', () => {
  let pressure: IntakePressure | undefined;
  afterEach(() => pressure?.close());

  function setup() {
    const state = { now: 1000, utilisation: 0, eased: 0 };
    pressure = new IntakePressure({ now: () => state.now, utilisation: () => state.utilisation, onEased: () => (state.eased += 1) });
    return { state, pressure };
  }

  it('is under pressure only while messages arrive and the event loop is saturated', () => {
    const { state, pressure } = setup();
    expect(pressure.under).toBe(false);

    // Messages arrive while the CPU has room (turns waiting on the LLM use none): no pressure.
    pressure.received();
    state.utilisation = 0.4;
    pressure.sample();
    expect(pressure.under).toBe(false);

    state.utilisation = 0.97;
    pressure.sample();
    expect(pressure.under).toBe(true);
    expect(state.eased).toBe(0);

    // The CPU gets room again: eased, and the held-back turns are told so.
    state.utilisation = 0.5;
    pressure.sample();
    expect(pressure.under).toBe(false);
    expect(state.eased).toBe(1);
  });

  it('eases once messages stop arriving, however busy the process still is', () => {
    const { state, pressure } = setup();
    pressure.received();
    state.utilisation = 0.99;
    pressure.sample();
    expect(pressure.under).toBe(true);

    state.now += INTAKE_QUIET_MS - 1;
    expect(pressure.under).toBe(true);
    state.now += 1;
    // Answering the backlog keeps the CPU busy; with no message arriving, that is all it should do.
    expect(pressure.under).toBe(false);
    pressure.sample();
    expect(state.eased).toBe(1);

    // A new burst is pressure again.
    pressure.received();
    pressure.sample();
    expect(pressure.under).toBe(true);
  });
});
