// Entry of the queue worker (dist/queue-worker.mjs, in the gateway's image):
// the gateway's own settings and wiring (gateway.ts: the live view of the
// functions, routing, the invocation core, waking from zero), without its
// HTTP API and without the idler: only gateways put functions to sleep.
// It serves /metrics and /healthz on PORT.
import { createServer } from 'node:http';
import pino from 'pino';
import { Registry } from 'prom-client';
import gatewayPackage from '../../../package.json' with { type: 'json' };
import { AsyncQueue } from '../../queue/async-queue.js';
import { ConfigError, loadConfig, type Config } from '../../core/settings.js';
import { qualifiedName } from '../../core/functions/names.js';
import { buildGateway } from '../gateway/gateway.js';
import { openProvider } from '../gateway/provider/index.js';
import { CallbackSender } from './callback.js';
import { CallbackGuard } from './callback-guard.js';
import { WorkerMetrics } from './metrics.js';
import { QueueWorker } from '../../triggers/async-consumer.js';

/** How long a stopping worker lets the calls in hand finish (Swarm's stop_grace_period must be longer). */
const STOP_GRACE_MS = 20_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message.replace('gateway settings', 'queue worker settings')}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (!config.NATS_URL) {
    process.stderr.write('invalid queue worker settings: NATS_URL=none (the worker takes its calls from NATS)\n');
    process.exit(2);
  }
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'queue-worker' } });
  const provider = openProvider(config, log);
  // The same wiring as the gateway's; this process never scales a function to zero.
  const gateway = buildGateway({ config: { ...config, SCALE_TO_ZERO: false }, provider, log, version: { release: gatewayPackage.version, sha: process.env.GIT_SHA ?? 'unknown' } });
  await gateway.functions.start();

  const queue = new AsyncQueue(config, log.child({ component: 'nats' }), `queue-worker-${process.pid}`);
  const metrics = new WorkerMetrics({
    queued: () => queue.countsByFunction('queue'),
    dead: () => queue.countsByFunction('dead'),
    nameOf: (ref) => qualifiedName(ref, config.DEFAULT_NAMESPACE),
    log: (error) => log.debug({ err: error }, 'queue depth not read'),
  });
  const callbacks = new CallbackSender(config, undefined, CallbackGuard.fromSetting(config.ASYNC_CALLBACK_DENY_HOSTS));
  const worker = new QueueWorker({ queue, core: gateway.invocations, functions: gateway.functions, callbacks, metrics, log, settings: config });
  worker.start();

  // The replicas gauge is the gateways' to report: from every worker too, a sum over instances would count each function twice.
  gateway.metrics.registry.removeSingleMetric('gateway_service_count');
  const registry = Registry.merge([gateway.metrics.registry, metrics.registry]);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
    } else if (path === '/healthz') {
      // Healthy once it knows the functions. NATS away is said but not failed on: a restart would not bring it back.
      const ok = gateway.functions.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? (queue.isConnected ? 'OK' : 'OK (no connection to NATS: reconnecting)') : 'not ready: functions not read yet');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('the queue worker serves /metrics and /healthz');
    }
  });
  server.listen(config.PORT, () => log.info({ port: config.PORT, nats: config.NATS_URL, stream: config.ASYNC_STREAM }, 'queue worker listening'));

  const shutdown = (signal: string) => {
    log.info({ signal, inflight: worker.inflight }, 'stopping: finishing the calls in hand');
    server.close();
    void worker
      .stop(STOP_GRACE_MS)
      .then(() => Promise.all([queue.close(), callbacks.close(), gateway.stop()]))
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), STOP_GRACE_MS + 3_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`queue worker failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
