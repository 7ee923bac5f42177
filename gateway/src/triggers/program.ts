// What a trigger program (the queue worker, the connector) is made of, built
// once here: its settings, its log, its queue, its view of the functions (the
// catalog the gateways keep in NATS: no Docker socket), a waker that asks the
// gateways, the shared runtime (routing and the invocation core), its
// metrics, and its small HTTP server (/metrics for Prometheus, /healthz for
// the health check) with a graceful stop. No HTTP API, no scaler.
import { createServer } from 'node:http';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { z } from 'zod';
import { qualifiedName } from '../core/functions/names.js';
import { InvocationMetrics, type InvocationSource } from '../core/invocation/metrics.js';
import { buildRuntime, type Runtime, type RuntimeSettings } from '../core/runtime.js';
import { metricsGate, type MetricsGate } from '../core/metrics-access.js';
import { loadSettings, settingsOrExit } from '../core/settings.js';
import { CatalogView } from '../queue/function-catalog.js';
import { openQueue, type Queue, type QueueSettings } from '../queue/queue.js';
import { RemoteWaker } from '../queue/wake-requests.js';
import { LoadReporter, senderId, type SenderRole } from '../queue/load-reports.js';
import type { RunnerDeps } from './runner.js';
import { MemoryReducer } from '../core/memory-reducer.js';

export type TriggerProgramSettings = RuntimeSettings &
  QueueSettings & {
    PORT: number;
    LOG_LEVEL: string;
    MEMORY_REDUCE_INTERVAL: number;
    MEMORY_REDUCE_QUIET: number;
    ASYNC_ACK_WAIT: number;
    ASYNC_ANSWER_LIMIT: number;
    METRICS_TOKEN_FILE: string;
  };

export interface TriggerProgram<S extends TriggerProgramSettings> {
  settings: S;
  log: Logger;
  queue: Queue;
  functions: CatalogView;
  runtime: Runtime;
  /** Everything the program serves on /metrics. */
  registry: Registry;
  /** Who may read /metrics (the program is on every namespace's network): Prometheus's token. */
  metricsAllowed: MetricsGate;
  /** What the runners need to deliver messages through the invocation core. */
  runnerDeps: RunnerDeps;
  /** The function's name in metrics and logs. */
  nameOf(ref: { name: string; namespace: string }): string;
}

/** Reads the settings (a bad one stops the program with a message naming it) and builds the program's parts. */
export async function startTriggerProgram<T extends z.ZodType<TriggerProgramSettings>>(options: {
  schema: T;
  /** "queue worker settings" */
  what: string;
  service: SenderRole;
  source: InvocationSource;
}): Promise<TriggerProgram<z.output<T>>> {
  const settings: z.output<T> = settingsOrExit(() => loadSettings(options.schema, process.env, options.what));
  if (!settings.NATS_URL) {
    process.stderr.write(`invalid ${options.what}: NATS_URL=none (the ${options.service} takes its work from NATS)\n`);
    process.exit(2);
  }
  const log = pino({ level: settings.LOG_LEVEL, base: { service: options.service } });
  const metricsAllowed = metricsGate(settings);
  const queue = openQueue(settings, log, `${options.service}-${process.pid}`, { applyLimits: false });
  const functions = new CatalogView(queue.connection, log.child({ component: 'catalog' }));
  const nameOf = (ref: { name: string; namespace: string }) => qualifiedName(ref, settings.DEFAULT_NAMESPACE);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new InvocationMetrics(registry, { known: () => functions.list().map(({ status }) => nameOf(status)), primary: options.source });
  const runtime = buildRuntime({ functions, waker: new RemoteWaker(queue.connection, functions, settings.WAKE_TIMEOUT * 1000), metrics, log, settings });
  // Its calls in flight and waiting, for the gateways' capacity scaling.
  new LoadReporter(queue.connection, senderId(options.service), options.service, runtime.takeLoadReport, log.child({ component: 'load-reports' })).start();
  await functions.start();
  new MemoryReducer({ intervalMs: settings.MEMORY_REDUCE_INTERVAL * 1000, quietMs: settings.MEMORY_REDUCE_QUIET * 1000, log }).start();
  return {
    settings,
    log,
    queue,
    functions,
    runtime,
    registry,
    metricsAllowed,
    nameOf,
    runnerDeps: {
      consumers: queue.consumers,
      invoke: (invocation, sink) => runtime.invocations.invoke(invocation, sink),
      answerLimit: settings.ASYNC_ANSWER_LIMIT,
      keepAliveMs: Math.max(1_000, (settings.ASYNC_ACK_WAIT * 1000) / 3),
      log,
      forgetStreams: (error) => queue.streams.forget(error),
    },
  };
}

/**
 * Serves /metrics and /healthz on PORT and stops gracefully on SIGTERM:
 * `stop` finishes the work in hand within `graceMs` (Swarm's
 * stop_grace_period must be longer).
 */
export function serve<S extends TriggerProgramSettings>(program: TriggerProgram<S>, what: string, stop: (graceMs: number) => Promise<void>, graceMs = 20_000): void {
  const { registry, log, queue, functions, settings } = program;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      if (!program.metricsAllowed(req, res)) return;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    } else if (path === '/healthz') {
      // Healthy once it knows the functions, or while NATS is away: that is said but not failed on (a restart would not bring it back).
      const connected = queue.isConnected;
      const ok = functions.ready || !connected;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(!ok ? 'not ready: the functions were not read from NATS yet' : connected ? 'OK' : 'OK (no connection to NATS: reconnecting)');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`the ${what} serves /metrics and /healthz`);
    }
  });
  server.listen(settings.PORT, () => log.info({ port: settings.PORT, nats: settings.NATS_URL }, `${what} listening`));

  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping: finishing the work in hand');
    server.close();
    functions.stop();
    void stop(graceMs)
      .then(() => Promise.all([queue.close(), program.runtime.close()]))
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), graceMs + 3_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
