// The gateway's Prometheus metrics. Names and labels are part of the contract
// (dashboards and alert rules use them). Each function's series children are
// kept in one record, so an invocation costs one map lookup and no label hashing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
/** The functions the gateway knows now, under their metric names, with their wanted replicas. */
export type FunctionCounts = () => Iterable<{ name: string; replicas: number; availableReplicas: number }>;

/** What the scaler did to a function: more replicas, fewer, none (asleep), or woken from none. */
export type ScalingEvent = 'up' | 'down' | 'zero' | 'wake';
export const SCALING_EVENTS: readonly ScalingEvent[] = ['up', 'down', 'zero', 'wake'];

/** Why the scaler changed replicas: an alert on the request rate, the queue depth, idleness (to zero), a call to a sleeping function, by hand. */
export type ScalingReason = 'rate' | 'queue' | 'idle' | 'wake' | 'manual';

/** The event a change of replicas from `from` to `to` is. */
export function scalingEventOf(from: number, to: number): ScalingEvent {
  if (to === 0) return 'zero';
  if (from === 0) return 'wake';
  return to > from ? 'up' : 'down';
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly invocations: Counter<'function_name' | 'code'>;
  private readonly seconds: Histogram<'function_name'>;
  private readonly scalingEvents: Counter<'function_name' | 'event'>;
  private readonly scalingDecisions: Counter<'function_name' | 'reason' | 'event'>;
  /** Functions whose scaling-event series exist (at 0 or more). */
  private readonly withScalingSeries = new Set<string>();
  private readonly series = new Map<string, FunctionSeries>();

  constructor(functions: FunctionCounts, options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const ensureSeries = (name: string) => this.counterChild(this.seriesOf(name), name, 200);
    this.invocations = new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Invocations of functions through the gateway, by function and HTTP status',
      labelNames: ['function_name', 'code'],
      registers: [this.registry],
      collect() {
        // Every known function has its code="200" series from the first scrape,
        // at 0: a rate() needs two samples, so a series born with the first
        // invocation would delay the first scale-up by a scrape interval.
        for (const { name } of functions()) ensureSeries(name);
      },
    });
    this.seconds = new Histogram({
      name: 'gateway_functions_seconds',
      help: 'Time to answer an invocation, in seconds',
      labelNames: ['function_name'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    new Gauge({
      name: 'gateway_service_count',
      help: 'Current replicas of each function',
      labelNames: ['function_name'],
      registers: [this.registry],
      collect() {
        // Read at scrape time from the live view: removed functions disappear.
        this.reset();
        for (const { name, replicas } of functions()) this.set({ function_name: name }, replicas);
      },
    });
    new Gauge({
      name: 'gateway_service_available_replicas',
      help: 'Replicas of each function that are running and ready',
      labelNames: ['function_name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { name, availableReplicas } of functions()) this.set({ function_name: name }, availableReplicas);
      },
    });
    const ensureScalingSeries = (name: string) => this.ensureScalingSeries(name);
    this.scalingEvents = new Counter({
      name: 'gateway_scaling_events_total',
      help: 'Replica changes the gateway made, by function and event (up, down, zero, wake)',
      labelNames: ['function_name', 'event'],
      registers: [this.registry],
      collect() {
        // At 0 from the first scrape, so the first event shows as an increase.
        for (const { name } of functions()) ensureScalingSeries(name);
      },
    });
    this.scalingDecisions = new Counter({
      name: 'gateway_scaling_decisions_total',
      help: 'Replica changes the gateway made, by function, reason (rate: an alert on the request rate; queue: the queue depth; idle: to zero when idle; wake: a call to a sleeping function; manual) and event',
      labelNames: ['function_name', 'reason', 'event'],
      registers: [this.registry],
    });
  }

  /** Counts one replica change the scaler made (and, when given, why). */
  recordScalingEvent(name: string, event: ScalingEvent, reason?: ScalingReason): void {
    this.ensureScalingSeries(name);
    this.scalingEvents.inc({ function_name: name, event });
    if (reason) this.scalingDecisions.inc({ function_name: name, reason, event });
  }

  private ensureScalingSeries(name: string): void {
    if (this.withScalingSeries.has(name)) return;
    this.withScalingSeries.add(name);
    for (const event of SCALING_EVENTS) this.scalingEvents.inc({ function_name: name, event }, 0);
  }

  recordInvocation(name: string, code: number, durationSeconds: number): void {
    const series = this.seriesOf(name);
    this.counterChild(series, name, code).inc();
    series.seconds ??= this.seconds.labels({ function_name: name });
    series.seconds.observe(durationSeconds);
    series.count++;
  }

  private seriesOf(name: string): FunctionSeries {
    let series = this.series.get(name);
    if (!series) {
      series = { byCode: new Map(), seconds: undefined, count: 0 };
      this.series.set(name, series);
    }
    return series;
  }

  private counterChild(series: FunctionSeries, name: string, code: number): Counter.Internal {
    let counter = series.byCode.get(code);
    if (!counter) {
      counter = this.invocations.labels({ function_name: name, code: String(code) });
      counter.inc(0); // the series exists from now on, at 0
      series.byCode.set(code, counter);
    }
    return counter;
  }

  /** invocationCount of GET /system/functions. */
  invocationCount(name: string): number {
    return this.series.get(name)?.count ?? 0;
  }

  /** A removed function's series go away (a new function of the same name starts from zero). */
  forget(name: string): void {
    for (const reason of ['rate', 'queue', 'idle', 'wake', 'manual'] as const) {
      for (const event of SCALING_EVENTS) this.scalingDecisions.remove({ function_name: name, reason, event });
    }
    if (this.withScalingSeries.delete(name)) {
      for (const event of SCALING_EVENTS) this.scalingEvents.remove({ function_name: name, event });
    }
    const series = this.series.get(name);
    if (!series) return;
    this.series.delete(name);
    for (const code of series.byCode.keys()) this.invocations.remove({ function_name: name, code: String(code) });
    if (series.seconds) this.seconds.remove({ function_name: name });
  }
}

/** One function's series children and its invocation count. */
interface FunctionSeries {
  byCode: Map<number, Counter.Internal>;
  seconds: Histogram.Internal<'function_name'> | undefined;
  count: number;
}
