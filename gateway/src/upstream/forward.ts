// Sends one invocation to a function task and streams the answer back.
// Keep-alive connection pools per task address (undici Agent: one pool per
// origin). A connection refused or reset before the request body was read is
// retried once on another task.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { forwardableHeaders, RequestBody } from '@swarm-faas/http-relay';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import type { ClientGone } from './client-gone.js';
import type { EndpointTable } from './endpoints.js';
import { HttpError } from '../http/errors.js';

/** The client's Host names the gateway: undici sets the task's own. */
const NOT_FORWARDED = new Set(['host']);

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'EPIPE']);

export interface ForwardOptions {
  /** Milliseconds to wait for the answer's headers and between body chunks. */
  timeoutMs: number;
  /** Largest body forwarded (413 beyond); 0: no limit. */
  bodyLimit: number;
  /** Connections per task at most; 0: no limit. */
  connectionsPerTask?: number;
}

export interface Invocation {
  name: string;
  method: string;
  /** Path after /function/<name>, with the query string: "/", "/a/b?x=1". */
  path: string;
  req: IncomingMessage;
  /** Where the answer goes: status, headers and body are written here as they come. */
  res: ServerResponse;
  clientIp: string;
  /** Aborts the upstream request when the client goes away. */
  signal: ClientGone;
}

/** A failed attempt, and whether the answer had started (then nothing can be retried or reported). */
class AttemptError extends Error {
  constructor(
    readonly reason: Error,
    readonly answerStarted: boolean,
  ) {
    super(reason.message);
  }
}

export class Forwarder {
  private readonly agent: Agent;

  constructor(
    private readonly endpoints: EndpointTable,
    private readonly options: ForwardOptions,
  ) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 5_000) },
      ...(options.connectionsPerTask ? { connections: options.connectionsPerTask } : {}),
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /**
   * Forwards to `firstAddress` (the caller's choice) and streams the answer
   * into `invocation.res`. Resolves with the status sent once the answer is
   * complete (or cut). Rejects with HttpError 413 / 502 / 504 when no answer
   * was started, so that the caller can still answer with an error.
   */
  async forward(invocation: Invocation, firstAddress: string): Promise<number> {
    const { req } = invocation;
    const declared = req.headers['content-length'];
    if (this.options.bodyLimit > 0 && declared !== undefined && Number(declared) > this.options.bodyLimit) {
      throw new HttpError(413, `request body larger than ${this.options.bodyLimit} bytes`);
    }
    const headers = requestHeaders(req.headers, invocation.clientIp);
    const body = RequestBody.expected(req.headers) ? await RequestBody.start(req, this.options.bodyLimit) : undefined;

    let address = firstAddress;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(invocation, address, headers, body);
      } catch (failure) {
        const { reason: cause, answerStarted } = failure as AttemptError;
        if (answerStarted || invocation.signal.aborted) throw failure;
        if (body?.tooLarge) throw new HttpError(413, `request body larger than ${this.options.bodyLimit} bytes`);
        const code = (cause as NodeJS.ErrnoException).code ?? '';
        if (cause instanceof undiciErrors.HeadersTimeoutError || cause instanceof undiciErrors.BodyTimeoutError) {
          throw new HttpError(504, `function ${invocation.name} did not answer within ${this.options.timeoutMs / 1000} s`);
        }
        const retryable = RETRYABLE.has(code) || cause instanceof undiciErrors.ConnectTimeoutError;
        if (retryable) this.endpoints.reject(invocation.name, address);
        if (attempt === 0 && retryable && !body?.started) {
          const other = await this.endpoints.select(invocation.name, address);
          if (other) {
            address = other;
            continue;
          }
        }
        throw new HttpError(502, `cannot reach function ${invocation.name}: ${code || cause.message}`);
      }
    }
  }

  /**
   * One try against one task, with undici's dispatch API: the answer's
   * chunks go straight to the client (no intermediate stream), with
   * backpressure both ways. When a chunk completes the declared length it
   * goes out with end(), so a small answer leaves in one write with its headers.
   */
  private attempt(invocation: Invocation, address: string, headers: Record<string, string | string[]>, body: RequestBody | undefined): Promise<number> {
    const { res, signal } = invocation;
    return new Promise<number>((resolve, reject) => {
      let status = 0;
      let length = NaN;
      let sent = 0;
      let ended = false;
      let settled = false;
      let onGone: (() => void) | undefined;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (onGone) signal.off('abort', onGone);
        if (error) reject(new AttemptError(error, status !== 0));
        else resolve(status);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          if (signal.aborted) return controller.abort(new Error('client went away'));
          onGone = () => controller.abort(new Error('client went away'));
          signal.once('abort', onGone);
        },
        onResponseStart(controller, statusCode, answerHeaders) {
          if (statusCode < 200) return; // informational (100 Continue): the final answer follows
          status = statusCode;
          length = Number(answerHeaders['content-length'] ?? NaN);
          res.writeHead(statusCode, responseHeaders(answerHeaders as Record<string, string | string[] | undefined>));
          if (res.destroyed) controller.abort(new Error('client went away'));
        },
        onResponseData(controller, chunk) {
          sent += chunk.length;
          if (sent === length) {
            ended = true;
            res.end(chunk);
          } else if (!res.write(chunk)) {
            controller.pause();
            res.once('drain', () => controller.resume());
          }
        },
        onResponseEnd() {
          if (!ended) res.end();
          finish();
        },
        onResponseError(_controller, error) {
          // After the headers went out, all that can be done is to cut the connection.
          if (status !== 0) res.destroy();
          finish(error);
        },
      };
      this.agent.dispatch(
        {
          origin: `http://${address}`,
          path: invocation.path,
          method: invocation.method as Dispatcher.HttpMethod,
          headers,
          // undici accepts async iterables as bodies; its types only list streams.
          body: body ? (body.forUndici() as Readable | Buffer) : null,
        },
        handler,
      );
    });
  }
}

export function requestHeaders(incoming: IncomingHttpHeaders, clientIp: string): Record<string, string | string[]> {
  const headers = forwardableHeaders(incoming, NOT_FORWARDED);
  const prior = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${clientIp}` : clientIp;
  if (incoming.host) headers['x-forwarded-host'] = incoming.host;
  return headers;
}

export function responseHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  return forwardableHeaders(incoming);
}
