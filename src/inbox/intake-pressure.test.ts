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

  /** One sample's worth of traffic: messages stored, turns finished. */
  function traffic(p: IntakePressure, arrived: number, answered: number) {
    for (let i = 0; i < arrived; i += 1) p.received();
    for (let i = 0; i < answered; i += 1) p.answered();
    p.sample();
  }

  it('is under pressure only while messages arrive twice as fast as they are answered and the event loop is saturated', () => {
    const { state, pressure } = setup();
    expect(pressure.under).toBe(false);

    // A burst while the CPU has room (turns waiting on the LLM use none): no pressure.
    state.utilisation = 0.4;
    traffic(pressure, 30, 5);
    expect(pressure.under).toBe(false);

    state.utilisation = 0.97;
    traffic(pressure, 30, 5);
    expect(pressure.under).toBe(true);
    expect(state.eased).toBe(0);

    // The CPU gets room again: eased, and the held-back turns are told so.
    state.utilisation = 0.5;
    traffic(pressure, 30, 5);
    expect(pressure.under).toBe(false);
    expect(state.eased).toBe(1);
  });

  it('is no pressure when people wait for their answers, however busy the turns keep the process', () => {
    const { state, pressure } = setup();
    state.utilisation = 0.99;
    // Each person writes again once answered: as many answers as messages.
    traffic(pressure, 7, 7);
    expect(pressure.under).toBe(false);
    traffic(pressure, 7, 9);
    expect(pressure.under).toBe(false);
    traffic(pressure, 9, 6);
    expect(pressure.under).toBe(false);
    // Then a crowd arrives at once.
    traffic(pressure, 40, 8);
    expect(pressure.under).toBe(true);
  });

  it('eases once messages stop arriving, however busy the process still is', () => {
    const { state, pressure } = setup();
    state.utilisation = 0.99;
    traffic(pressure, 30, 5);
    expect(pressure.under).toBe(true);

    state.now += INTAKE_QUIET_MS - 1;
    expect(pressure.under).toBe(true);
    state.now += 1;
    // Answering the backlog keeps the CPU busy; with no message arriving, that is all it should do.
    expect(pressure.under).toBe(false);
    pressure.sample();
    expect(state.eased).toBe(1);

    // A new burst is pressure again.
    traffic(pressure, 30, 5);
    expect(pressure.under).toBe(true);
  });
});
