// Queue-depth scaling decisions, step by step on a fake clock: from 0 to 1 on
// the first message, up to the maximum, down after the delay, to 0 after the
// idle period.
import { describe, expect, it } from 'vitest';
import { decideQueue, isQueueScaled, queueTargetOf, type QueueInput, type QueueMemory } from '../../src/programs/gateway/scaling/queue-policy.js';

const limits = { min: 1, max: 5, scaleToZero: true, idleSeconds: 10 };

/** Runs decisions one second apart, applying each, from `replicas`. */
function run(pendings: number[], options: Partial<QueueInput> = {}, start = { replicas: 0 }) {
  let replicas = start.replicas;
  let memory: QueueMemory | undefined = options.memory;
  let delivered = 0;
  const seen: number[] = [];
  pendings.forEach((pending, second) => {
    delivered += pending > 0 ? 1 : 0;
    const decision = decideQueue({ now: second * 1000, replicas, pending, delivered, limits, target: 10, scaleDownDelayMs: 3_000, memory, ...options });
    memory = decision.memory;
    if (decision.to !== undefined) replicas = decision.to;
    seen.push(replicas);
  });
  return seen;
}

describe('queue-depth scaling', () => {
  it('reads its labels', () => {
    expect(isQueueScaled({ 'com.openfaas.scale.type': 'Queue' })).toBe(true);
    expect(isQueueScaled({ 'com.openfaas.scale.type': 'rate' })).toBe(false);
    expect(isQueueScaled({})).toBe(false);
    expect(queueTargetOf({})).toEqual({ target: 10 });
    expect(queueTargetOf({ 'com.openfaas.scale.target': '25' })).toEqual({ target: 25 });
    expect(queueTargetOf({ 'com.openfaas.scale.target': '0' }).problem).toMatch(/whole number from 1/);
    expect(queueTargetOf({ 'com.openfaas.scale.target': 'lots' })).toMatchObject({ target: 10 });
  });

  it('wakes a sleeping function on its first message', () => {
    expect(decideQueue({ now: 0, replicas: 0, pending: 1, delivered: 0, limits, target: 10, scaleDownDelayMs: 3_000, memory: undefined })).toMatchObject({ to: 1 });
  });

  it('wants ceil(pending / target) replicas, within min and max, at once', () => {
    expect(run([1, 11, 25, 49, 500])).toEqual([1, 2, 3, 5, 5]);
    expect(decideQueue({ now: 0, replicas: 1, pending: 30, delivered: 0, limits: { ...limits, min: 4 }, target: 10, scaleDownDelayMs: 0, memory: undefined })).toMatchObject({ to: 4 });
  });

  it('steps down only after fewer have been wanted for the delay, to the most wanted meanwhile', () => {
    // 50 pending: 5; then 20, 30, 10 (wanting 2, 3, 1) for 3 s: down to 3, the most wanted in that time.
    const seen = run([50, 20, 30, 10, 10, 10, 10, 10, 10, 10]);
    expect(seen.slice(0, 4)).toEqual([5, 5, 5, 5]);
    expect(seen[4]).toBe(3);
    expect(seen.at(-1)).toBe(1);
  });

  it('a backlog that grows again during the delay keeps the replicas', () => {
    expect(run([50, 10, 10, 50, 10, 10])).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('goes back to 0 once the queue has been empty (and nothing delivered) for the idle period', () => {
    const seen = run([20, 5, ...new Array<number>(14).fill(0)]);
    // Last pending at second 1: one replica from second 4 (delay), zero at second 11 (10 s idle).
    expect(seen.indexOf(1)).toBe(4);
    expect(seen.indexOf(0)).toBe(11);
    expect(seen.at(-1)).toBe(0);
  });

  it('counts messages that came and went between two looks as activity', () => {
    let memory: QueueMemory | undefined;
    const at = (now: number, delivered: number, replicas = 1) => {
      const d = decideQueue({ now, replicas, pending: 0, delivered, limits, target: 10, scaleDownDelayMs: 0, memory });
      memory = d.memory;
      return d;
    };
    at(0, 5);
    expect(at(9_000, 5).to).toBeUndefined();
    expect(at(9_500, 6).to).toBeUndefined(); // the consumers moved on: a message was handled in between
    expect(at(19_000, 6).to).toBeUndefined();
    expect(at(19_600, 6).to).toBe(0);
  });

  it('never sleeps on a first look, nor without com.openfaas.scale.zero', () => {
    expect(decideQueue({ now: 1e9, replicas: 1, pending: 0, delivered: 0, limits, target: 10, scaleDownDelayMs: 0, memory: undefined }).to).toBeUndefined();
    const awake = run(new Array<number>(30).fill(0), { limits: { ...limits, scaleToZero: false } }, { replicas: 3 });
    expect(awake.at(-1)).toBe(1);
  });

  it('leaves a sleeping function asleep while its queue is empty', () => {
    expect(run([0, 0, 0], {}, { replicas: 0 })).toEqual([0, 0, 0]);
  });
});
