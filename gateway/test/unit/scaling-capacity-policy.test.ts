// Capacity scaling's decision on a virtual clock: up at once on a burst
// (panic), no step down while panicking or through a momentary dip, down
// with the stable window's average once the load has gone, to zero after
// the idle period.
import { describe, expect, it } from 'vitest';
import { capacityTargetOf, decideCapacity, isCapacityScaled, type CapacityInput, type CapacityMemory } from '../../src/programs/gateway/scaling/capacity-policy.js';

const WINDOWS = { stableMs: 60_000, panicMs: 6_000 };
const LIMITS = { min: 1, max: 20, scaleToZero: false, idleSeconds: 30 };

/** A function looked at every second, its replicas following each decision at once (ready after `startMs`). */
class Run {
  now = 1_000_000;
  replicas = 1;
  ready = 1;
  memory: CapacityMemory | undefined;
  lastBusy: number | undefined;
  history: Array<{ t: number; replicas: number; panicking: boolean }> = [];
  private readonly start = this.now;
  private pendingReady: Array<{ at: number; replicas: number }> = [];

  constructor(
    private readonly options: { target?: number; limits?: Partial<CapacityInput['limits']>; startMs?: number } = {},
  ) {}

  /** One look with this demand; then the clock moves on a second. */
  look(demand: number): ReturnType<typeof decideCapacity> {
    for (const p of this.pendingReady.filter((p) => p.at <= this.now)) this.ready = Math.min(this.replicas, p.replicas);
    this.pendingReady = this.pendingReady.filter((p) => p.at > this.now);
    if (demand > 0) this.lastBusy = this.now;
    const decision = decideCapacity({
      now: this.now,
      replicas: this.replicas,
      ready: this.ready,
      demand,
      lastBusy: this.lastBusy,
      limits: { ...LIMITS, ...this.options.limits },
      target: this.options.target ?? 1.4,
      windows: WINDOWS,
      memory: this.memory,
    });
    this.memory = decision.memory;
    if (decision.to !== undefined) {
      if (decision.to < this.replicas) this.ready = Math.min(this.ready, decision.to);
      this.replicas = decision.to;
      this.pendingReady.push({ at: this.now + (this.options.startMs ?? 2_000), replicas: decision.to });
    }
    this.history.push({ t: (this.now - this.start) / 1000, replicas: this.replicas, panicking: decision.panicking });
    this.now += 1_000;
    return decision;
  }

  /** `seconds` looks with the same demand. */
  hold(demand: number, seconds: number): void {
    for (let i = 0; i < seconds; i++) this.look(demand);
  }
}

describe('capacity scaling policy', () => {
  it('reads the type and the target: 70 % of the concurrency limit by default; a target above the limit or not a whole number is a problem', () => {
    expect(isCapacityScaled({ 'com.openfaas.scale.type': 'Capacity' })).toBe(true);
    expect(isCapacityScaled({ 'com.openfaas.scale.type': 'queue' })).toBe(false);
    expect(capacityTargetOf({}, 2)).toEqual({ target: 1.4 });
    expect(capacityTargetOf({}, 1)).toEqual({ target: 1 });
    expect(capacityTargetOf({}, undefined)).toEqual({ target: 10 });
    expect(capacityTargetOf({ 'com.openfaas.scale.target': '2' }, 2)).toEqual({ target: 2 });
    expect(capacityTargetOf({ 'com.openfaas.scale.target': '3' }, 2)).toMatchObject({ target: 1.4, problem: expect.stringMatching(/above the concurrency limit/) });
    expect(capacityTargetOf({ 'com.openfaas.scale.target': '0.5' }, undefined)).toMatchObject({ target: 10, problem: expect.stringMatching(/whole number/) });
  });

  it('goes up at once on a burst: 20 calls at 1.4 per replica want 15 replicas from the first look', () => {
    const run = new Run();
    const first = run.look(20);
    expect(first).toMatchObject({ to: 15, panicking: true });
    expect(first.reason).toMatch(/up from 1 \(panic: burst\)/);
  });

  it('goes up on the calls in flight and waiting now, before they fill the first period’s average', () => {
    const run = new Run();
    const decision = decideCapacity({ now: run.now, replicas: 1, ready: 1, demand: 11.7, current: 20, lastBusy: run.now, limits: LIMITS, target: 1.4, windows: WINDOWS, memory: undefined });
    expect(decision.to).toBe(15);
    // The stable average is of the averages: it is not moved by the counts now.
    expect(decision.memory.samples).toEqual([{ at: run.now, demand: 11.7 }]);
  });

  it('holds its replicas through the load and a momentary dip, and steps down only after the stable window, with its average', () => {
    const run = new Run();
    run.hold(20, 45);
    expect(Math.min(...run.history.map((h) => h.replicas))).toBe(15);
    // A dip in the middle of the load changes nothing.
    run.hold(2, 3);
    run.hold(20, 5);
    expect(run.replicas).toBe(15);
    // The load stops (t = 53 s). Panicking since the burst, no step down until a stable window after it (t = 60 s).
    const stopped = run.history.length;
    run.hold(0, 6);
    expect(run.replicas).toBe(15);
    run.hold(0, 120);
    const after = run.history.slice(stopped);
    const firstDown = after.find((h) => h.replicas < 15)!;
    expect(firstDown.t).toBeGreaterThanOrEqual(60);
    expect(firstDown.panicking).toBe(false);
    // Down as the window's average falls, never up again, and at the minimum a stable window after the load stopped.
    const steps = after.map((h) => h.replicas);
    expect(steps.every((r, i) => i === 0 || r <= steps[i - 1]!)).toBe(true);
    const atMin = after.find((h) => h.replicas === 1)!;
    expect(atMin.t).toBeLessThanOrEqual(53 + 61);
    expect(run.replicas).toBe(1);
  });

  it('keeps a steady load whose average hovers at a boundary where it is (no 15, 14, 15...), and steps down once it is clearly lower', () => {
    const run = new Run();
    run.hold(20, 70); // past the panic: stable from here on
    expect(run.replicas).toBe(15);
    // 19.4 on average (gaps between calls): 13.9 replicas' worth, but not 10 % below 15's.
    run.hold(19.4, 70);
    expect(Math.min(...run.history.slice(70).map((h) => h.replicas))).toBe(15);
    run.hold(15, 70);
    expect(run.replicas).toBe(12); // 15 / (1.4 x 0.9) = 11.9
  });

  it('follows a rise of less than twice the ready replicas with the stable average, without panicking', () => {
    const run = new Run({ target: 10 });
    run.hold(28, 61);
    expect(run.replicas).toBe(3);
    const rising = run.history.length;
    for (let i = 0; i <= 60; i++) run.look(28 + (22 * i) / 60);
    const after = run.history.slice(rising);
    expect(after.every((h) => !h.panicking)).toBe(true);
    const steps = after.map((h) => h.replicas);
    expect(steps.every((r, i) => i === 0 || r >= steps[i - 1]!)).toBe(true);
    expect(run.replicas).toBe(4); // the average over the window (~39) at 10 per replica
  });

  it('stays within min and max', () => {
    const run = new Run({ limits: { min: 2, max: 6 } });
    expect(run.look(0).to).toBe(2);
    expect(run.look(100).to).toBe(6);
  });

  it('keeps one replica while it may still sleep, goes to zero once nothing was asked of it anywhere for the idle period, and stays asleep', () => {
    const run = new Run({ limits: { min: 0, scaleToZero: true, idleSeconds: 30 } });
    run.hold(3, 10);
    expect(run.replicas).toBe(3);
    run.hold(0, 29);
    expect(run.replicas).toBeGreaterThanOrEqual(1);
    const sleeping = run.look(0);
    expect(sleeping.to).toBe(0);
    expect(sleeping.reason).toMatch(/nothing in flight for 30 s/);
    expect(run.look(0).to).toBeUndefined();
  });

  it('counts calls begun between two looks as activity, and a gateway that just started waits an idle period before a sleep', () => {
    const run = new Run({ limits: { min: 0, scaleToZero: true, idleSeconds: 30 } });
    run.replicas = 1;
    run.hold(0, 29);
    expect(run.replicas).toBe(1);
    run.lastBusy = run.now; // another program began a short call meanwhile
    run.hold(0, 29);
    expect(run.replicas).toBe(1);
    run.hold(0, 2);
    expect(run.replicas).toBe(0);
  });

  it('leaves a sleeping function alone while nothing is asked of it, and sizes it once something is (the wake itself is the waker’s)', () => {
    const run = new Run({ limits: { min: 0, scaleToZero: true } });
    run.replicas = 0;
    run.ready = 0;
    expect(run.look(0).to).toBeUndefined();
    expect(run.look(20).to).toBe(15);
  });
});
