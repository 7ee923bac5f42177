/**
 * Classic mode: one process per request. The body streams to the process's
 * stdin; its stdout becomes a 200 answer once it exits 0; a non-zero exit
 * gives 500 with the exit status and stderr; exec_timeout kills the whole
 * process group and gives 504; an output over max_output gives 500.
 *
 * Processes are started by the native spawner when its binary is there
 * (spawner-client.ts: much cheaper than Node forking itself, and on the other
 * core), else by Node's child_process (process-run.ts).
 */
import { existsSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { WatchdogConfig } from './config.js';
import type { Exchange } from './exchange.js';
import { MarshalRequestStream } from './marshal.js';
import { nodeStarter, type ProcessStarter } from './process-run.js';
import { goHeader, requestVars } from './request-env.js';
import { startNativeStarter } from './spawner-client.js';
import { formatBytes, OutputLimitError, SpillBuffer } from './spill-buffer.js';

export interface ClassicOptions {
  /** stdout bytes kept in memory before spilling to a temporary file. */
  memoryBufferBytes: number;
  /** Where the per-request lines go (log_requests); default stdout. */
  requestLog?: (line: string) => void;
  spillDir: string;
  /** The native spawner's binary; default: found next to the watchdog (see findSpawner). */
  spawnerPath?: string;
}

export const DEFAULT_CLASSIC_OPTIONS: ClassicOptions = { memoryBufferBytes: 1 << 20, spillDir: tmpdir() };

/** Docker's names for the architectures the images are built for. */
const DOCKER_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armv7' };

/** The spawner next to the watchdog: `spawner` in the image, `spawner-linux-<arch>` beside a dev bundle. */
export function findSpawner(dir = dirname(fileURLToPath(import.meta.url))): string | undefined {
  const candidates = [join(dir, 'spawner'), join(dir, `spawner-linux-${DOCKER_ARCH[arch()] ?? arch()}`)];
  return candidates.find((path) => existsSync(path));
}

function hasBody(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** Streams the request (or its marshalled JSON) to stdin; a process that stops reading early is not an error. */
function feedStdin(stdin: Writable, ex: Exchange, marshal: boolean): void {
  const { req } = ex;
  const stopFeeding = () => {
    req.unpipe();
    if (!req.complete) req.resume(); // drain what is left so the connection stays usable
  };
  stdin.on('error', stopFeeding);
  stdin.once('close', stopFeeding);
  const marshalled = marshal ? new MarshalRequestStream(goHeader(req)) : undefined;
  if (!hasBody(req.method)) {
    req.resume();
    if (marshalled) marshalled.pipe(stdin);
    (marshalled ?? stdin).end(); // no body: the marshalled JSON has an empty "raw"
    return;
  }
  const source: Readable = marshalled ? req.pipe(marshalled) : req;
  source.pipe(stdin);
}

/** A line as Go's log package writes it (the classic watchdog's): "2006/01/02 15:04:05 message". */
export function goLogLine(message: string, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}/${two(now.getMonth() + 1)}/${two(now.getDate())}`;
  return `${date} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())} ${message}\n`;
}

export interface ClassicMode {
  /** Starts the spawner (or settles for Node's child_process); resolves once requests can be run. */
  start(log: (line: string) => void): Promise<void>;
  handle(ex: Exchange): Promise<void>;
  close(): Promise<void>;
  readonly starter: ProcessStarter;
}

export function classicMode(config: WatchdogConfig, options: ClassicOptions = DEFAULT_CLASSIC_OPTIONS): ClassicMode {
  const [file, ...args] = config.command as [string, ...string[]];
  const execSeconds = config.execTimeoutMs / 1000;
  // process.env is an exotic object, slow to copy: take a plain snapshot once.
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  let starter: ProcessStarter = nodeStarter;

  async function start(log: (line: string) => void): Promise<void> {
    if (config.spawner === 'node') return;
    const binary = config.spawner === 'auto' ? (options.spawnerPath ?? findSpawner()) : config.spawner;
    if (!binary) {
      log('watchdog: no spawner binary next to the watchdog: starting processes with Node (slower)');
      return;
    }
    try {
      starter = await startNativeStarter({ binary, log });
      starter.prepare?.(file);
    } catch (err) {
      // An explicit path that does not work is a mistake worth stopping for.
      if (config.spawner !== 'auto') throw err;
      log(`watchdog: cannot start the spawner ${binary}: ${(err as Error).message}; starting processes with Node (slower)`);
    }
  }

  const requestLog = config.logRequests ? (options.requestLog ?? ((line: string) => process.stdout.write(line))) : undefined;

  async function handle(ex: Exchange): Promise<void> {
    requestLog?.(goLogLine('Forking fprocess.'));
    const run = starter.run(file, args, baseEnv, config.cgiHeaders ? requestVars(ex.req) : undefined);

    let timedOut = false;
    const execTimer =
      config.execTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            run.kill();
          }, config.execTimeoutMs)
        : undefined;
    const offAbort = ex.onAbort(() => run.kill());

    const stdout = new SpillBuffer(options.memoryBufferBytes, options.spillDir, config.maxOutputBytes);
    const consumed = run.collect(stdout).then(() => stdout.end()).then(
      () => undefined,
      (err: Error) => {
        run.kill(); // an output that cannot be held (too large, disk full) is not waited for
        return err;
      },
    );
    feedStdin(run.stdin, ex, config.marshalRequest);

    try {
      const result = await run.outcome;
      const readError = await consumed;
      clearTimeout(execTimer);
      offAbort();
      if (!ex.req.complete) {
        ex.req.unpipe();
        ex.req.resume();
      }
      if (ex.aborted) return; // the server answers (read timeout) or nobody listens any more
      if (timedOut) {
        return ex.reply(504, `exec_timeout of ${execSeconds}s exceeded: the process and its children were killed\n`);
      }
      // Before the outcome: when the output could not be held, the process was
      // killed (or died of SIGPIPE), and that is not the cause worth reporting.
      if (readError instanceof OutputLimitError) {
        return ex.reply(
          500,
          `the process wrote more than max_output (${formatBytes(readError.limit)}) to stdout: the process was killed and its output dropped\n`,
        );
      }
      if (readError) {
        return ex.reply(500, `reading the process output failed after ${stdout.size} bytes: ${readError.message}\n`);
      }
      if ('error' in result) {
        return ex.reply(500, `cannot start fprocess "${file}": ${result.error.message}\n`);
      }
      if (result.code !== 0) {
        const status = result.code === null ? `killed by signal ${result.signal}` : `exit status ${result.code}`;
        return ex.reply(500, Buffer.concat([Buffer.from(`${status}\n`), result.stderr]));
      }
      const headers: Record<string, string | number> = { 'content-length': stdout.size };
      const requestType = ex.req.headers['content-type'];
      if (requestType) headers['content-type'] = requestType;
      if (!ex.head(200, headers)) return;
      if (ex.req.method === 'HEAD') {
        ex.res.end();
        return;
      }
      await stdout.writeTo(ex.res);
      ex.res.end();
      requestLog?.(goLogLine(`Wrote ${stdout.size} Bytes - Duration: ${ex.seconds().toFixed(6)} seconds`));
    } catch {
      ex.res.destroy(); // the client went away while the answer was being sent
    } finally {
      await stdout.dispose();
    }
  }

  return {
    start,
    handle,
    close: () => starter.close(),
    get starter() {
      return starter;
    },
  };
}
