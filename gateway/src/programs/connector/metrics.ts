// The connector's metrics (its /metrics also carries the invocation core's
// gateway_function_invocation_total{source="topic"|"schedule"} for the calls
// it makes, so event load counts towards rate-based autoscaling and
// invocationCount like synchronous load).
import { Gauge, Histogram, type Counter, type Registry } from 'prom-client';
import { counter, functionGauge } from '../../core/metric-kinds.js';

export type Trigger = 'topic' | 'schedule' | 'rabbitmq';

export class ConnectorMetrics {
  /** Messages the connector took from NATS, by the subject subscribed to (a pattern: wildcards stay as they are, so the labels stay few). */
  readonly received: Counter<'subject' | 'delivery'>;
  readonly invocations: Counter<'function_name' | 'trigger' | 'outcome'>;
  readonly redeliveries: Counter<'function_name' | 'trigger'>;
  readonly ticks: Counter<'function_name'>;
  /** From the message being stored (durable, schedule) or published (at-most-once, when its publisher said when) to the invocation starting. */
  readonly delay: Histogram<'delivery'>;

  constructor(
    private readonly registry: Registry,
    options: {
      subscriptions: () => Array<{ subject: string; delivery: string; functions: number }>;
      inflight: () => Array<{ name: string; count: number }>;
    },
  ) {
    this.received = counter(this.registry, 'events_messages_received_total', 'Messages the connector received, by subscribed subject and delivery (at-most-once, durable, schedule); a durable message counts once per subscribed function', ['subject', 'delivery']);
    this.invocations = counter(this.registry, 'events_invocations_total', 'Invocations made for events, by function, trigger (topic, schedule) and outcome: success (2xx), failure (another final answer), retry (to be tried again), dead_letter (attempts exhausted, or the function is gone), dropped (at-most-once: the function had too many waiting)', ['function_name', 'trigger', 'outcome']);
    this.redeliveries = counter(this.registry, 'events_redeliveries_total', 'Deliveries of a durable message or tick that had been delivered before (retries, and at-least-once repeats after a restart)', ['function_name', 'trigger']);
    this.ticks = counter(this.registry, 'events_schedule_ticks_total', 'Ticks of a schedule this connector published (every replica publishes each tick; JetStream keeps one)', ['function_name']);
    functionGauge(this.registry, 'events_inflight', 'Invocations for events this connector is making now (at-most-once: and those waiting for room)', options.inflight);
    this.delay = new Histogram({
      name: 'events_delivery_delay_seconds',
      help: 'From a message being stored (durable, schedule) to its invocation starting',
      labelNames: ['delivery'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    new Gauge({
      name: 'events_subscriptions',
      help: 'Functions subscribed now, by subject and delivery (schedules: subject cron-function)',
      labelNames: ['subject', 'delivery'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of options.subscriptions()) this.set({ subject: s.subject, delivery: s.delivery }, s.functions);
      },
    });
  }
}
