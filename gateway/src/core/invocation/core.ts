// The one invocation path: synchronous calls (the gateway's invoke route),
// queued calls, topic messages and schedule ticks (triggers/) all come
// through here with a request and a sink for the answer. It finds the
// function in the program's view (no orchestrator call), picks a ready
// instance, holds the call while the function has none (asking the Waker to
// wake it from zero, or while the orchestrator replaces a crashed task),
// tries another instance when one cannot be reached, and counts the
// invocation. Failures are InvocationErrors; each edge says them its way.
import type { Logger } from 'pino';
import type { FunctionLookup } from '../functions/view.js';
import { qualifiedName } from '../functions/names.js';
import { keyOf, type FunctionRef } from '../functions/types.js';
import { INVOCATION_STATUS, InvocationError } from './errors.js';
import type { InvocationMetrics, InvocationSource } from './metrics.js';
import type { ClientGone } from '../upstream/client-gone.js';
import type { EndpointTable } from '../upstream/endpoints.js';
import { AttemptError, type Forwarder, type UpstreamBody, type UpstreamRequest } from '../upstream/forward.js';
import type { AnswerHeaders, AnswerSink } from './sink.js';

export interface Invocation extends Omit<UpstreamRequest, 'body'> {
  ref: FunctionRef;
  signal: ClientGone;
  /** The body's Content-Length, when declared: over FUNCTION_BODY_LIMIT is refused before reading. */
  declaredLength?: number;
  /** The body, or how to start reading it (once the function is known). */
  body: UpstreamBody | (() => Promise<UpstreamBody>) | undefined;
  /** Headers added to the answer (X-Call-Id, X-Start-Time). */
  answerHeaders?: AnswerHeaders;
  /** Who makes it (metrics); default sync. */
  source?: InvocationSource;
}

/**
 * What the core needs of the scaler: the gateway wakes functions itself
 * (programs/gateway/scaling/), the queue worker and the connector ask the
 * gateways to (queue/wake-requests.ts).
 */
export interface Waker {
  /**
   * Resolves once the function has a ready instance (waking it from zero):
   * with the address of an instance that answered a readiness probe before
   * the view listed it (use it for this call), or undefined (use the
   * endpoints). Rejects with an InvocationError ('no-instance',
   * 'not-found', 'unavailable'), or when `signal` aborts.
   */
  ensureAvailable(ref: FunctionRef, signal?: AbortSignal): Promise<string | undefined>;
  /** Told of every invocation (idle detection for scale to zero). */
  recordInvocation(ref: FunctionRef): void;
}

export interface InvocationDeps {
  functions: FunctionLookup;
  endpoints: EndpointTable;
  forwarder: Forwarder;
  waker: Waker;
  metrics: InvocationMetrics;
  log: Logger;
  settings: { WAKE_TIMEOUT: number; UPSTREAM_TIMEOUT: number; FUNCTION_BODY_LIMIT: number; DEFAULT_NAMESPACE: string };
}

/** How often a held call looks again while the function's instances are all left out after failing to connect. */
const QUARANTINE_POLL_MS = 50;

export class InvocationCore {
  constructor(private readonly deps: InvocationDeps) {}

  /**
   * Invokes the function and streams its answer into `sink`. Resolves with
   * the status once the answer is complete (or cut after it started).
   * Rejects with an InvocationError when no answer was started, for the
   * caller to report.
   */
  async invoke(invocation: Invocation, sink: AnswerSink): Promise<number> {
    const { ref } = invocation;
    // Unknown names are not counted: a metric label per mistyped name would grow without bound.
    if (!this.deps.functions.get(ref)) throw new InvocationError('not-found', `function ${qualifiedName(ref, this.deps.settings.DEFAULT_NAMESPACE)} not found`);
    this.deps.waker.recordInvocation(ref);
    const started = performance.now();
    let code = 0;
    try {
      const limit = this.deps.settings.FUNCTION_BODY_LIMIT;
      if (limit > 0 && invocation.declaredLength !== undefined && invocation.declaredLength > limit) {
        throw new InvocationError('too-large', `request body larger than ${limit} bytes`);
      }
      const body = typeof invocation.body === 'function' ? await invocation.body() : invocation.body;
      const request: UpstreamRequest & Invocation = { ...invocation, body };
      code = await this.send(request, invocation.answerHeaders ? new HeaderedSink(sink, invocation.answerHeaders) : sink);
      return code;
    } catch (error) {
      // 499: the caller went away, nobody to answer.
      code = invocation.signal.aborted ? 499 : error instanceof AttemptError ? 502 : error instanceof InvocationError ? INVOCATION_STATUS[error.kind] : 500;
      throw error;
    } finally {
      this.deps.metrics.record(qualifiedName(ref, this.deps.settings.DEFAULT_NAMESPACE), code, (performance.now() - started) / 1000, invocation.source ?? 'sync');
    }
  }

  private async send(invocation: UpstreamRequest & Invocation, sink: AnswerSink): Promise<number> {
    const { endpoints, forwarder, settings } = this.deps;
    const key = keyOf(invocation.ref);
    const deadline = Date.now() + settings.WAKE_TIMEOUT * 1000;
    let avoid: string | undefined;
    let retriedBroken = false;
    for (;;) {
      const address = await this.route(invocation, key, deadline, avoid);
      try {
        const status = await forwarder.attempt(address, invocation, sink);
        endpoints.accept(address);
        return status;
      } catch (failure) {
        if (!(failure instanceof AttemptError) || failure.answerStarted || invocation.signal.aborted) throw failure;
        if (invocation.body?.tooLarge) throw new InvocationError('too-large', `request body larger than ${settings.FUNCTION_BODY_LIMIT} bytes`);
        const name = qualifiedName(invocation.ref, settings.DEFAULT_NAMESPACE);
        const kind = failure.kind;
        if (kind === 'timeout') throw new InvocationError('timeout', `function ${name} did not answer within ${settings.UPSTREAM_TIMEOUT} s`);
        const replayable = !invocation.body?.started;
        if (kind === 'unreachable') {
          // Leave it out and try the next one (or hold until one is ready).
          endpoints.reject(address);
          forwarder.drop(address);
          if (replayable) continue;
        } else if (kind === 'broken' && replayable && !retriedBroken) {
          retriedBroken = true;
          avoid = address;
          continue;
        }
        throw new InvocationError('unreachable', `cannot reach function ${name}: ${failure.code || failure.message}`);
      }
    }
  }

  /** The instance to try next; holds the call while the function has none ready. */
  private async route(invocation: Invocation, key: string, deadline: number, avoid: string | undefined): Promise<string> {
    const { endpoints, functions, waker, settings } = this.deps;
    const { ref, signal } = invocation;
    for (;;) {
      const entry = functions.get(ref);
      if (!entry) throw new InvocationError('not-found', `function ${qualifiedName(ref, settings.DEFAULT_NAMESPACE)} not found`);
      if (entry.status.replicas > 0) {
        const address = endpoints.select(key, avoid) ?? (avoid !== undefined ? endpoints.select(key) : undefined);
        if (address) return address;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new InvocationError('no-instance', `function ${qualifiedName(ref, settings.DEFAULT_NAMESPACE)} has no ready instance after waiting ${settings.WAKE_TIMEOUT} s (WAKE_TIMEOUT)`);
      }
      if (entry.status.replicas > 0 && endpoints.size(key) > 0) {
        // Listed but all left out after failing to connect: look again shortly, without asking the orchestrator.
        await sleep(Math.min(QUARANTINE_POLL_MS, left), signal);
        continue;
      }
      let probed: string | undefined;
      try {
        probed = await waker.ensureAvailable(ref, signal.signal);
      } catch (error) {
        if (error instanceof InvocationError || signal.aborted) throw error;
        throw new InvocationError('unavailable', `function ${qualifiedName(ref, settings.DEFAULT_NAMESPACE)} is not available: ${(error as Error).message}`);
      }
      // An instance that answered the scaler's readiness probe before the orchestrator listed it: this call and the next ones.
      if (probed) {
        endpoints.admit(key, probed);
        return probed;
      }
    }
  }
}

/** Adds the gateway's own headers (X-Call-Id, X-Start-Time) to the answer. */
class HeaderedSink implements AnswerSink {
  constructor(
    private readonly inner: AnswerSink,
    private readonly extra: AnswerHeaders,
  ) {}
  head(status: number, headers: AnswerHeaders): boolean {
    const merged: AnswerHeaders = { ...headers };
    for (const [name, value] of Object.entries(this.extra)) {
      // A policy the function sets itself stays: both are enforced.
      const own = merged[name];
      merged[name] = name === 'content-security-policy' && own !== undefined ? [...[own].flat(), ...[value].flat()] : value;
    }
    return this.inner.head(status, merged);
  }
  write(chunk: Buffer, last: boolean): boolean {
    return this.inner.write(chunk, last);
  }
  onDrain(resume: () => void): void {
    this.inner.onDrain(resume);
  }
  end(): void {
    this.inner.end();
  }
  abort(): void {
    this.inner.abort();
  }
}

function sleep(ms: number, signal: ClientGone): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('client went away'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('client went away'));
    };
    const timer = setTimeout(() => {
      signal.off('abort', onAbort);
      resolve();
    }, ms);
    signal.once('abort', onAbort);
  });
}
