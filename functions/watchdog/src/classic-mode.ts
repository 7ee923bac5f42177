/**
 * Classic mode: one process per request. The body streams to the process's
 * stdin; its stdout becomes a 200 answer once it exits 0; a non-zero exit
 * gives 500 with the exit status and stderr; exec_timeout kills the whole
 * process group and gives 504.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import type { WatchdogConfig } from './config.js';
import type { Exchange } from './exchange.js';
import { MarshalRequestStream } from './marshal.js';
import { killGroup } from './process-group.js';
import { goHeader, requestEnv } from './request-env.js';
import { SpillBuffer, collectCapped } from './spill-buffer.js';

export interface ClassicOptions {
  /** stdout bytes kept in memory before spilling to a temporary file. */
  memoryBufferBytes: number;
  spillDir: string;
}

export const DEFAULT_CLASSIC_OPTIONS: ClassicOptions = { memoryBufferBytes: 1 << 20, spillDir: tmpdir() };
const STDERR_LIMIT = 64 * 1024;

type Outcome = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

function hasBody(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** Streams the request (or its marshalled JSON) to stdin; a process that stops reading early is not an error. */
function feedStdin(child: ChildProcess, ex: Exchange, marshal: boolean): void {
  const stdin = child.stdin!;
  const { req } = ex;
  stdin.on('error', () => {
    req.unpipe();
    req.resume(); // drain what is left so the connection stays usable
  });
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

export function classicHandler(config: WatchdogConfig, options: ClassicOptions = DEFAULT_CLASSIC_OPTIONS) {
  const [file, ...args] = config.command as [string, ...string[]];
  const execSeconds = config.execTimeoutMs / 1000;
  // process.env is an exotic object, slow to copy: take a plain snapshot once.
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };

  return async function handle(ex: Exchange): Promise<void> {
    const env = config.cgiHeaders ? requestEnv(ex.req, baseEnv) : baseEnv;
    const child = spawn(file, args, { env, detached: true, stdio: 'pipe' });
    const outcome = new Promise<Outcome>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });

    let timedOut = false;
    const stop = () => {
      killGroup(child);
      // A process that escaped the group could hold stdout open: stop waiting for it.
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const execTimer =
      config.execTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, config.execTimeoutMs)
        : undefined;
    const offAbort = ex.onAbort(stop);

    const stdout = new SpillBuffer(options.memoryBufferBytes, options.spillDir);
    const consumed = stdout.consume(child.stdout!).then(
      () => undefined,
      (err: Error) => err,
    );
    const stderr = collectCapped(child.stderr!, STDERR_LIMIT);
    feedStdin(child, ex, config.marshalRequest);

    try {
      const result = await outcome;
      const readError = await consumed;
      clearTimeout(execTimer);
      offAbort();
      if (ex.aborted) return; // the server answers (read timeout) or nobody listens any more
      if ('error' in result) {
        return ex.reply(500, `cannot start fprocess "${file}": ${result.error.message}\n`);
      }
      if (timedOut) {
        return ex.reply(504, `exec_timeout of ${execSeconds}s exceeded: the process and its children were killed\n`);
      }
      // First: when the output could not be held (e.g. /tmp full), the process
      // then dies of SIGPIPE, and that is not the cause worth reporting.
      if (readError) {
        return ex.reply(500, `reading the process output failed after ${stdout.size} bytes: ${readError.message}\n`);
      }
      if (result.code !== 0) {
        const status = result.code === null ? `killed by signal ${result.signal}` : `exit status ${result.code}`;
        return ex.reply(500, Buffer.concat([Buffer.from(`${status}\n`), stderr()]));
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
    } catch {
      ex.res.destroy(); // the client went away while the answer was being sent
    } finally {
      await stdout.dispose();
    }
  };
}
