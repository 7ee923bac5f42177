// Entry of the event connector (dist/connector.mjs, in the gateway's image,
// the stack's `connector` service): the gateway's settings and wiring
// (gateway.ts: the live view of the functions, routing, the invocation core,
// waking from zero) without its HTTP API and without the idler, and the
// subscriptions of events/triggers.ts kept in NATS (connector.ts). It
// serves /metrics and /healthz on PORT. Several replicas share the work.
import { createServer } from 'node:http';
import pino from 'pino';
import { Registry } from 'prom-client';
import gatewayPackage from '../../../package.json' with { type: 'json' };
import { AsyncQueue } from '../../queue/async-queue.js';
import { ConfigError, loadConfig, type Config } from '../../core/settings.js';
import { EventStreams } from '../../queue/event-streams.js';
import { buildGateway } from '../gateway/gateway.js';
import { openProvider } from '../gateway/provider/index.js';
import { EventConnector } from './reconciler.js';
import { ConnectorMetrics } from './metrics.js';

/** How long a stopping connector lets the invocations in hand finish (the stack's stop_grace_period is longer). */
const STOP_GRACE_MS = 20_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message.replace('gateway settings', 'event connector settings')}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (!config.NATS_URL) {
    process.stderr.write('invalid event connector settings: NATS_URL=none (the connector takes its events from NATS)\n');
    process.exit(2);
  }
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'connector' } });
  const provider = openProvider(config, log);
  // The same wiring as the gateway's; this process never scales a function to zero.
  const gateway = buildGateway({ config: { ...config, SCALE_TO_ZERO: false }, provider, log, version: { release: gatewayPackage.version, sha: process.env.GIT_SHA ?? 'unknown' } });
  await gateway.functions.start();

  // The async queue's connection: events share it, and durable events that fail for good become its dead letters.
  const queue = new AsyncQueue(config, log.child({ component: 'nats' }), `connector-${process.pid}`);
  const streams = new EventStreams(queue);
  let connector: EventConnector | undefined;
  const metrics = new ConnectorMetrics(() => connector?.subscriptions() ?? []);
  connector = new EventConnector(
    { core: gateway.invocations, functions: gateway.functions, streams, queue, metrics, log, settings: config },
    { reserved: [config.ASYNC_STREAM, `${config.ASYNC_STREAM}-dead`] },
  );
  connector.start();

  // The replicas gauge is the gateways' to report (a sum over instances would count each function twice).
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
      const ok = gateway.functions.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? (queue.isConnected ? 'OK' : 'OK (no connection to NATS: reconnecting)') : 'not ready: functions not read yet');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('the event connector serves /metrics and /healthz');
    }
  });
  server.listen(config.PORT, () => log.info({ port: config.PORT, nats: config.NATS_URL }, 'event connector listening'));

  const shutdown = (signal: string) => {
    log.info({ signal, inflight: connector?.inflight }, 'stopping: finishing the invocations in hand');
    server.close();
    void connector!
      .stop(STOP_GRACE_MS)
      .then(() => Promise.all([queue.close(), gateway.stop()]))
      .finally(() => process.exit(0));
    setTimeout(() => process.exit(0), STOP_GRACE_MS + 3_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`event connector failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
