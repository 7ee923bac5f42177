// The one wiring of the gateway: settings and a Provider in, a request
// listener and its parts out. main.ts builds the real one; the unit tests
// build theirs here too (with a fake provider), so both run the same wiring.
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { createRequestListener } from './app.js';
import type { Config } from '../../core/settings.js';
import { qualifiedName } from '../../core/functions/names.js';
import { LiveFunctionView } from '../../core/functions/view.js';
import type { Credentials } from './http/basic-auth.js';
import { InvocationCore } from '../../core/invocation/core.js';
import { GatewayMetrics } from '../../core/metrics.js';
import { keyOf, type Provider } from './provider/types.js';
import type { Clock } from './scaling/clock.js';
import type { InvocationHistory } from './scaling/context.js';
import { createScaler, type Scaler } from './scaling/index.js';
import type { HealthProbe } from '../../core/upstream/health-probe.js';
import { EndpointTable } from '../../core/upstream/endpoints.js';
import { Forwarder } from '../../core/upstream/forward.js';
import { Liveness } from '../../core/upstream/liveness.js';
import { requestSchemas } from './validation.js';
import type { AsyncQueue } from '../../queue/async-queue.js';
import { natsBacklog } from '../../queue/backlog.js';
import { EventStreams } from '../../queue/event-streams.js';

export interface GatewayParts {
  config: Config;
  provider: Provider;
  log: Logger;
  version: { release: string; sha: string };
  /** Basic-auth credentials for /system/* and /ui; undefined: no auth. */
  credentials?: Credentials;
  /** Tests: a virtual clock and probe for the scaler, or a scaler of their own. */
  clock?: Clock;
  probe?: HealthProbe;
  scaler?: Scaler;
  history?: InvocationHistory;
  /** The queue of asynchronous calls; undefined: /async-function answers 503. */
  asyncQueue?: AsyncQueue;
  /** Synchronous invocations through every gateway (queue-depth scaling checks them before a function sleeps). */
  syncHistory?: InvocationHistory;
  /** Process metrics (CPU, memory, event loop) in /metrics; default true. */
  processMetrics?: boolean;
}

export interface Gateway {
  listener: RequestListener;
  functions: LiveFunctionView;
  metrics: GatewayMetrics;
  endpoints: EndpointTable;
  forwarder: Forwarder;
  scaler: Scaler;
  invocations: InvocationCore;
  /** Follows the provider and starts the scaler; resolves once the functions were read (or after a wait). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function buildGateway(parts: GatewayParts): Gateway {
  const { config, provider, log } = parts;
  const functions = new LiveFunctionView({ provider, log });
  const metrics = new GatewayMetrics(
    () =>
      functions.list().map(({ status }) => ({ name: qualifiedName(status, config.DEFAULT_NAMESPACE), replicas: status.replicas, availableReplicas: status.availableReplicas })),
    { processMetrics: parts.processMetrics ?? true },
  );
  const endpoints = new EndpointTable();
  // An instance found dead (it stopped accepting connections) gets no more calls, and the calls waiting on it are retried elsewhere.
  const liveness = new Liveness({
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT * 1000,
    onDead: (address) => {
      log.warn({ address }, 'function instance does not accept connections: leaving it out');
      endpoints.reject(address);
      forwarder.drop(address);
    },
  });
  const forwarder: Forwarder = new Forwarder({
    timeoutMs: config.UPSTREAM_TIMEOUT * 1000,
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT * 1000,
    connectionsPerInstance: config.UPSTREAM_CONNECTIONS,
    slowAfterMs: config.UPSTREAM_CHECK_AFTER * 1000,
    onSlow: (address) => liveness.suspect(address),
  });
  // Routing follows the view: each function's ready addresses, and the pools of instances that went away are closed.
  functions.onChange((ref, entry) => {
    const key = keyOf(ref);
    if (entry) endpoints.set(key, entry.endpoints, entry.starting);
    else {
      endpoints.forget(key);
      metrics.forget(qualifiedName(ref, config.DEFAULT_NAMESPACE));
    }
    forwarder.retain(new Set(functions.list().flatMap((e) => [...e.endpoints, ...e.starting])));
  });
  // Event-driven functions: their streams, and every function's backlog (queue-depth scaling, the UI).
  const events = parts.asyncQueue ? new EventStreams(parts.asyncQueue) : undefined;
  const eventRules = { reserved: [config.ASYNC_STREAM, `${config.ASYNC_STREAM}-dead`] };
  const backlog = parts.asyncQueue && events ? natsBacklog(parts.asyncQueue, events, functions, eventRules) : undefined;
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
    });
  const invocations = new InvocationCore({ functions, endpoints, forwarder, scaler, metrics, log, settings: config });
  const listener = createRequestListener(
    {
      config,
      provider,
      functions,
      scaler,
      metrics,
      log,
      schemas: requestSchemas(provider.rules, config.DEFAULT_NAMESPACE),
      ready: () => functions.ready,
      version: parts.version,
      ...(parts.credentials ? { credentials: parts.credentials } : {}),
      ...(parts.asyncQueue ? { asyncQueue: parts.asyncQueue } : {}),
      ...(events && backlog ? { events: { streams: events, rules: eventRules, backlog: backlog.sources } } : {}),
    },
    invocations,
  );
  return {
    listener,
    functions,
    metrics,
    endpoints,
    forwarder,
    scaler,
    invocations,
    async start() {
      await functions.start();
      scaler.start();
    },
    async stop() {
      scaler.stop();
      functions.stop();
      await forwarder.close();
    },
  };
}
