// The step rules and the limits read from labels (pure functions).
import { describe, expect, it } from 'vitest';
import { limitsOf, stepDown, stepUp, wakeReplicas, type ScaleLimits } from '../../src/programs/gateway/scaling/policy.js';
import { testConfig } from './scaling-fakes.js';

const settings = testConfig();

function sequence(limits: ScaleLimits, from: number, alerts: number): number[] {
  const seen = [from];
  for (let i = 0; i < alerts; i++) seen.push(stepUp(seen.at(-1)!, limits));
  return seen;
}

describe('limits from labels', () => {
  it('uses the defaults: min 1, max 20, step 5, no scale to zero', () => {
    const limits = limitsOf({ function: 'true' }, settings);
    expect(limits).toMatchObject({ min: 1, max: 20, step: 5, additive: false, alertScaling: true, scaleToZero: false, idleSeconds: 300, problems: [] });
  });

  it('honours the 2017 com.faas.max_replicas and the OpenFaaS com.openfaas.scale.max (the smaller wins)', () => {
    expect(limitsOf({ 'com.faas.max_replicas': '10' }, settings).max).toBe(10);
    expect(limitsOf({ 'com.openfaas.scale.max': '7' }, settings).max).toBe(7);
    expect(limitsOf({ 'com.faas.max_replicas': '10', 'com.openfaas.scale.max': '15' }, settings).max).toBe(10);
  });

  it('reads min, the factor as percent of max, and scale to zero with its idle period', () => {
    const limits = limitsOf(
      { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '10', 'com.openfaas.scale.factor': '30', 'com.openfaas.scale.zero': 'TRUE', 'com.openfaas.scale.zero-duration': '2m' },
      settings,
    );
    expect(limits).toMatchObject({ min: 2, max: 10, step: 3, additive: true, scaleToZero: true, idleSeconds: 120 });
  });

  it('turns alert scaling off with factor 0', () => {
    expect(limitsOf({ 'com.openfaas.scale.factor': '0' }, settings).alertScaling).toBe(false);
  });

  it('replaces unusable label values by the defaults and says which', () => {
    const limits = limitsOf({ 'com.openfaas.scale.max': 'many', 'com.openfaas.scale.min': '-1', 'com.openfaas.scale.zero-duration': 'soon' }, settings);
    expect(limits).toMatchObject({ min: 1, max: 20, idleSeconds: 300 });
    expect(limits.problems).toHaveLength(3);
    expect(limits.problems.join('\n')).toMatch(/com.openfaas.scale.max="many"/);
    expect(limits.problems.join('\n')).toMatch(/zero-duration="soon" is not a duration/);
  });

  it('never has a max below min', () => {
    expect(limitsOf({ 'com.openfaas.scale.min': '4', 'com.openfaas.scale.max': '2' }, settings)).toMatchObject({ min: 4, max: 4 });
  });

  it('ignores the zero label when SCALE_TO_ZERO is off', () => {
    expect(limitsOf({ 'com.openfaas.scale.zero': 'true' }, testConfig({ SCALE_TO_ZERO: 'false' })).scaleToZero).toBe(false);
  });
});

describe('stepping', () => {
  it('goes 1 -> 5 -> 10 -> 15 -> 20 and stays at 20 (the 2017 demo)', () => {
    expect(sequence(limitsOf({}, settings), 1, 6)).toEqual([1, 5, 10, 15, 20, 20, 20]);
  });

  it('caps at com.faas.max_replicas: wordcount with 10 goes 1 -> 5 -> 10 -> 10', () => {
    expect(sequence(limitsOf({ 'com.faas.max_replicas': '10' }, settings), 1, 3)).toEqual([1, 5, 10, 10]);
  });

  it('adds factor percent of max per alert: 20% of 20 is 4, from 1: 5, 9, 13, 17, 20', () => {
    expect(sequence(limitsOf({ 'com.openfaas.scale.factor': '20' }, settings), 1, 6)).toEqual([1, 5, 9, 13, 17, 20, 20]);
  });

  it('never goes down, never passes max, never stays below min, and always moves until max (every small case)', () => {
    for (let min = 0; min <= 6; min++) {
      for (let max = 1; max <= 25; max++) {
        for (const factor of [undefined, '1', '20', '50', '100']) {
          const labels: Record<string, string> = { 'com.openfaas.scale.min': String(min), 'com.openfaas.scale.max': String(max) };
          if (factor) labels['com.openfaas.scale.factor'] = factor;
          const limits = limitsOf(labels, settings);
          for (let current = 0; current <= limits.max; current++) {
            const next = stepUp(current, limits);
            const context = `min ${min} max ${max} factor ${factor} current ${current} -> ${next}`;
            expect(next, context).toBeLessThanOrEqual(limits.max);
            expect(next, context).toBeGreaterThanOrEqual(Math.max(current, limits.min));
            if (current < limits.max) expect(next, context).toBeGreaterThan(current);
          }
        }
      }
    }
  });

  it('returns to the minimum on resolve, and leaves a sleeping function asleep', () => {
    const limits = limitsOf({ 'com.openfaas.scale.min': '2' }, settings);
    expect(stepDown(20, limits)).toBe(2);
    expect(stepDown(2, limits)).toBe(2);
    expect(stepDown(0, limits)).toBe(0);
  });

  it('wakes to the minimum, at least 1', () => {
    expect(wakeReplicas(limitsOf({}, settings))).toBe(1);
    expect(wakeReplicas(limitsOf({ 'com.openfaas.scale.min': '0' }, settings))).toBe(1);
    expect(wakeReplicas(limitsOf({ 'com.openfaas.scale.min': '3' }, settings))).toBe(3);
  });
});
