// What every route handler may use. Handlers see the Provider and the
// FunctionView only through their interfaces: no orchestrator specifics here.
import type { Logger } from 'pino';
import type { FunctionRef } from '../../../core/functions/types.js';
import type { SubjectRules } from '../../../core/events/subjects.js';
import type { AsyncCalls } from '../../../queue/async-calls.js';
import type { BacklogSources } from '../../../queue/backlog.js';
import type { EventBus } from '../../../queue/events.js';
import type { QueueLimits } from '../../../queue/streams.js';
import type { SharedSetting } from '../../../queue/shared-settings.js';
import type { Config } from '../settings.js';
import type { SourceStore } from '../../../queue/kept-sources.js';
import type { FunctionView } from '../function-view.js';
import type { GatewayMetrics } from '../metrics.js';
import type { FunctionRabbit } from '../rabbitmq-queues.js';
import type { PrometheusClient } from '../prometheus/client.js';
import type { InvocationCounts } from '../prometheus/invocation-counts.js';
import type { Provider } from '../provider/types.js';
import type { Scaler } from '../scaling/index.js';
import type { LoadBoard } from '../../../queue/load-reports.js';
import type { RequestSchemas } from '../validation.js';

export interface RouteDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  scaler: Scaler;
  metrics: GatewayMetrics;
  /** The stack's Prometheus (history, the overview, invocation counts). */
  prometheus: PrometheusClient;
  /** invocationCount of every function, whoever invoked it. */
  invocationCounts: InvocationCounts;
  log: Logger;
  /** The request schemas, with the provider's naming rules. */
  schemas: RequestSchemas;
  /** True once the function view has read the functions at least once. */
  ready: () => boolean;
  version: { release: string; sha: string };
  /** The queue (NATS JetStream); undefined: asynchronous calls and events are off (503). */
  queue?: QueueDeps;
  /** The store catalog an admin chose (routes/store.ts), shared by every gateway; undefined: kept in memory. */
  storeChoice?: SharedSetting;
  /** The kept source of functions written in the browser (routes/source.ts); undefined: kept in memory. */
  sources?: SourceStore;
  /** Calls in flight and waiting in every program (the function page). */
  loads?: LoadBoard;
  /** RabbitMQ queues of functions (RABBITMQ_URL); undefined: no broker. */
  rabbitmq?: { describe(ref: FunctionRef): FunctionRabbit | undefined };
}

export interface QueueDeps {
  calls: AsyncCalls;
  events: EventBus;
  /** Subjects functions may not use (the stack's own streams). */
  rules: SubjectRules;
  /** Every function's backlog by source, as the queue scaler last read it. */
  backlog: Map<string, BacklogSources>;
  /** How much the function may have queued (its labels, else the settings). */
  limitsOf(ref: FunctionRef): QueueLimits;
}
