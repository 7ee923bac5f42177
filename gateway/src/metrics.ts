// The gateway's Prometheus metrics. Names and labels are part of the contract
// (dashboards and alert rules use them). Children are cached per label set so
// the invocation path does no label hashing.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FunctionView } from './provider/types.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly invocations: Counter<'function_name' | 'code'>;
  private readonly seconds: Histogram<'function_name'>;
  private readonly counterChildren = new Map<string, Counter.Internal>();
  private readonly histogramChildren = new Map<string, Histogram.Internal<'function_name'>>();
  /** invocationCount of GET /system/functions, by function. */
  private readonly counts = new Map<string, number>();

  constructor(functions: FunctionView, options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const ensureSeries = (name: string) => this.counterChild(name, 200);
    this.invocations = new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Invocations of functions through the gateway, by function and HTTP status',
      labelNames: ['function_name', 'code'],
      registers: [this.registry],
      collect() {
        // Every known function has its code="200" series from the first scrape,
        // at 0: a rate() needs two samples, so a series born with the first
        // invocation would delay the first scale-up by a scrape interval.
        for (const status of functions.list()) ensureSeries(status.name);
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
        for (const status of functions.list()) this.set({ function_name: status.name }, status.replicas);
      },
    });
  }

  recordInvocation(name: string, code: number, durationSeconds: number): void {
    this.counterChild(name, code).inc();
    let histogram = this.histogramChildren.get(name);
    if (!histogram) {
      histogram = this.seconds.labels({ function_name: name });
      this.histogramChildren.set(name, histogram);
    }
    histogram.observe(durationSeconds);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  private counterChild(name: string, code: number): Counter.Internal {
    const key = `${name}\u0000${code}`;
    let counter = this.counterChildren.get(key);
    if (!counter) {
      counter = this.invocations.labels({ function_name: name, code: String(code) });
      counter.inc(0); // the series exists from now on, at 0
      this.counterChildren.set(key, counter);
    }
    return counter;
  }

  invocationCount(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** A removed function's series go away (a new function of the same name starts from zero). */
  forget(name: string): void {
    this.counts.delete(name);
    for (const key of this.counterChildren.keys()) {
      if (key.startsWith(`${name}\u0000`)) {
        this.counterChildren.delete(key);
        this.invocations.remove({ function_name: name, code: key.slice(name.length + 1) });
      }
    }
    if (this.histogramChildren.delete(name)) this.seconds.remove({ function_name: name });
  }
}
