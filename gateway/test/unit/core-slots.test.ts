// Per-replica slots on a virtual clock: at most the limit on each instance,
// the rest waiting in arrival order, the wait bounded in time and length,
// and an instance that refused a call at its own limit left alone a while.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvocationError } from '../../src/core/invocation/errors.js';
import { EndpointTable } from '../../src/core/upstream/endpoints.js';
import { SlotTable } from '../../src/core/upstream/slots.js';
import { ClientGone } from '../../src/core/upstream/client-gone.js';

const KEY = 'fn.openfaas-fn';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function table(addresses: string[], limit = 2, maxWaiting = 100) {
  const endpoints = new EndpointTable();
  endpoints.set(KEY, addresses);
  const slots = new SlotTable(endpoints, { maxWaiting, nameOf: () => 'fn' });
  slots.configure(KEY, limit);
  return { endpoints, slots };
}

/** A call's acquire, with what became of it so far. */
function call(slots: SlotTable, options: { waitMs?: number; front?: boolean; signal?: ClientGone } = {}) {
  const state: { address?: string | undefined; error?: unknown; settled: boolean } = { settled: false };
  const promise = slots.acquire(KEY, { deadline: Date.now() + (options.waitMs ?? 10_000), ...(options.front ? { front: true } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  promise.then(
    (address) => Object.assign(state, { address, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('SlotTable', () => {
  it('gives each instance at most its limit, the least busy first', async () => {
    const { slots } = table(['a:1', 'b:1'], 2);
    const calls = Array.from({ length: 5 }, () => call(slots));
    await settle();
    const placed = calls.filter((c) => c.settled).map((c) => c.address);
    expect(placed.sort()).toEqual(['a:1', 'a:1', 'b:1', 'b:1']);
    // Spread before doubling up: the first two went to different instances.
    expect(calls[0]!.address).not.toBe(calls[1]!.address);
    expect(calls[4]!.settled).toBe(false);
    expect(slots.waitingCount(KEY)).toBe(1);
    expect(Object.fromEntries(slots.inflightByInstance(KEY)!)).toEqual({ 'a:1': 2, 'b:1': 2 });
  });

  it('hands freed slots to waiting calls in the order they came', async () => {
    const { slots } = table(['a:1'], 1);
    const first = call(slots);
    await settle();
    expect(first.address).toBe('a:1');
    const waiting = Array.from({ length: 4 }, () => call(slots));
    await settle();
    const order: number[] = [];
    for (let round = 0; round < 4; round++) {
      slots.release(KEY, 'a:1');
      await settle();
      waiting.forEach((c, i) => c.settled && !order.includes(i) && order.push(i));
    }
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('a new call waits behind those already waiting, even if a slot is free at that moment', async () => {
    const { slots, endpoints } = table(['a:1'], 1);
    call(slots);
    const waiting = call(slots);
    await settle();
    // A new instance appears; before the table hears of it the next call comes in.
    endpoints.set(KEY, ['a:1', 'b:1']);
    const late = call(slots);
    await settle();
    expect(late.settled).toBe(false);
    slots.changed(KEY);
    await settle();
    expect(waiting.address).toBe('b:1');
    expect(late.settled).toBe(false);
  });

  it('sends waiting calls to a new instance as soon as it is listed', async () => {
    const { slots, endpoints } = table(['a:1'], 2);
    call(slots);
    call(slots);
    const third = call(slots);
    const fourth = call(slots);
    await settle();
    expect(third.settled).toBe(false);
    endpoints.set(KEY, ['a:1', 'b:1']);
    slots.changed(KEY);
    await settle();
    expect([third.address, fourth.address]).toEqual(['b:1', 'b:1']);
  });

  it('refuses a call that waited past its deadline with overloaded (429, Retry-After 1), and one beyond the longest line at once', async () => {
    const { slots } = table(['a:1'], 1, 2);
    call(slots);
    const patient = call(slots, { waitMs: 60_000 });
    const hurried = call(slots, { waitMs: 1_500 });
    const tooMany = call(slots);
    await settle();
    expect(tooMany.error).toBeInstanceOf(InvocationError);
    expect((tooMany.error as InvocationError).kind).toBe('overloaded');
    expect((tooMany.error as InvocationError).message).toMatch(/2 calls waiting.*CONCURRENCY_MAX_WAITING/);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(hurried.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = hurried.error as InvocationError;
    expect(error.kind).toBe('overloaded');
    expect(error.retryAfterSeconds).toBe(1);
    expect(error.message).toMatch(/no free slot within 1.5 s \(1 at once per replica, 1 replica; CONCURRENCY_MAX_WAIT\)/);
    // The one that gave up left the line: the next slot goes to the patient one.
    slots.release(KEY, 'a:1');
    await settle();
    expect(patient.address).toBe('a:1');
    expect(slots.waitingCount(KEY)).toBe(0);
  });

  it('leaves an instance that refused a call at its own limit alone for 50 ms, doubling while it refuses, and puts the call back first in line', async () => {
    const { slots } = table(['a:1'], 2);
    const mine = call(slots);
    const other = call(slots);
    await settle();
    expect([mine.address, other.address]).toEqual(['a:1', 'a:1']);
    const queued = call(slots);
    await settle();
    // The instance answered `mine` with 429 (another program's calls fill it).
    slots.refused(KEY, 'a:1');
    const retried = call(slots, { front: true });
    await vi.advanceTimersByTimeAsync(49);
    expect(retried.settled).toBe(false);
    expect(queued.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(retried.address).toBe('a:1');
    expect(queued.settled).toBe(false);
    // Refused again: 100 ms this time.
    slots.refused(KEY, 'a:1');
    const again = call(slots, { front: true });
    await vi.advanceTimersByTimeAsync(99);
    expect(again.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(again.address).toBe('a:1');
    // One of our own calls there ends: it takes calls again at once.
    slots.refused(KEY, 'a:1');
    slots.release(KEY, 'a:1');
    await settle();
    expect(queued.address).toBe('a:1');
  });

  it('answers undefined (look again) when the function has no instance, and to waiting calls when its last goes', async () => {
    const { slots, endpoints } = table([], 1);
    expect(call(slots)).toMatchObject({ settled: false });
    await settle();
    endpoints.set(KEY, ['a:1']);
    call(slots);
    const waiting = call(slots);
    await settle();
    endpoints.set(KEY, []);
    slots.changed(KEY);
    await settle();
    expect(waiting).toMatchObject({ settled: true, address: undefined });
  });

  it('drops a waiting call whose client went away, and frees its place', async () => {
    const { slots } = table(['a:1'], 1);
    call(slots);
    const gone = new ClientGone();
    const leaving = call(slots, { signal: gone });
    const next = call(slots);
    await settle();
    gone.fire();
    await settle();
    expect(leaving.error).toBeInstanceOf(Error);
    slots.release(KEY, 'a:1');
    await settle();
    expect(next.address).toBe('a:1');
  });

  it('lets waiting calls go the plain way when the limit is removed', async () => {
    const { slots } = table(['a:1'], 1);
    call(slots);
    const waiting = call(slots);
    await settle();
    slots.configure(KEY, undefined);
    await settle();
    expect(waiting).toMatchObject({ settled: true, address: undefined });
    expect(slots.limitOf(KEY)).toBeUndefined();
  });

  it('skips a quarantined instance and comes back to it once its quarantine ends', async () => {
    const { slots, endpoints } = table(['a:1', 'b:1'], 1);
    endpoints.reject('b:1');
    const first = call(slots);
    const second = call(slots);
    await settle();
    expect(first.address).toBe('a:1');
    expect(second.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_050);
    expect(second.address).toBe('b:1');
  });
});
