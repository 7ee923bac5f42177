// Per-replica concurrency (Knative's containerConcurrency): a function with a
// limit (core/functions/concurrency.ts) gets at most that many calls at once
// on each of its instances from this program. A call finds the instance with
// the fewest of this program's calls and a free slot; when every slot is
// taken it waits here, in arrival order, and goes to the first instance that
// frees one (or to a new instance as soon as the view lists it). The wait is
// bounded in time and in length: past either, the call is refused with
// 'overloaded' (429 with Retry-After), never held without end.
//
// Several programs (two gateways, queue workers, connectors) call the same
// instances, each counting only its own calls, so together they may send an
// instance more than its limit. The instance's watchdog holds the limit
// itself (max_inflight, set from the same label) and answers 429 beyond it;
// the invocation core then gives the call back here, at the head of the
// line, and this program sends that instance nothing more until one of its
// own calls there ends or a short back-off passes (doubling while it keeps
// refusing). A collision costs one round trip; the caller never sees it.
//
// Functions without a limit never come here: the invocation core asks
// limitOf() once per call and goes the plain round-robin way.
import { InvocationError } from '../invocation/errors.js';
import type { EndpointTable } from './endpoints.js';

/** First back-off of an instance that refused a call at its own limit; doubles per refusal in a row. */
const FULL_FIRST_MS = 50;
const FULL_MAX_MS = 1_000;
/** While calls wait, how often the instances are looked at again (back-offs and quarantines end without an event). */
const RECHECK_MS = 50;

export interface SlotOptions {
  /** Calls that may wait per function in this program; beyond, a new call is refused at once. */
  maxWaiting: number;
  /** The name of a function in messages, from its key. */
  nameOf?: (key: string) => string;
}

interface Waiter {
  /** An address (its slot taken), or undefined: the function has no instance now, look again. */
  resolve(address: string | undefined): void;
  reject(error: Error): void;
}

interface Refusal {
  /** No calls to the instance before this (ms), unless one of ours there ends first. */
  until: number;
  /** Refusals in a row. */
  strikes: number;
}

class FunctionSlots {
  readonly inflight = new Map<string, number>();
  readonly refusals = new Map<string, Refusal>();
  /** Arrival order; calls given back after a refusal go to the front. */
  readonly waiters: Waiter[] = [];
  recheck: NodeJS.Timeout | undefined;

  constructor(public limit: number) {}
}

export class SlotTable {
  private readonly functions = new Map<string, FunctionSlots>();

  constructor(
    private readonly endpoints: EndpointTable,
    private readonly options: SlotOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The function's limit per instance; undefined: none (the call goes the plain way). */
  limitOf(key: string): number | undefined {
    return this.functions.get(key)?.limit;
  }

  /** The function's limit, from the view (undefined: it has none, or it is gone). */
  configure(key: string, limit: number | undefined): void {
    let slots = this.functions.get(key);
    if (limit === undefined) {
      if (!slots) return;
      this.functions.delete(key);
      clearTimeout(slots.recheck);
      // Waiting calls look again: they go the plain way now.
      for (const waiter of slots.waiters.splice(0)) waiter.resolve(undefined);
      return;
    }
    if (!slots) this.functions.set(key, (slots = new FunctionSlots(limit)));
    slots.limit = limit;
    this.dispatch(key, slots);
  }

  /** The function's instances changed: waiting calls go to new ones, or look again when none is left. */
  changed(key: string): void {
    const slots = this.functions.get(key);
    if (!slots) return;
    for (const address of slots.refusals.keys()) if ((slots.inflight.get(address) ?? 0) === 0 && !this.endpoints.has(key, address)) slots.refusals.delete(address);
    if (this.endpoints.size(key) === 0) {
      for (const waiter of slots.waiters.splice(0)) waiter.resolve(undefined);
      return;
    }
    this.dispatch(key, slots);
  }

  /**
   * A slot on one of the function's instances: at once when one is free and
   * nobody waits ahead, else in turn. Resolves with the address (the slot is
   * taken: give it back with release()), or undefined when the function has
   * no instance any more (the caller looks again, and may wake it). Rejects
   * with 'overloaded' past `deadline` or when too many calls wait already,
   * and when `signal` aborts.
   */
  acquire(key: string, options: { deadline: number; signal?: AbortLike; front?: boolean; avoid?: string }): Promise<string | undefined> {
    const slots = this.functions.get(key);
    if (!slots) return Promise.resolve(undefined);
    if (slots.waiters.length === 0) {
      const address = this.pick(key, slots, options.avoid) ?? (options.avoid !== undefined ? this.pick(key, slots) : undefined);
      if (address) {
        this.take(slots, address);
        return Promise.resolve(address);
      }
    }
    if (this.endpoints.size(key) === 0) return Promise.resolve(undefined);
    if (!options.front && slots.waiters.length >= this.options.maxWaiting) {
      return Promise.reject(
        new InvocationError('overloaded', `function ${this.nameOf(key)} has ${slots.waiters.length} calls waiting for a free slot already (CONCURRENCY_MAX_WAITING)`, 1),
      );
    }
    const left = options.deadline - this.now();
    if (left <= 0) return Promise.reject(this.waitedTooLong(key, slots, 0));
    return new Promise<string | undefined>((resolve, reject) => {
      const { signal } = options;
      const started = this.now();
      const finish = () => {
        clearTimeout(timer);
        signal?.off('abort', onAbort);
        const index = slots.waiters.indexOf(waiter);
        if (index >= 0) slots.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        resolve: (address) => {
          finish();
          resolve(address);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(new Error('client went away'));
      const timer = setTimeout(() => waiter.reject(this.waitedTooLong(key, slots, this.now() - started)), left);
      if (signal?.aborted) return reject(new Error('client went away'));
      signal?.once('abort', onAbort);
      if (options.front) slots.waiters.unshift(waiter);
      else slots.waiters.push(waiter);
      this.scheduleRecheck(key, slots);
    });
  }

  /** A call is over on `address`: its slot goes to the next waiting call. `answered`: the instance answered (it takes calls again). */
  release(key: string, address: string, answered = true): void {
    const slots = this.functions.get(key);
    if (!slots) return;
    const count = (slots.inflight.get(address) ?? 1) - 1;
    if (count > 0) slots.inflight.set(address, count);
    else slots.inflight.delete(address);
    // One of our calls there ended: it has a slot free now (until another program takes it).
    if (answered) slots.refusals.delete(address);
    this.dispatch(key, slots);
  }

  /**
   * The instance answered 429 at its own limit (another program's calls
   * fill it): release the call's slot without handing it on, and send that
   * instance nothing more for a while.
   */
  refused(key: string, address: string): void {
    const slots = this.functions.get(key);
    if (!slots) return;
    const strikes = (slots.refusals.get(address)?.strikes ?? 0) + 1;
    slots.refusals.set(address, { strikes, until: this.now() + Math.min(FULL_FIRST_MS * 2 ** (strikes - 1), FULL_MAX_MS) });
    this.release(key, address, false);
  }

  /** This program's calls in flight on each instance of the function (only functions with a limit). */
  inflightByInstance(key: string): ReadonlyMap<string, number> | undefined {
    return this.functions.get(key)?.inflight;
  }

  /** Calls waiting for a slot. */
  waitingCount(key: string): number {
    return this.functions.get(key)?.waiters.length ?? 0;
  }

  private take(slots: FunctionSlots, address: string): void {
    slots.inflight.set(address, (slots.inflight.get(address) ?? 0) + 1);
  }

  /** The usable instance with a free slot and the fewest of our calls. */
  private pick(key: string, slots: FunctionSlots, avoid?: string): string | undefined {
    const now = this.now();
    return this.endpoints.pick(
      key,
      (address) => {
        const count = slots.inflight.get(address) ?? 0;
        if (count >= slots.limit) return undefined;
        const refusal = slots.refusals.get(address);
        return refusal && refusal.until > now ? undefined : count;
      },
      avoid,
    );
  }

  private dispatch(key: string, slots: FunctionSlots): void {
    while (slots.waiters.length > 0) {
      const address = this.pick(key, slots);
      if (!address) break;
      this.take(slots, address);
      slots.waiters[0]!.resolve(address);
    }
    if (slots.waiters.length > 0) this.scheduleRecheck(key, slots);
  }

  private scheduleRecheck(key: string, slots: FunctionSlots): void {
    if (slots.recheck) return;
    const now = this.now();
    let delay = RECHECK_MS;
    for (const refusal of slots.refusals.values()) if (refusal.until > now) delay = Math.min(delay, refusal.until - now);
    slots.recheck = setTimeout(() => {
      slots.recheck = undefined;
      if (this.functions.get(key) === slots) this.dispatch(key, slots);
    }, Math.max(1, delay));
    slots.recheck.unref?.();
  }

  private waitedTooLong(key: string, slots: FunctionSlots, waitedMs: number): InvocationError {
    const instances = this.endpoints.size(key);
    return new InvocationError(
      'overloaded',
      `function ${this.nameOf(key)} had no free slot within ${Math.round(waitedMs / 100) / 10} s (${slots.limit} at once per replica, ${instances} replica${instances === 1 ? '' : 's'}; CONCURRENCY_MAX_WAIT)`,
      1,
    );
  }

  private nameOf(key: string): string {
    return this.options.nameOf?.(key) ?? key;
  }
}

/** The part of ClientGone (an EventEmitter) a waiting call watches. */
export interface AbortLike {
  readonly aborted: boolean;
  once(event: 'abort', listener: () => void): unknown;
  off(event: 'abort', listener: () => void): unknown;
}
