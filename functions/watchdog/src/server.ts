/**
 * The watchdog's HTTP server, as a factory with no side effects until
 * listen(): tests start it in-process on a random port. It owns what every
 * mode shares: max_inflight (429), the read timeout, the lock file, the
 * per-request log line, and the graceful shutdown on SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classicMode, DEFAULT_CLASSIC_OPTIONS, type ClassicOptions } from './classic-mode.js';
import type { WatchdogConfig } from './config.js';
import { Exchange } from './exchange.js';
import type { HttpProxy } from './http-mode.js';
import type { ModuleMode } from './module-mode.js';
import { DEFAULT_LOCK_FILE, removeLock, writeLock } from './lock-file.js';
import { UpstreamProcess } from './upstream-process.js';

export interface WatchdogOptions extends Partial<ClassicOptions> {
  /** Where the readiness lock goes (default /tmp/.lock). */
  lockFile?: string;
  /** Log sink for the per-request line (write_debug) and lifecycle messages. */
  log?: (line: string) => void;
}

export interface Watchdog {
  readonly server: Server;
  /** Starts listening (and, in HTTP mode, the function process); resolves once ready and locked. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting, removes the lock, lets in-flight requests finish (up to write_timeout), then closes. */
  shutdown(): Promise<void>;
  inflight(): number;
  /** HTTP mode only. */
  readonly upstream: UpstreamProcess | undefined;
  /** Classic mode only: how processes are started ('native' spawner or 'node'), known after listen(). */
  starterKind(): string | undefined;
}

const HEALTH_PATH = '/_/health';

export function createWatchdog(config: WatchdogConfig, options: WatchdogOptions = {}): Watchdog {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const lockFile = options.lockFile ?? DEFAULT_LOCK_FILE;
  const classicOptions: ClassicOptions = {
    ...DEFAULT_CLASSIC_OPTIONS,
    ...options,
    // The classic watchdog's per-request lines go where the other lines go (given whole, with their newline).
    ...(options.log && !options.requestLog ? { requestLog: (line: string) => options.log!(line.replace(/\n$/, '')) } : {}),
  };

  const upstream =
    config.mode === 'http'
      ? new UpstreamProcess({
          command: config.command,
          host: config.upstreamUrl!.hostname.replace(/^\[|\]$/g, ''),
          port: Number(config.upstreamUrl!.port || 80),
          log,
        })
      : undefined;
  // HTTP mode's client (undici) is loaded in listen(), and only in HTTP mode:
  // a classic-mode watchdog stays ~11 MB smaller, and forks faster for it.
  let proxy: HttpProxy | undefined;
  // Module mode's code (and the function's module) is loaded in listen() too.
  let moduleHandler: ModuleMode | undefined;
  const classic = upstream || config.mode === 'module' ? undefined : classicMode(config, classicOptions);
  const handle = upstream ? (ex: Exchange) => proxy!.handle(ex) : classic ? classic.handle : (ex: Exchange) => moduleHandler!.handle(ex);

  let inflight = 0;
  let ready = false;
  let draining = false;
  let drained: (() => void) | undefined;
  const exchangeOptions = { writeTimeoutMs: config.writeTimeoutMs, contentType: config.contentType, closeConnection: () => draining };

  const server = createServer(
    {
      // read_timeout covers the headers here and the body in onRequest.
      headersTimeout: config.readTimeoutMs || undefined,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, config.readTimeoutMs || 1000)),
      keepAliveTimeout: 65_000,
    },
    onRequest,
  );

  function logLine(ex: Exchange): void {
    const { req, res } = ex;
    const status = ex.status || (res.headersSent ? res.statusCode : 0);
    log(
      `${new Date().toISOString()} ${req.method} ${req.url} ${status || '-'} ${ex.seconds().toFixed(6)}s` +
        (ex.abortReason === 'client-gone' ? ' (client went away)' : ''),
    );
  }

  /**
   * read_timeout counts time without progress, not the whole upload: a slow
   * but steady client is never cut off. When nothing arrives for that long,
   * whoever holds things up is named: the client (408) when the watchdog has
   * taken every byte that came, the function (500) when bytes wait for it.
   */
  function watchBody(ex: Exchange): () => void {
    const { req } = ex;
    const socket = req.socket;
    const limit = config.readTimeoutMs;
    const seconds = limit / 1000;
    let bytes = socket.bytesRead;
    let lastProgress = Date.now();
    const check = () => {
      // The whole body came: nothing more is awaited of the client, however long the function takes
      // ('end' comes only once the body is consumed, which HTTP mode does not do for a body read in one piece).
      if (req.complete) return;
      const now = Date.now();
      if (socket.bytesRead !== bytes) {
        bytes = socket.bytesRead;
        lastProgress = now;
      }
      const idle = now - lastProgress;
      if (idle < limit) {
        timer = setTimeout(check, limit - idle);
        return;
      }
      const declared = req.headers['content-length'];
      const of = declared ? ` (a body of ${declared} bytes)` : '';
      const reason =
        req.readableLength > 0
          ? {
              status: 500,
              message: upstream
                ? `the function did not read the request body${of}: the function process took none of it for ${seconds}s (read_timeout)\n`
                : `the function did not read its input${of}: the process took nothing from its stdin for ${seconds}s (read_timeout) and was stopped\n`,
            }
          : { status: 408, message: `read_timeout of ${seconds}s: the client sent nothing more of the request${of} for ${seconds}s\n` };
      ex.abort(reason);
      ex.reply(reason.status, reason.message);
    };
    let timer = setTimeout(check, limit);
    const cancel = () => clearTimeout(timer);
    req.once('end', cancel);
    return cancel;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const ex = new Exchange(req, res, exchangeOptions);
    if (config.writeDebug) res.once('close', () => logLine(ex));

    if (req.url === HEALTH_PATH && req.method === 'GET') {
      const ok = ready && !draining && (!upstream || upstream.isReady);
      return ex.reply(ok ? 200 : 503, ok ? 'OK\n' : 'not ready\n');
    }
    if (config.maxInflight > 0 && inflight >= config.maxInflight) {
      req.resume();
      // X-Max-Inflight tells the gateway this is the replica's limit, not the function's own answer: it sends the call to another replica.
      return ex.reply(429, `too many requests in flight (max_inflight=${config.maxInflight})\n`, { 'x-max-inflight': config.maxInflight, 'retry-after': 1 });
    }

    inflight++;
    const stopWatching = config.readTimeoutMs > 0 && !req.complete ? watchBody(ex) : undefined;
    handle(ex)
      .catch((err: Error) => {
        log(`watchdog: request failed: ${err.stack ?? err.message}`);
        if (!res.headersSent) ex.reply(500, `watchdog error: ${err.message}\n`);
        else res.destroy();
      })
      .finally(() => {
        stopWatching?.();
        inflight--;
        if (inflight === 0) drained?.();
      });
  }

  async function listen(port = config.port, host?: string): Promise<AddressInfo> {
    if (upstream && !proxy) proxy = (await import('./http-mode.js')).httpHandler(config, upstream);
    if (config.mode === 'module' && !moduleHandler) {
      const { loadHandler, moduleMode } = await import('./module-mode.js');
      moduleHandler = moduleMode(config, await loadHandler(config.modulePath!));
    }
    if (classic) await classic.start(log);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (upstream) {
      upstream.start();
      await upstream.ready();
    }
    ready = true;
    if (!config.suppressLock) writeLock(lockFile);
    return server.address() as AddressInfo;
  }

  async function shutdown(): Promise<void> {
    if (draining) return;
    draining = true;
    if (!config.suppressLock) removeLock(lockFile);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inflight > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, config.writeTimeoutMs).unref();
      });
    }
    // Whatever is still running past write_timeout is cut off (its processes killed).
    server.closeAllConnections();
    await closed;
    // The pool's idle connections first: a function process that closes its
    // server gracefully on SIGTERM would otherwise wait for them until killed.
    await proxy?.close();
    await upstream?.stop();
    await classic?.close();
  }

  return { server, listen, shutdown, inflight: () => inflight, upstream, starterKind: () => classic?.starter.kind };
}
