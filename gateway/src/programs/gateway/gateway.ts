// The one wiring of the gateway: settings and a Provider in, a request
// listener and its parts out. main.ts builds the real one; the unit tests
// build theirs here too (with a fake provider), so both run the same wiring.
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { qualifiedName } from '../../core/functions/names.js';
import type { FunctionEntry, FunctionRef } from '../../core/functions/types.js';
import type { InvocationCore } from '../../core/invocation/core.js';
import { buildRuntime } from '../../core/runtime.js';
import type { EndpointTable } from '../../core/upstream/endpoints.js';
import type { Forwarder } from '../../core/upstream/forward.js';
import { probeStartingWatchdog, type HealthProbe } from '../../core/upstream/health-probe.js';
import { addBacklogs, natsBacklog } from '../../queue/backlog.js';
import { brokerAccess } from '../../rabbitmq/connection.js';
import { CatalogPublisher } from '../../queue/function-catalog.js';
import { announceGatewayAddresses } from '../../queue/gateway-addresses.js';
import { LoadBoard, LoadReporter, senderId } from '../../queue/load-reports.js';
import type { Queue } from '../../queue/queue.js';
import { queueLimitsOf } from '../../queue/streams.js';
import { WakeResponder } from '../../queue/wake-requests.js';
import { memorySources, natsSources } from '../../queue/kept-sources.js';
import { natsSetting } from '../../queue/shared-settings.js';
import { createRequestListener } from './app.js';
import { LiveFunctionView } from './function-view.js';
import type { Credentials } from './http/basic-auth.js';
import { GatewayMetrics } from './metrics.js';
import { RabbitQueues } from './rabbitmq-queues.js';
import { PrometheusClient } from './prometheus/client.js';
import { InvocationCounts } from './prometheus/invocation-counts.js';
import type { Provider } from './provider/types.js';
import type { Clock } from './scaling/clock.js';
import type { InvocationHistory } from './scaling/context.js';
import { createScaler, type Scaler } from './scaling/index.js';
import type { QueueDeps } from './routes/deps.js';
import type { Config } from './settings.js';
import { requestSchemas } from './validation.js';

export interface GatewayParts {
  config: Config;
  provider: Provider;
  log: Logger;
  version: { release: string; sha: string };
  /** Basic-auth credentials for /system/* and /ui; undefined: no auth. */
  credentials?: Credentials;
  /** Tests: a virtual clock for the scaler, a probe of starting tasks (readiness, wake-ups), or a scaler of their own. */
  clock?: Clock;
  probe?: HealthProbe;
  scaler?: Scaler;
  /** Invocations through every gateway and trigger (scale to zero asks before a function sleeps). */
  history?: InvocationHistory;
  /** Synchronous invocations through every gateway (queue-depth scaling checks them before a function sleeps). */
  syncHistory?: InvocationHistory;
  /** The queue (NATS JetStream); undefined: /async-function and events answer 503. */
  queue?: GatewayQueue;
  /** Process metrics (CPU, memory, event loop) in /metrics; default true. */
  processMetrics?: boolean;
}

/** The queue as the gateway uses it: its ports, and (a real queue) the connection the catalog and the wake-ups go through. */
export type GatewayQueue = Pick<Queue, 'calls' | 'events'> & Partial<Pick<Queue, 'connection'>>;

export interface Gateway {
  listener: RequestListener;
  functions: LiveFunctionView;
  metrics: GatewayMetrics;
  endpoints: EndpointTable;
  forwarder: Forwarder;
  scaler: Scaler;
  invocations: InvocationCore;
  /** Every program's load (this gateway's own included), for capacity scaling and the function page. */
  loads: LoadBoard;
  /** Follows the provider and starts the scaler; resolves once the functions were read (or after a wait). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function buildGateway(parts: GatewayParts): Gateway {
  const { config, provider, log, queue } = parts;
  const functions = new LiveFunctionView({ provider, log, probe: parts.probe ?? probeStartingWatchdog });
  const metrics = new GatewayMetrics(
    () =>
      functions.list().map(({ status }) => ({ name: qualifiedName(status, config.DEFAULT_NAMESPACE), replicas: status.replicas, availableReplicas: status.availableReplicas })),
    { processMetrics: parts.processMetrics ?? true },
  );
  // A removed function's scaling series go with it (the runtime forgets its invocation series); kept, they piled up with every name ever deployed.
  const forgetRemoved = functions.onChange((ref, entry) => {
    if (!entry) metrics.forget(qualifiedName(ref, config.DEFAULT_NAMESPACE));
  });
  // Event-driven functions and queued calls: every function's backlog (queue-depth scaling, queue limits, the UI).
  const rules = { reserved: [config.ASYNC_STREAM, `${config.ASYNC_STREAM}-dead`, `${config.ASYNC_STREAM}-fn`] };
  // The queue worker and the connector know the functions, and have them woken, through the gateways.
  const connection = queue?.connection;
  // Calls in flight and waiting in every program, reported over NATS (capacity scaling; without NATS this gateway's own).
  const loads = new LoadBoard(connection, senderId('gateway'), log.child({ component: 'load-reports' }));
  // RabbitMQ-fed functions (annotation rabbitmq-topic): their queues' depths join their backlog.
  const rabbitmq = config.RABBITMQ_URL ? new RabbitQueues(brokerAccess(config), functions, log, (ref) => qualifiedName(ref, config.DEFAULT_NAMESPACE), metrics.registry) : undefined;
  const backlog = queue ? addBacklogs(natsBacklog(queue.calls, queue.events, functions, rules), rabbitmq && (() => rabbitmq.backlog())) : undefined;
  const scaler =
    parts.scaler ??
    createScaler({
      config,
      provider,
      functions,
      log,
      events: metrics,
      ...(parts.clock ? { clock: parts.clock } : {}),
      ...(parts.probe ? { probe: parts.probe } : {}),
      ...(parts.history ? { history: parts.history } : {}),
      ...(backlog ? { queue: { backlog, registry: metrics.registry, ...(parts.syncHistory ? { syncHistory: parts.syncHistory } : {}) } } : {}),
      loads,
    });
  const runtime = buildRuntime({ functions, waker: scaler, metrics: metrics.invocations, log, settings: config });
  const reporter = new LoadReporter(connection, loads.self, 'gateway', runtime.takeLoadReport, log.child({ component: 'load-reports' }), (report) => loads.accept(report));
  const prometheus = new PrometheusClient(config.PROMETHEUS_URL);
  const limitsOf = (ref: FunctionRef) => queueLimitsOf(functions.get(ref)?.status.labels ?? {}, config);
  const queueDeps: QueueDeps | undefined = queue && backlog ? { calls: queue.calls, events: queue.events, rules, backlog: backlog.sources, limitsOf } : undefined;
  const catalog = connection ? new CatalogPublisher(connection, functions, log.child({ component: 'catalog' })) : undefined;
  // The queue worker's callback guard refuses these from the start (Swarm's DNS lists a new task later).
  const ownAddresses = connection ? announceGatewayAddresses(connection, senderId('gateway'), log.child({ component: 'own-addresses' })) : undefined;
  const wakes = connection
    ? new WakeResponder(
        connection,
        async (ref, signal): Promise<{ address: string | undefined; entry: FunctionEntry | undefined }> => {
          const address = await scaler.ensureAvailable(ref, signal);
          await catalog?.flush(ref);
          return { address, entry: functions.get(ref) };
        },
        log.child({ component: 'wake-requests' }),
        config.WAKE_TIMEOUT * 1000,
      )
    : undefined;
  const listener = createRequestListener(
    {
      config,
      provider,
      functions,
      scaler,
      metrics,
      prometheus,
      invocationCounts: new InvocationCounts(prometheus, metrics.invocations),
      log,
      schemas: requestSchemas(provider.rules, config.DEFAULT_NAMESPACE),
      ready: () => functions.ready,
      version: parts.version,
      ...(parts.credentials ? { credentials: parts.credentials } : {}),
      ...(queueDeps ? { queue: queueDeps } : {}),
      // The store catalog an admin chose: the same for every gateway (in NATS).
      ...(connection ? { storeChoice: natsSetting(connection, 'store-url') } : {}),
      // The source of functions written in the browser: every gateway, and a restart, sees it.
      // Sources written in the UI: in NATS, or in this gateway's memory without it (the source and delete routes share it).
      sources: connection ? natsSources(connection) : memorySources(),
      loads,
      ...(rabbitmq ? { rabbitmq } : {}),
    },
    runtime.invocations,
  );
  return {
    listener,
    functions,
    metrics,
    endpoints: runtime.endpoints,
    forwarder: runtime.forwarder,
    scaler,
    invocations: runtime.invocations,
    loads,
    async start() {
      await functions.start();
      reporter.start();
      void loads.start();
      rabbitmq?.start();
      scaler.start();
      catalog?.start();
      ownAddresses?.start();
      void wakes?.start();
      // Calls queued by an earlier version in the one shared stream move to their functions' streams.
      if (connection) void queue!.calls.moveFromSharedStream(limitsOf).catch((error: unknown) => log.warn({ err: error }, 'calls of the earlier shared queue not moved yet'));
    },
    async stop() {
      reporter.stop();
      loads.stop();
      wakes?.stop();
      catalog?.stop();
      ownAddresses?.stop();
      scaler.stop();
      functions.stop();
      forgetRemoved();
      await Promise.all([runtime.close(), rabbitmq?.stop()]);
    },
  };
}
