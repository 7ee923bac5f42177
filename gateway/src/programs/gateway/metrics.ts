// The gateway's Prometheus metrics: the invocations it makes (the shared
// core/invocation/metrics.ts), the replicas of every function and the scaler's
// decisions. Names and labels are part of the contract (dashboards and alert
// rules use them).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { counter, functionGauge } from '../../core/metric-kinds.js';
import { InvocationMetrics } from '../../core/invocation/metrics.js';
/** The functions the gateway knows now, under their metric names, with their wanted replicas. */
export type FunctionCounts = () => Iterable<{ name: string; replicas: number; availableReplicas: number }>;

/** What the scaler did to a function: more replicas, fewer, none (asleep), or woken from none. */
export type ScalingEvent = 'up' | 'down' | 'zero' | 'wake';
export const SCALING_EVENTS: readonly ScalingEvent[] = ['up', 'down', 'zero', 'wake'];

/** Why the scaler changed replicas: an alert on the request rate, the queue depth, the calls in flight, idleness (to zero), a call to a sleeping function, by hand. */
export type ScalingReason = 'rate' | 'queue' | 'capacity' | 'idle' | 'wake' | 'manual';

/** The event a change of replicas from `from` to `to` is. */
export function scalingEventOf(from: number, to: number): ScalingEvent {
  if (to === 0) return 'zero';
  if (from === 0) return 'wake';
  return to > from ? 'up' : 'down';
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** The gateway's own invocations (its synchronous calls). */
  readonly invocations: InvocationMetrics;
  private readonly scalingEvents: Counter<'function_name' | 'event'>;
  private readonly scalingDecisions: Counter<'function_name' | 'reason' | 'event'>;
  /** Functions whose scaling-event series exist (at 0 or more). */
  private readonly withScalingSeries = new Set<string>();

  constructor(functions: FunctionCounts, options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.invocations = new InvocationMetrics(this.registry, { known: () => [...functions()].map(({ name }) => name), primary: 'sync' });
    // Read at scrape time from the live view: removed functions disappear.
    functionGauge(this.registry, 'gateway_service_count', 'Current replicas of each function', () => [...functions()].map(({ name, replicas }) => ({ name, count: replicas })));
    functionGauge(this.registry, 'gateway_service_available_replicas', 'Replicas of each function that are running and ready', () =>
      [...functions()].map(({ name, availableReplicas }) => ({ name, count: availableReplicas })),
    );
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
    this.scalingDecisions = counter(this.registry, 'gateway_scaling_decisions_total', 'Replica changes the gateway made, by function, reason (rate: an alert on the request rate; queue: the queue depth; capacity: the calls in flight; idle: to zero when idle; wake: a call to a sleeping function; manual) and event', ['function_name', 'reason', 'event']);
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

  /** A removed function's series go away (a new function of the same name starts from zero). */
  forget(name: string): void {
    for (const reason of ['rate', 'queue', 'capacity', 'idle', 'wake', 'manual'] as const) {
      for (const event of SCALING_EVENTS) this.scalingDecisions.remove({ function_name: name, reason, event });
    }
    if (this.withScalingSeries.delete(name)) {
      for (const event of SCALING_EVENTS) this.scalingEvents.remove({ function_name: name, event });
    }
    this.invocations.forget(name);
  }
}
