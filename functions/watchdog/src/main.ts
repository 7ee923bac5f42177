/**
 * The watchdog process: configuration from the environment, server on
 * :8080 (or `port`), graceful stop on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type WatchdogConfig } from './config.js';
import { createWatchdog } from './server.js';

let config: WatchdogConfig;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`watchdog: invalid configuration: ${err.message}\n`);
  process.exit(2);
}

const watchdog = createWatchdog(config);
const address = await watchdog.listen();
const starter = watchdog.starterKind();
const started = starter === 'native' ? ', processes started by the spawner' : starter === 'node' ? ", processes started by Node's child_process" : '';
process.stdout.write(
  `watchdog: ${config.mode} mode, fprocess=${JSON.stringify(config.command)}${started}, listening on :${address.port}\n`,
);

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`watchdog: ${signal}: draining ${watchdog.inflight()} request(s)\n`);
  watchdog.shutdown().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`watchdog: shutdown failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
