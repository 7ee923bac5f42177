// The queue worker's metrics (its /metrics also carries the invocation core's
// gateway_function_invocation_total{source="async"}, so asynchronous load
// counts towards autoscaling and invocationCount like synchronous load). The
// queue depths are read from JetStream at scrape time; every worker replica
// reports the same figure, so aggregate them with max, not sum.
import { Gauge, type Counter, type Registry } from 'prom-client';
import { counter, functionGauge } from '../../core/metric-kinds.js';
import type { FunctionRef } from '../../core/functions/types.js';

export type Counts = () => Promise<Array<{ ref: FunctionRef; count: number }>>;

export class WorkerMetrics {
  readonly invocations: Counter<'function_name' | 'outcome'>;
  readonly retries: Counter<'function_name'>;
  readonly deadLettered: Counter<'function_name'>;
  readonly redeliveries: Counter<'function_name'>;
  readonly callbacks: Counter<'function_name' | 'result'>;
  readonly stranded: Counter<'function_name'>;

  constructor(
    private readonly registry: Registry,
    options: { queued: Counts; dead: Counts; inflight: () => Array<{ name: string; count: number }>; nameOf: (ref: FunctionRef) => string; log?: (error: unknown) => void },
  ) {
    const { nameOf } = options;
    this.invocations = counter(this.registry, 'async_invocations_total', 'Asynchronous invocations finished by this worker, by function and outcome: success (2xx), failure (another final answer), dead_letter (retries exhausted, or the function is gone)', ['function_name', 'outcome']);
    this.retries = counter(this.registry, 'async_retries_total', 'Attempts that failed with 429, 502, 503, 504 or no connection and were scheduled again', ['function_name']);
    this.deadLettered = counter(this.registry, 'async_dead_letters_total', 'Calls this worker moved to the dead letters', ['function_name']);
    this.redeliveries = counter(this.registry, 'async_redeliveries_total', 'Deliveries of a call that had been delivered before (scheduled retries, and calls whose worker stopped or whose acknowledgement was lost: at-least-once)', ['function_name']);
    this.callbacks = counter(this.registry, 'async_callbacks_total', 'Callbacks to X-Callback-Url, by result (delivered; failed after its attempts; refused by the callback guard: this node, the stack, link-local, private unless allowed)', ['function_name', 'result']);
    this.stranded = counter(this.registry, 'async_stranded_requeued_total', 'Calls found still stored after their acknowledgement (a crash of NATS) and queued again', ['function_name']);
    functionGauge(this.registry, 'async_inflight', 'Asynchronous invocations this worker is making now', options.inflight);
    const depthGauge = (name: string, help: string, counts: Counts) =>
      new Gauge({
        name,
        help,
        labelNames: ['function_name'],
        registers: [this.registry],
        async collect() {
          try {
            const rows = await counts();
            this.reset();
            for (const { ref, count } of rows) this.set({ function_name: nameOf(ref) }, count);
          } catch (error) {
            options.log?.(error); // NATS away: the last figures stay
          }
        },
      });
    depthGauge('async_queue_depth', 'Calls stored for each function: waiting, or being worked on (read from JetStream; the same on every worker)', options.queued);
    depthGauge('async_dead_letter_depth', 'Dead letters stored for each function (read from JetStream; the same on every worker)', options.dead);
  }
}
