// The one invocation path: synchronous calls (the gateway's invoke route),
// queued calls, topic messages and schedule ticks (triggers/) all come
// through here with a request and a sink for the answer. It finds the
// function in the program's view (no orchestrator call), picks a ready
// instance, holds the call while the function has none (asking the Waker to
// wake it from zero, or while the orchestrator replaces a crashed task),
// tries another instance when one cannot be reached, and counts the
// invocation. A function with a concurrency limit gets at most that many
// calls at once per instance; the others wait for a slot in arrival order
// (upstream/slots.ts), and a call an instance refuses at its own limit goes
// back in line for another. Every call is counted as waiting, then in
// flight (load.ts), for the load reports that capacity scaling reads.
// Failures are InvocationErrors; each edge says them its way.
import type { Logger } from 'pino';
import type { FunctionLookup } from '../functions/view.js';
import { qualifiedName } from '../functions/names.js';
import { keyOf, type FunctionRef } from '../functions/types.js';
import { INVOCATION_STATUS, InvocationError } from './errors.js';
import type { InvocationMetrics, InvocationSource } from './metrics.js';
import type { ClientGone } from '../upstream/client-gone.js';
import type { EndpointTable } from '../upstream/endpoints.js';
import { AttemptError, type Forwarder, type UpstreamBody, type UpstreamRequest } from '../upstream/forward.js';
import type { SlotTable } from '../upstream/slots.js';
import type { FunctionLoad, LoadTable } from './load.js';
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
  /** Per-instance slots of the functions with a concurrency limit. */
  slots: SlotTable;
  /** Every function's calls waiting and in flight in this program. */
  loads: LoadTable;
  forwarder: Forwarder;
  waker: Waker;
  metrics: InvocationMetrics;
  log: Logger;
  settings: {
    WAKE_TIMEOUT: number;
    UPSTREAM_TIMEOUT: number;
    FUNCTION_BODY_LIMIT: number;
    DEFAULT_NAMESPACE: string;
    /** Seconds a call may wait for a free slot (functions with a concurrency limit). */
    CONCURRENCY_MAX_WAIT: number;
  };
}

/** Where a call was sent: `slotted` when it holds one of the function's slots there. */
interface Route {
  address: string;
  slotted: boolean;
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
    const key = keyOf(ref);
    const started = performance.now();
    const load = this.deps.loads.of(key);
    load.enter(started);
    const call: CallState = { load, sent: false };
    let code = 0;
    try {
      const limit = this.deps.settings.FUNCTION_BODY_LIMIT;
      if (limit > 0 && invocation.declaredLength !== undefined && invocation.declaredLength > limit) {
        throw new InvocationError('too-large', `request body larger than ${limit} bytes`);
      }
      const body = typeof invocation.body === 'function' ? await invocation.body() : invocation.body;
      const request: UpstreamRequest & Invocation = { ...invocation, body };
      code = await this.send(request, invocation.answerHeaders ? new HeaderedSink(sink, invocation.answerHeaders) : sink, key, call);
      return code;
    } catch (error) {
      // 499: the caller went away, nobody to answer.
      code = invocation.signal.aborted ? 499 : error instanceof AttemptError ? 502 : error instanceof InvocationError ? INVOCATION_STATUS[error.kind] : 500;
      throw error;
    } finally {
      const ended = performance.now();
      load.leave(ended, call.sent);
      this.deps.metrics.record(qualifiedName(ref, this.deps.settings.DEFAULT_NAMESPACE), code, (ended - started) / 1000, invocation.source ?? 'sync');
    }
  }

  private async send(invocation: UpstreamRequest & Invocation, sink: AnswerSink, key: string, call: CallState): Promise<number> {
    const { endpoints, forwarder, settings, slots } = this.deps;
    const now = Date.now();
    const deadline = now + settings.WAKE_TIMEOUT * 1000;
    const slotDeadline = now + settings.CONCURRENCY_MAX_WAIT * 1000;
    let avoid: string | undefined;
    let retriedBroken = false;
    // A call given back (refused at an instance's limit, or its instance unreachable) waits ahead of later ones.
    let front = false;
    for (;;) {
      const { address, slotted } = await this.route(invocation, key, deadline, slotDeadline, avoid, front);
      call.load.sent();
      call.sent = true;
      let released = !slotted;
      const release = (answered: boolean) => {
        if (released) return;
        released = true;
        slots.release(key, address, answered);
      };
      const giveBack = () => {
        call.load.returned();
        call.sent = false;
        front = true;
      };
      // Only a call whose body can be sent again may be given back after a refusal.
      const catcher = slotted ? new RefusalCatcher(sink, () => !invocation.body?.started) : undefined;
      try {
        const status = await forwarder.attempt(address, invocation, catcher ?? sink);
        if (catcher?.refused) {
          released = true;
          slots.refused(key, address);
          this.deps.metrics.instanceFull(qualifiedName(invocation.ref, settings.DEFAULT_NAMESPACE));
          giveBack();
          continue;
        }
        release(true);
        endpoints.accept(address);
        return status;
      } catch (failure) {
        release(false);
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
          if (replayable) {
            giveBack();
            continue;
          }
        } else if (kind === 'broken' && replayable && !retriedBroken) {
          retriedBroken = true;
          avoid = address;
          giveBack();
          continue;
        }
        throw new InvocationError('unreachable', `cannot reach function ${name}: ${failure.code || failure.message}`);
      }
    }
  }

  /**
   * The instance to try next; holds the call while the function has none
   * ready, and, for a function with a concurrency limit, until one has a
   * free slot.
   */
  private async route(invocation: Invocation, key: string, deadline: number, slotDeadline: number, avoid: string | undefined, front: boolean): Promise<Route> {
    const { endpoints, functions, slots, waker, settings } = this.deps;
    const { ref, signal } = invocation;
    const slot = () => slots.acquire(key, { deadline: slotDeadline, signal, front, ...(avoid !== undefined ? { avoid } : {}) });
    for (;;) {
      const entry = functions.get(ref);
      if (!entry) throw new InvocationError('not-found', `function ${qualifiedName(ref, settings.DEFAULT_NAMESPACE)} not found`);
      if (entry.status.replicas > 0) {
        if (slots.limitOf(key) !== undefined && endpoints.size(key) > 0) {
          const address = await slot();
          if (address) return { address, slotted: true };
          continue; // no instance (or no limit) any more: look again
        }
        const address = endpoints.select(key, avoid) ?? (avoid !== undefined ? endpoints.select(key) : undefined);
        if (address) return { address, slotted: false };
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
        const admitted = endpoints.admit(key, probed);
        if (admitted && slots.limitOf(key) !== undefined) {
          // Held calls of a function with a limit take its slots in turn, as any other.
          const address = await slot();
          if (address) return { address, slotted: true };
          continue;
        }
        return { address: probed, slotted: false };
      }
    }
  }
}

/** A call's part of its function's load: counted as in flight while sent. */
interface CallState {
  load: FunctionLoad;
  sent: boolean;
}

/**
 * In front of the sink of a call that holds a slot: a 429 that says it is
 * the instance's own in-flight limit (the watchdog's X-Max-Inflight) is
 * kept from the caller while the call can be given back for another
 * instance; any other answer goes through untouched.
 */
class RefusalCatcher implements AnswerSink {
  refused = false;

  constructor(
    private readonly inner: AnswerSink,
    private readonly canRetry: () => boolean,
  ) {}

  head(status: number, headers: AnswerHeaders): boolean {
    if (status === 429 && headers['x-max-inflight'] !== undefined && this.canRetry()) {
      this.refused = true;
      return true;
    }
    return this.inner.head(status, headers);
  }
  write(chunk: Buffer, last: boolean): boolean {
    return this.refused || this.inner.write(chunk, last);
  }
  onDrain(resume: () => void): void {
    if (this.refused) resume();
    else this.inner.onDrain(resume);
  }
  end(): void {
    if (!this.refused) this.inner.end();
  }
  abort(): void {
    if (!this.refused) this.inner.abort();
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
