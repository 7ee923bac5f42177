// Entry: settings -> credentials -> provider -> gateway (gateway.ts) -> listen.
import { createServer } from 'node:http';
import pino from 'pino';
import gatewayPackage from '../package.json' with { type: 'json' };
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildGateway } from './gateway.js';
import { readCredentials } from './http/basic-auth.js';
import { openProvider } from './provider/index.js';
import { AsyncQueue } from './async/queue.js';

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
  // Read while the process may still read them (the provider may drop privileges).
  const credentials = config.BASIC_AUTH ? await readCredentials(config.SECRET_MOUNT_PATH) : undefined;
  const provider = openProvider(config, log);
  // Connects in the background: the gateway serves everything else while NATS is away.
  const asyncQueue = config.NATS_URL ? new AsyncQueue(config, log.child({ component: 'async' }), 'gateway') : undefined;
  const gateway = buildGateway({
    config,
    provider,
    log,
    version: { release: gatewayPackage.version, sha: process.env.GIT_SHA ?? 'unknown' },
    ...(credentials ? { credentials } : {}),
    ...(asyncQueue ? { asyncQueue } : {}),
  });
  await gateway.start();

  const server = createServer(gateway.listener);
  server.requestTimeout = config.READ_TIMEOUT * 1000;
  server.headersTimeout = Math.min(60_000, config.READ_TIMEOUT * 1000);
  // An idle client connection is closed after WRITE_TIMEOUT, but never while
  // an invocation may legitimately be silent (waking, then waiting for the answer).
  server.timeout = Math.max(config.WRITE_TIMEOUT, config.UPSTREAM_TIMEOUT + config.WAKE_TIMEOUT + 5) * 1000;
  server.keepAliveTimeout = 65_000;
  server.listen(config.PORT, () =>
    log.info(
      { port: config.PORT, provider: provider.info.provider, upstreamMode: config.UPSTREAM_MODE, functionsNetwork: config.FUNCTIONS_NETWORK || '(own)', basicAuth: config.BASIC_AUTH },
      'gateway listening',
    ),
  );

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close();
    void gateway.stop();
    void asyncQueue?.close();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
