// Every invocation, whoever made it, in the metrics the contract names:
// gateway_function_invocation_total{function_name, code, source} and
// gateway_functions_seconds{function_name}. The gateway counts its
// synchronous calls, the queue worker its asynchronous ones, the connector
// its topic and schedule runs; Prometheus scrapes all three, so dashboards,
// alert rules and the API's invocationCount see every invocation. `source` is
// an added label: a query that sums over it (as the alert rule and the 2017
// graphs do) keeps its meaning. Each function's series children are kept in
// one record, so an invocation costs one map lookup and no label hashing.
import { Counter, Histogram, type Registry } from 'prom-client';
import { counter, functionGauge } from '../metric-kinds.js';

/** Who made an invocation: a synchronous call, a queued call, a topic message, a schedule's tick, a RabbitMQ message. */
export type InvocationSource = 'sync' | 'async' | 'topic' | 'schedule' | 'rabbitmq';

export interface InvocationMetricsOptions {
  /** The functions known now, by metric name: each gets its code="200" series at 0 before its first invocation. */
  known: () => Iterable<string>;
  /** The source this process's invocations mostly have (the series made up front). */
  primary: InvocationSource;
}

/** A function's calls in this program now: sent to an instance, and waiting to be sent. */
export interface LoadFigures {
  name: string;
  inflight: number;
  waiting: number;
}

export class InvocationMetrics {
  private readonly invocations: Counter<'function_name' | 'code' | 'source'>;
  private readonly seconds: Histogram<'function_name'>;
  private readonly full: Counter<'function_name'>;
  private readonly series = new Map<string, FunctionSeries>();
  private loads: () => Iterable<LoadFigures> = () => [];

  constructor(registry: Registry, options: InvocationMetricsOptions) {
    const ensureSeries = (name: string) => this.counterChild(this.seriesOf(name), name, 200, options.primary);
    this.invocations = new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Invocations of functions, by function, HTTP status and source (sync, async, topic, schedule, rabbitmq)',
      labelNames: ['function_name', 'code', 'source'],
      registers: [registry],
      collect() {
        // Every known function has its code="200" series from the first scrape,
        // at 0: a rate() needs two samples, so a series born with the first
        // invocation would delay the first scale-up by a scrape interval.
        for (const name of options.known()) ensureSeries(name);
      },
    });
    this.seconds = new Histogram({
      name: 'gateway_functions_seconds',
      help: 'Time to answer an invocation, in seconds',
      labelNames: ['function_name'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    const loads = () => this.loads();
    const gauge = (name: string, help: string, pick: (figures: LoadFigures) => number) =>
      functionGauge(registry, name, help, () => [...loads()].map((figures) => ({ name: figures.name, count: pick(figures) })));
    gauge(
      'gateway_function_inflight',
      'Calls of each function sent to an instance and not yet answered, by this program (each gateway, queue worker and connector reports its own: sum them)',
      (f) => f.inflight,
    );
    gauge(
      'gateway_function_waiting',
      'Calls of each function waiting in this program to be sent: for a free slot (com.openfaas.concurrency), or for an instance to wake (sum over the programs)',
      (f) => f.waiting,
    );
    this.full = counter(
      registry,
      'gateway_function_instance_full_total',
      'Calls an instance refused at its own in-flight limit (429 from its watchdog, its slots taken by other programs) that went back in line for another instance: one round trip each, unseen by the caller',
      ['function_name'],
    );
  }

  /** Where the in-flight and waiting gauges read each function's figures (the runtime's load table). */
  observeLoads(loads: () => Iterable<LoadFigures>): void {
    this.loads = loads;
  }

  /** An instance refused a call at its own limit; the call went back in line. */
  instanceFull(name: string): void {
    this.full.inc({ function_name: name });
  }

  record(name: string, code: number, durationSeconds: number, source: InvocationSource): void {
    const series = this.seriesOf(name);
    this.counterChild(series, name, code, source).inc();
    series.seconds ??= this.seconds.labels({ function_name: name });
    series.seconds.observe(durationSeconds);
    series.count++;
  }

  /** This process's invocations of the function since it started (every source). */
  count(name: string): number {
    return this.series.get(name)?.count ?? 0;
  }

  /** A removed function's series go away (a new function of the same name starts from zero). */
  forget(name: string): void {
    const series = this.series.get(name);
    if (!series) return;
    this.series.delete(name);
    for (const key of series.counters.keys()) {
      const [code, source] = key.split(' ');
      this.invocations.remove({ function_name: name, code: code!, source: source! });
    }
    if (series.seconds) this.seconds.remove({ function_name: name });
    this.full.remove({ function_name: name });
  }

  private seriesOf(name: string): FunctionSeries {
    let series = this.series.get(name);
    if (!series) {
      series = { counters: new Map(), seconds: undefined, count: 0 };
      this.series.set(name, series);
    }
    return series;
  }

  private counterChild(series: FunctionSeries, name: string, code: number, source: InvocationSource): Counter.Internal {
    const key = `${code} ${source}`;
    let counter = series.counters.get(key);
    if (!counter) {
      counter = this.invocations.labels({ function_name: name, code: String(code), source });
      counter.inc(0); // the series exists from now on, at 0
      series.counters.set(key, counter);
    }
    return counter;
  }
}

/** One function's series children ("<code> <source>" -> counter) and its invocation count. */
interface FunctionSeries {
  counters: Map<string, Counter.Internal>;
  seconds: Histogram.Internal<'function_name'> | undefined;
  count: number;
}
