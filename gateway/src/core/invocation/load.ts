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

/** One function's load in one program over one report period (queue/load-reports.ts sends these). */
export interface FunctionLoadReport {
  /** Average of in flight + waiting over the period: the demand capacity scaling sizes on. */
  d: number;
  /** In flight now. */
  i: number;
  /** Waiting now. */
  w: number;
  /** Invocations begun in the period. */
  s: number;
  /** In flight now per instance address (functions with a concurrency limit only). */
  a?: Record<string, number>;
}

/**
 * Every function's figures since the last report, for the functions that
 * had any (a function left out had none: nothing in flight, waiting or begun).
 */
export function takeLoadReport(loads: LoadTable, byInstance: (key: string) => ReadonlyMap<string, number> | undefined): Record<string, FunctionLoadReport> {
  const now = loads.now();
  const report: Record<string, FunctionLoadReport> = {};
  for (const [key, load] of loads.entries()) {
    const d = load.takeAverage(now);
    const s = load.takeStarted();
    if (d === 0 && s === 0 && load.inflight === 0 && load.waiting === 0) continue;
    const figures: FunctionLoadReport = { d: Math.round(d * 1000) / 1000, i: load.inflight, w: load.waiting, s };
    const instances = byInstance(key);
    if (instances && instances.size > 0) figures.a = Object.fromEntries(instances);
    report[key] = figures;
  }
  return report;
}
