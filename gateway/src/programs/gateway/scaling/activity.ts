// When each function was last used (invoked, woken, scaled up), and how many
// invocations it got in the last few seconds, keyed by the function's key
// ("name.namespace"). The idler puts a function to
// sleep only after its idle period has passed since its last use; a repeated
// firing alert steps a function up only while invocations still arrive.
import type { Clock } from './clock.js';

/** Seconds of invocation counts kept per function (one bucket per second). */
const BUCKETS = 10;

interface Counts {
  /** The second (clock time / 1000, floored) of the newest bucket. */
  second: number;
  buckets: number[];
}

export class ActivityLog {
  private readonly lastUse = new Map<string, number>();
  private readonly counts = new Map<string, Counts>();

  constructor(private readonly clock: Clock) {}

  /** The function was used in some way (woken, scaled up by hand or by an alert). */
  touch(name: string): void {
    this.lastUse.set(name, this.clock.now());
  }

  /** The function was invoked through this gateway (called on every invocation: keep it cheap). */
  invoked(name: string): void {
    const now = this.clock.now();
    this.lastUse.set(name, now);
    const counts = this.advance(name, Math.floor(now / 1000));
    counts.buckets[counts.second % BUCKETS]!++;
  }

  /** Milliseconds since the function was last used; undefined when never seen. */
  idleFor(name: string): number | undefined {
    const last = this.lastUse.get(name);
    return last === undefined ? undefined : this.clock.now() - last;
  }

  /** Invocations through this gateway in the last `seconds` whole seconds (at most 10), the current one included. */
  recentInvocations(name: string, seconds: number): number {
    if (!this.counts.has(name)) return 0;
    const counts = this.advance(name, Math.floor(this.clock.now() / 1000));
    let total = 0;
    for (let i = 0; i < Math.min(seconds, BUCKETS); i++) total += counts.buckets[(counts.second - i + BUCKETS) % BUCKETS]!;
    return total;
  }

  forget(name: string): void {
    this.lastUse.delete(name);
    this.counts.delete(name);
  }

  /** Moves the function's buckets forward to `second`, emptying the seconds that passed. */
  private advance(name: string, second: number): Counts {
    let counts = this.counts.get(name);
    if (!counts) {
      counts = { second, buckets: new Array<number>(BUCKETS).fill(0) };
      this.counts.set(name, counts);
    }
    for (let s = counts.second + 1; s <= Math.min(second, counts.second + BUCKETS); s++) counts.buckets[s % BUCKETS] = 0;
    if (second > counts.second) counts.second = second;
    return counts;
  }
}
