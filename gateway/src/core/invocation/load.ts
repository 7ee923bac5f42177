// How much each function is asked of right now, as this program sees it:
// calls in flight (sent to an instance, answer not complete) and calls
// waiting (in the invocation core, not yet sent: for a free slot, an
// instance, a wake-up). Every invocation of every function passes here, so
// it is kept cheap: two counters and a running sum of demand over time, from
// which the load reports (queue/load-reports.ts) take each function's average
// demand between two reports; a function invoked 100 times a second for
// 10 ms each shows a demand of 1, which no snapshot of the counters would.

export class FunctionLoad {
  inflight = 0;
  waiting = 0;
  /** Invocations begun since the last takeStarted(). */
  private started = 0;
  /** Sum of (inflight + waiting) x milliseconds since `since`. */
  private area = 0;
  private since: number;
  private last: number;

  constructor(now: number) {
    this.since = now;
    this.last = now;
  }

  /** A call came in: waiting until it is sent. */
  enter(now: number): void {
    this.accumulate(now);
    this.waiting++;
    this.started++;
  }

  /** A waiting call was sent to an instance (demand unchanged). */
  sent(): void {
    this.waiting--;
    this.inflight++;
  }

  /** A call sent to an instance came back without an answer (full, unreachable): waiting again. */
  returned(): void {
    this.inflight--;
    this.waiting++;
  }

  /** A call is over, `sent` or not. */
  leave(now: number, sent: boolean): void {
    this.accumulate(now);
    if (sent) this.inflight--;
    else this.waiting--;
  }

  /** Average of in flight + waiting since the last call (or since the function was first seen); starts a new period. */
  takeAverage(now: number): number {
    this.accumulate(now);
    const span = now - this.since;
    const average = span > 0 ? this.area / span : this.inflight + this.waiting;
    this.area = 0;
    this.since = now;
    return average;
  }

  /** Invocations begun since the last call. */
  takeStarted(): number {
    const started = this.started;
    this.started = 0;
    return started;
  }

  private accumulate(now: number): void {
    this.area += (this.inflight + this.waiting) * (now - this.last);
    this.last = now;
  }
}

/** Every function's load in this program, by key ("name.namespace"). */
export class LoadTable {
  private readonly loads = new Map<string, FunctionLoad>();

  constructor(readonly now: () => number = () => performance.now()) {}

  of(key: string): FunctionLoad {
    let load = this.loads.get(key);
    if (!load) this.loads.set(key, (load = new FunctionLoad(this.now())));
    return load;
  }

  get(key: string): FunctionLoad | undefined {
    return this.loads.get(key);
  }

  entries(): IterableIterator<[string, FunctionLoad]> {
    return this.loads.entries();
  }

  /** A removed function (calls still in flight keep their record until they end). */
  forget(key: string): void {
    this.loads.delete(key);
  }
}
