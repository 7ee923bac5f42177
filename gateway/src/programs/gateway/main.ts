// Entry: settings -> credentials -> provider -> gateway (gateway.ts) -> listen.
import { createServer } from 'node:http';
import pino from 'pino';
import gatewayPackage from '../../../package.json' with { type: 'json' };
import { loadConfig } from './settings.js';
import { buildGateway } from './gateway.js';
import { readCredentials } from './http/basic-auth.js';
import { PrometheusClient } from './prometheus/client.js';
import { prometheusInvocationHistory } from './prometheus/invocation-history.js';
import { openProvider } from './provider/index.js';
import { openQueue } from '../../queue/queue.js';
import { settingsOrExit } from '../../core/settings.js';
import { MemoryReducer } from '../../core/memory-reducer.js';

async function main(): Promise<void> {
  const config = settingsOrExit(loadConfig);
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'gateway' } });
  // Read while the process may still read them (the provider may drop privileges).
  const credentials = config.BASIC_AUTH ? await readCredentials(config.SECRET_MOUNT_PATH) : undefined;
  const provider = openProvider(config, log);
  // Connects in the background: the gateway serves everything else while NATS is away.
  const queue = config.NATS_URL ? openQueue(config, log, `gateway-${process.pid}`, { applyLimits: true }) : undefined;
  const prometheus = new PrometheusClient(config.PROMETHEUS_URL);
  const gateway = buildGateway({
    config,
    provider,
    log,
    // Before a function sleeps: is it invoked through another gateway or a trigger? (Prometheus scrapes them all.)
    history: prometheusInvocationHistory(prometheus, config.DEFAULT_NAMESPACE),
    // Before a queue-scaled function sleeps: is it invoked synchronously through any gateway?
    syncHistory: prometheusInvocationHistory(prometheus, config.DEFAULT_NAMESPACE, { source: 'sync' }),
    version: { release: gatewayPackage.version, sha: process.env.GIT_SHA ?? 'unknown' },
    ...(credentials ? { credentials } : {}),
    ...(queue ? { queue } : {}),
  });
  await gateway.start();
  new MemoryReducer({ intervalMs: config.MEMORY_REDUCE_INTERVAL * 1000, quietMs: config.MEMORY_REDUCE_QUIET * 1000, log }).start();

  // While draining (after SIGTERM), /healthz says so and every answer closes
  // its connection, so clients move to another gateway between two requests
  // rather than in the middle of one.
  let draining = false;
  const server = createServer((req, res) => {
    if (draining) {
      res.setHeader('connection', 'close');
      if (req.url === '/healthz') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('draining');
        return;
      }
    }
    gateway.listener(req, res);
  });
  server.requestTimeout = config.READ_TIMEOUT * 1000;
  server.headersTimeout = Math.min(60_000, config.READ_TIMEOUT * 1000);
  // An idle client connection is closed after WRITE_TIMEOUT, but never while
  // an invocation may legitimately be silent (waking, waiting for a slot, then waiting for the answer).
  const slotWait = config.CONCURRENCY_MAX_WAIT ?? config.UPSTREAM_TIMEOUT;
  server.timeout = Math.max(config.WRITE_TIMEOUT, config.UPSTREAM_TIMEOUT + config.WAKE_TIMEOUT + slotWait + 5) * 1000;
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT * 1000;
  server.maxConnections = config.MAX_CONNECTIONS;
  server.listen(config.PORT, () =>
    log.info(
      { port: config.PORT, provider: provider.info.provider, upstreamMode: config.UPSTREAM_MODE, functionsNetwork: config.FUNCTIONS_NETWORK || '(own)', basicAuth: config.BASIC_AUTH },
      'gateway listening',
    ),
  );

  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'shutting down: finishing the calls in flight');
    // No new connections; idle ones close now, busy ones after their answer.
    server.close(() => {
      log.info('every call answered');
      void Promise.all([gateway.stop(), queue?.close()]).finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    const idle = setInterval(() => server.closeIdleConnections(), 250);
    idle.unref();
    // Swarm waits stop_grace_period (10 s by default) before it kills: leave before that.
    setTimeout(() => process.exit(0), config.DRAIN_TIMEOUT * 1000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
