// Entry: settings -> payload secret -> unprivileged -> engine -> listen.
import { createServer } from 'node:http';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { Engine } from './engine.js';
import { dropPrivileges } from './privileges.js';
import { createBuilder } from './server.js';
import { readPayloadSecret } from './signature.js';

/** The base image's unprivileged user ("node"). */
const NODE_UID = 1000;

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
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'builder' } });
  // Read while root may still read it (Docker secrets are root's by default).
  const secret = await readPayloadSecret(config.PAYLOAD_SECRET_FILE);
  if (!secret) log.warn({ file: config.PAYLOAD_SECRET_FILE }, 'no payload secret: only builds through the gateway with its credentials are accepted');
  const privileges = dropPrivileges(NODE_UID);
  const engine = new Engine();
  const backend = await engine.chooseBackend(config.BUILD_BACKEND).catch((error: Error) => {
    log.error({ err: error }, 'the engine does not answer: assuming the classic builder');
    return 'classic' as const;
  });
  const builder = createBuilder({ config, engine, backend, log, secret });
  const server = createServer(builder.listener);
  // Uploads and builds take their time: BUILD_TIMEOUT bounds the builds, the gateway the uploads.
  server.requestTimeout = 0;
  server.listen(config.PORT, () =>
    log.info(
      { port: config.PORT, backend, concurrency: config.BUILD_CONCURRENCY, maxContext: config.BUILD_MAX_CONTEXT, timeout: config.BUILD_TIMEOUT, push: config.BUILD_PUSH_PREFIXES, privileges },
      'builder listening',
    ),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, building: builder.slots.active, waiting: builder.slots.waiting }, 'stopping: finishing the builds in progress');
    server.close();
    void builder.drain().finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`builder failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
