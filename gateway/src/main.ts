// Entry: settings -> provider -> function view -> scaler -> app -> listen.
import { createServer } from 'node:http';
import pino from 'pino';
import gatewayPackage from '../package.json' with { type: 'json' };
import { createRequestListener } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { LiveFunctionView } from './functions/view.js';
import { readCredentials } from './http/basic-auth.js';
import { GatewayMetrics } from './metrics.js';
import { dockerSocketPath, dropPrivileges } from './provider/privileges.js';
import { SwarmProvider } from './provider/swarm.js';
import { createScaler } from './scaling/index.js';
import { EndpointTable } from './upstream/endpoints.js';
import { Forwarder } from './upstream/forward.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'gateway' } });
  const credentials = config.BASIC_AUTH ? await readCredentials(config.SECRET_MOUNT_PATH) : undefined;
  // Root only until here (secrets read): from now on the "node" user in the Docker socket's group.
  log.info(dropPrivileges({ uid: 1000, socketPath: dockerSocketPath(), fallbackGid: 1000 }), 'process identity');

  const provider = new SwarmProvider({
    functionsNetwork: config.FUNCTIONS_NETWORK,
    upstreamMode: config.UPSTREAM_MODE,
    functionPort: config.FUNCTION_PORT,
    log,
  });
  const functions = new LiveFunctionView({ provider, log, resyncInterval: config.RESYNC_INTERVAL });
  const metrics = new GatewayMetrics(functions);
  const endpoints = new EndpointTable((name) => provider.endpoints(name), config.UPSTREAM_REFRESH * 1000, log);
  functions.onChange((name, status) => {
    endpoints.invalidate(name);
    if (!status) {
      endpoints.forget(name);
      metrics.forget(name);
    }
  });
  const forwarder = new Forwarder(endpoints, {
    timeoutMs: config.UPSTREAM_TIMEOUT * 1000,
    bodyLimit: config.FUNCTION_BODY_LIMIT,
    connectionsPerTask: config.UPSTREAM_CONNECTIONS,
  });
  const scaler = createScaler({ config, provider, functions, log, events: metrics });

  await functions.start();
  const listener = createRequestListener({
    config,
    provider,
    functions,
    scaler,
    metrics,
    endpoints,
    forwarder,
    log,
    ready: () => functions.ready,
    version: { release: gatewayPackage.version, sha: process.env.GIT_SHA ?? 'unknown' },
    providerInfo: { provider: 'swarmfaas-swarm', orchestration: 'swarm' },
    ...(credentials ? { credentials } : {}),
  });
  scaler.start();

  const server = createServer(listener);
  server.requestTimeout = config.READ_TIMEOUT * 1000;
  server.headersTimeout = Math.min(60_000, config.READ_TIMEOUT * 1000);
  // An idle client connection is closed after WRITE_TIMEOUT, but never while
  // an invocation may legitimately be silent (waking, then waiting for the answer).
  server.timeout = Math.max(config.WRITE_TIMEOUT, config.UPSTREAM_TIMEOUT + config.WAKE_TIMEOUT + 5) * 1000;
  server.keepAliveTimeout = 65_000;
  server.listen(config.PORT, () =>
    log.info(
      { port: config.PORT, upstreamMode: config.UPSTREAM_MODE, functionsNetwork: config.FUNCTIONS_NETWORK || '(own)', basicAuth: config.BASIC_AUTH },
      'gateway listening',
    ),
  );

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    scaler.stop();
    functions.stop();
    server.close();
    void forwarder.close();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
