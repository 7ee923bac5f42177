// Sends one invocation to one function instance and streams the answer into
// a sink. One keep-alive pool per instance address, owned here so that the
// pool of an instance that went away (or stopped answering) can be closed at
// once: requests waiting on its sockets fail now instead of at their timeout.
import type { Readable } from 'node:stream';
import { buildConnector, Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { relayHandler } from '@swarm-faas/http-relay';
import type { AnswerSink } from '../invocation/sink.js';

export interface ForwardOptions {
  /** Milliseconds to wait for the answer's headers and between body chunks. */
  timeoutMs: number;
  /** Milliseconds a new connection may take before the instance counts as unreachable. */
  connectTimeoutMs: number;
  /** Connections per instance at most; 0: no limit. */
  connectionsPerInstance?: number;
  /** Milliseconds a call may wait for its answer before the instance is checked (onSlow); 0: never. */
  slowAfterMs?: number;
  /** A call to this instance has waited slowAfterMs without an answer. */
  onSlow?: (address: string) => void;
}

/** A request body that can be sent, and sent again while `started` is false. */
export interface UpstreamBody {
  readonly started: boolean;
  readonly tooLarge: boolean;
  forUndici(): Buffer | AsyncIterable<Buffer>;
}

export interface UpstreamRequest {
  method: string;
  /** Path after /function/<name>, with the query string: "/", "/a/b?x=1". */
  path: string;
  headers: Record<string, string | string[]>;
  body: UpstreamBody | undefined;
  /** Aborts the upstream request when the caller goes away (an EventEmitter with `aborted`, as undici takes). */
  signal: { aborted: boolean; once(event: 'abort', listener: () => void): unknown; off(event: 'abort', listener: () => void): unknown };
}

/** What went wrong in one attempt, and whether the answer had started (then nothing can be retried or reported). */
export class AttemptError extends Error {
  constructor(
    readonly reason: Error,
    readonly answerStarted: boolean,
  ) {
    super(reason.message);
  }

  /**
   * unreachable: no connection could be made (refused, unreachable, connect
   * timeout): the request was not sent, another instance may take it and
   * this one should be left out a while. broken: the connection failed
   * before an answer came (reset, closed, its pool closed because the
   * instance went away): one more try elsewhere, as an HTTP client would.
   * timeout: no answer within UPSTREAM_TIMEOUT. other: anything else.
   */
  get kind(): 'unreachable' | 'broken' | 'timeout' | 'other' {
    const reason = this.reason;
    if (reason instanceof undiciErrors.HeadersTimeoutError || reason instanceof undiciErrors.BodyTimeoutError) return 'timeout';
    if (this.answerStarted) return 'other';
    if (reason instanceof undiciErrors.ConnectTimeoutError || UNREACHABLE.has(this.code)) return 'unreachable';
    if (BROKEN.has(this.code)) return 'broken';
    return 'other';
  }

  get code(): string {
    return (this.reason as NodeJS.ErrnoException).code ?? '';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/**
 * undici's connector with a precise connect timeout: undici's own runs on its
 * coarse timer wheel (about half a second per tick), far longer than a
 * connection inside a cluster takes. As undici does, the timeout waits one
 * turn of the event loop before it counts, so that a connect that completed
 * while the loop was busy is not taken for a timeout.
 */
export function connectWithin(timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: 0 });
  return (options, callback) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => {
      timer = undefined;
      setImmediate(() => {
        if (settled) return;
        settled = true;
        (socket as { destroy(): void } | undefined)?.destroy();
        callback(new undiciErrors.ConnectTimeoutError(`connect to ${options.hostname}:${options.port} took longer than ${timeoutMs} ms`), null);
      });
    }, timeoutMs);
    const socket = connect(options, (...result) => {
      if (settled) {
        (result[1] as { destroy(): void } | null)?.destroy();
        return;
      }
      settled = true;
      if (timer) clearTimeout(timer);
      callback(...result);
    });
    return socket;
  };
}

export class Forwarder {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: ForwardOptions) {}

  /** Closes the pool of an instance that is gone: its waiting requests fail at once. */
  drop(address: string): void {
    const pool = this.pools.get(address);
    if (!pool) return;
    this.pools.delete(address);
    void pool.destroy(Object.assign(new Error(`instance ${address} is gone`), { code: 'UND_ERR_DESTROYED' })).catch(() => undefined);
  }

  /** Keeps only the pools of these addresses (every instance the gateway still routes to). */
  retain(live: ReadonlySet<string>): void {
    for (const address of [...this.pools.keys()]) if (!live.has(address)) this.drop(address);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close().catch(() => undefined)));
    this.pools.clear();
  }

  private poolOf(address: string): Pool {
    let pool = this.pools.get(address);
    if (!pool) {
      pool = new Pool(`http://${address}`, {
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 30_000,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        connect: connectWithin(this.options.connectTimeoutMs),
        ...(this.options.connectionsPerInstance ? { connections: this.options.connectionsPerInstance } : {}),
      });
      this.pools.set(address, pool);
    }
    return pool;
  }

  /**
   * One try against one instance, with undici's dispatch API and the relay
   * handler the watchdog's HTTP mode uses too (@swarm-faas/http-relay): the
   * answer streams into the sink. Resolves with the status once the answer
   * is complete; rejects with AttemptError.
   */
  attempt(address: string, request: UpstreamRequest, sink: AnswerSink): Promise<number> {
    const { signal } = request;
    return new Promise<number>((resolve, reject) => {
      let status = 0;
      let onGone: (() => void) | undefined;
      const { slowAfterMs, onSlow } = this.options;
      let slow: NodeJS.Timeout | undefined = slowAfterMs && onSlow ? setTimeout(() => onSlow(address), slowAfterMs) : undefined;
      const answered = () => {
        if (slow) clearTimeout(slow);
        slow = undefined;
      };
      const handler = relayHandler(sink, {
        started(abort) {
          if (signal.aborted) return abort(new Error('client went away'));
          onGone = () => abort(new Error('client went away'));
          signal.once('abort', onGone);
        },
        answered(code) {
          answered();
          status = code;
        },
        done(error, answerStarted) {
          answered();
          if (onGone) signal.off('abort', onGone);
          if (error) reject(new AttemptError(error, answerStarted));
          else resolve(status);
        },
      });
      this.poolOf(address).dispatch(
        {
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          // undici accepts async iterables as bodies; its types only list streams.
          body: request.body ? (request.body.forUndici() as Readable | Buffer) : null,
        },
        handler,
      );
    });
  }
}
