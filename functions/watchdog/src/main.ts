/**
 * The watchdog process: configuration from the environment, server on
 * :8080 (or `port`), graceful stop on SIGTERM/SIGINT.
 *
 * `watchdog.mjs --check` only checks: the configuration, and in module mode
 * that the function's module loads and exports a handler (syntax errors,
 * missing packages), then exits 0 or 1 with the reason. Templates run it
 * while the image is built, so such a function fails its build, not its
 * first request.
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

if (process.argv.includes('--check')) {
  if (config.mode === 'module') {
    const { loadHandler } = await import('./module-mode.js');
    try {
      await loadHandler(config.modulePath!);
    } catch (err) {
      process.stderr.write(`watchdog: ${(err as Error).message}\n`);
      const cause = (err as Error).cause as Error | undefined;
      if (cause?.stack) process.stderr.write(`${cause.stack}\n`);
      // A module's SyntaxError carries no file and line (import() leaves them
      // out); node --check prints them with the code and a caret, which the
      // build log (and the UI's New function page) shows next to the code.
      if (cause instanceof SyntaxError) {
        const { spawnSync } = await import('node:child_process');
        const checked = spawnSync(process.execPath, ['--check', config.modulePath!], { encoding: 'utf8', timeout: 10_000 });
        if (checked.stderr) process.stderr.write(checked.stderr);
      }
      process.exit(1);
    }
    process.stdout.write(`watchdog: ${config.modulePath} loads and exports a handler\n`);
  } else process.stdout.write(`watchdog: ${config.mode} mode, the configuration is valid\n`);
  process.exit(0);
}

const watchdog = createWatchdog(config);
const address = await watchdog.listen().catch((err: Error) => {
  // A function module that cannot load: say why, and never become ready.
  process.stderr.write(`watchdog: ${err.name === 'ModuleLoadError' ? err.message : (err.stack ?? err.message)}\n`);
  process.exit(1);
});
const starter = watchdog.starterKind();
const started = starter === 'native' ? ', processes started by the spawner' : starter === 'node' ? ", processes started by Node's child_process" : '';
const what = config.mode === 'module' ? `module=${config.modulePath}` : `fprocess=${JSON.stringify(config.command)}`;
process.stdout.write(`watchdog: ${config.mode} mode, ${what}${started}, listening on :${address.port}\n`);

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
