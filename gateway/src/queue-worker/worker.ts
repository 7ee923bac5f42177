// The queue worker: takes queued calls from JetStream and makes them through
// the invocation core (the same path as synchronous calls: routing, waking
// from zero, retries on unreachable instances, metrics), with a
// CollectingSink for the answer, then POSTs the answer to the call's
// X-Callback-Url and only then acknowledges the message (at-least-once: a
// worker that dies in the middle leaves the call to be delivered again).
//
// Every function has one durable consumer, shared by all worker replicas,
// whose max_ack_pending is the function's limit on concurrent asynchronous
// calls (label com.openfaas.async.max-inflight, default ASYNC_MAX_INFLIGHT):
// JetStream itself holds the limit across replicas, and a slow function
// never holds up the calls of another.
import { AckPolicy, DeliverPolicy, type JetStreamManager, type JsMsg, type ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { CALL_HEADER, callSubject, consumerName, decodeCall, type QueuedCall } from '../async/message.js';
import type { AsyncQueue } from '../async/queue.js';
import { decide, type RetryPolicy } from '../async/retry.js';
import type { FunctionView } from '../functions/view.js';
import { qualifiedName } from '../functions/names.js';
import { HttpError, statusOf } from '../http/errors.js';
import type { InvocationCore } from '../invocation/core.js';
import { CollectingSink } from '../invocation/sink.js';
import { keyOf, type FunctionRef } from '../provider/types.js';
import { ClientGone } from '../upstream/client-gone.js';
import type { UpstreamBody } from '../upstream/forward.js';
import type { CallbackSender } from './callback.js';
import type { WorkerMetrics } from './metrics.js';

/** Concurrent asynchronous calls of the function across all workers. */
export const MAX_INFLIGHT_LABEL = 'com.openfaas.async.max-inflight';
/** Attempts per call of the function (overrides ASYNC_MAX_ATTEMPTS). */
export const MAX_ATTEMPTS_LABEL = 'com.openfaas.async.max-attempts';

export interface WorkerSettings {
  DEFAULT_NAMESPACE: string;
  ASYNC_MAX_ATTEMPTS: number;
  ASYNC_RETRY_DELAY: number;
  ASYNC_RETRY_MAX_DELAY: number;
  ASYNC_MAX_INFLIGHT: number;
  ASYNC_ACK_WAIT: number;
  ASYNC_ANSWER_LIMIT: number;
}

export interface WorkerDeps {
  queue: AsyncQueue;
  core: InvocationCore;
  functions: FunctionView;
  callbacks: CallbackSender;
  metrics: WorkerMetrics;
  log: Logger;
  settings: WorkerSettings;
}

/** A whole-number label within bounds, else the default. */
export function labelNumber(labels: Record<string, string>, name: string, fallback: number, max: number): number {
  const text = labels[name]?.trim();
  if (!text || !/^\d+$/.test(text)) return fallback;
  const value = Number(text);
  return value >= 1 && value <= max ? value : fallback;
}

const NANOS_PER_MS = 1_000_000;
/** How often each function's queue is checked for calls left behind by a crash of NATS. */
const SWEEP_EVERY_MS = 30_000;

export class QueueWorker {
  private readonly consumers = new Map<string, FunctionConsumer>();
  private unsubscribe: (() => void) | undefined;

  constructor(readonly deps: WorkerDeps) {}

  start(): void {
    this.unsubscribe = this.deps.functions.onChange((ref, entry) => this.follow(ref, entry?.status.labels));
    for (const { status } of this.deps.functions.list()) this.follow(status, status.labels);
  }

  /** Calls being made now, over all functions. */
  get inflight(): number {
    let count = 0;
    for (const consumer of this.consumers.values()) count += consumer.inflight;
    return count;
  }

  /** Stops taking calls; resolves once the calls in hand are done (or after graceMs: those are delivered again). */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    const all = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.race([Promise.all(all.map((c) => c.stop())), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private follow(ref: FunctionRef, labels: Record<string, string> | undefined): void {
    const key = keyOf(ref);
    const current = this.consumers.get(key);
    if (!labels) {
      // The function is gone: its calls stay queued (a function deployed again under the name gets them).
      this.consumers.delete(key);
      void current?.stop();
      return;
    }
    const limit = labelNumber(labels, MAX_INFLIGHT_LABEL, this.deps.settings.ASYNC_MAX_INFLIGHT, 10_000);
    const maxAttempts = labelNumber(labels, MAX_ATTEMPTS_LABEL, this.deps.settings.ASYNC_MAX_ATTEMPTS, 100);
    if (current && current.limit === limit) {
      current.maxAttempts = maxAttempts;
      return;
    }
    void current?.stop();
    const consumer = new FunctionConsumer(this.deps, { name: ref.name, namespace: ref.namespace }, limit, maxAttempts);
    this.consumers.set(key, consumer);
    consumer.start();
  }
}

/** The calls of one function: a pull loop on its durable consumer, and each call made as it comes. */
class FunctionConsumer {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly running = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly name: string;
  private readonly log: Logger;

  constructor(
    private readonly deps: WorkerDeps,
    readonly ref: FunctionRef,
    readonly limit: number,
    public maxAttempts: number,
  ) {
    this.name = qualifiedName(ref, deps.settings.DEFAULT_NAMESPACE);
    this.log = deps.log.child({ function: this.name });
  }

  get inflight(): number {
    return this.running.size;
  }

  start(): void {
    this.loop = this.pull();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sweepTimer);
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await Promise.all([...this.running]);
  }

  private async pull(): Promise<void> {
    const { queue } = this.deps;
    let failures = 0;
    while (!this.stopped) {
      try {
        const { js, jsm } = await queue.handles(30_000);
        const durable = await this.ensureConsumer(jsm);
        if (this.stopped) break;
        const consumer = await js.consumers.get(queue.stream, durable);
        this.messages = await consumer.consume({ max_messages: this.limit });
        failures = 0;
        this.sweepSoon(0);
        for await (const message of this.messages) {
          if (this.stopped) {
            message.nak();
            continue;
          }
          const work: Promise<void> = this.handle(message)
            .catch((error: unknown) => this.log.error({ err: error }, 'asynchronous call failed in the worker'))
            .finally(() => this.running.delete(work));
          this.running.add(work);
        }
      } catch (error) {
        if (this.stopped) break;
        failures++;
        // A lost server, or a stream made anew: follow again shortly.
        if (failures === 1 || failures % 30 === 0) this.log.warn({ err: error }, 'cannot take calls from the queue: trying again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  /** Looks for calls a crashed NATS left behind (AsyncQueue.requeueStranded) now and then, and after each (re)connection. */
  private sweepSoon(delayMs: number): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      if (this.stopped) return;
      this.deps.queue
        .requeueStranded(this.ref, consumerName(this.ref))
        .then((moved) => {
          if (moved > 0) {
            this.deps.metrics.stranded.inc({ function_name: this.name }, moved);
            this.log.warn({ moved }, 'queued again calls that NATS kept after their acknowledgement (after a crash of NATS)');
          }
        })
        .catch((error: unknown) => this.log.debug({ err: error }, 'no sweep for stranded calls now'))
        .finally(() => this.sweepSoon(SWEEP_EVERY_MS));
    }, delayMs);
    this.sweepTimer.unref();
  }

  /** The function's durable consumer, made or brought to the function's limit. */
  private async ensureConsumer(jsm: JetStreamManager): Promise<string> {
    const { queue, settings } = this.deps;
    const durable = consumerName(this.ref);
    const ackWait = Math.round(settings.ASYNC_ACK_WAIT * 1000) * NANOS_PER_MS;
    try {
      const info = await jsm.consumers.info(queue.stream, durable);
      if (info.config.max_ack_pending !== this.limit || info.config.ack_wait !== ackWait) {
        await jsm.consumers.update(queue.stream, durable, { max_ack_pending: this.limit, ack_wait: ackWait });
      }
    } catch (error) {
      if (!/consumer not found|not found/i.test(String((error as Error).message))) throw error;
      await jsm.consumers
        .add(queue.stream, {
          durable_name: durable,
          filter_subject: callSubject(queue.stream, this.ref),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          max_ack_pending: this.limit,
          ack_wait: ackWait,
          // Attempts are counted by the worker (dead letters), not by JetStream.
          max_deliver: -1,
        })
        .catch((addError: unknown) => {
          // Another worker made it meanwhile.
          if (!/already in use|already exists/i.test(String((addError as Error).message))) throw addError;
        });
    }
    return durable;
  }

  private async handle(message: JsMsg): Promise<void> {
    const { metrics, settings, queue, log } = this.deps;
    const attempt = message.info.deliveryCount;
    if (message.redelivered) metrics.redeliveries.inc({ function_name: this.name });
    let call: QueuedCall;
    try {
      call = decodeCall(message.headers?.get(CALL_HEADER), message.data);
    } catch (error) {
      // Not written by a gateway: nothing to call, nobody to answer.
      log.error({ err: error, subject: message.subject, seq: message.seq }, 'dropping a queued message that is not a call');
      message.term();
      return;
    }
    // Tell JetStream the call is being worked on, so it is not given to another worker meanwhile.
    const keepAlive = setInterval(() => message.working(), Math.max(1_000, (settings.ASYNC_ACK_WAIT * 1000) / 3));
    metrics.inflight.inc({ function_name: this.name });
    try {
      const started = performance.now();
      const result = await this.attempt(call);
      const durationSeconds = (performance.now() - started) / 1000;
      const policy: RetryPolicy = {
        maxAttempts: this.maxAttempts,
        initialDelayMs: settings.ASYNC_RETRY_DELAY * 1000,
        maxDelayMs: settings.ASYNC_RETRY_MAX_DELAY * 1000,
      };
      const outcome = decide(attempt, result.status, result.reason, policy, { notFound: result.notFound });
      const context = { callId: call.callId, attempt, status: result.status };
      if (outcome.kind === 'retry') {
        metrics.retries.inc({ function_name: this.name });
        this.log.info({ ...context, retryInMs: outcome.delayMs, reason: outcome.reason }, 'asynchronous call failed: trying again later');
        message.nak(outcome.delayMs);
        return;
      }
      if (outcome.kind === 'dead') {
        const failure = { status: result.status, reason: outcome.reason, attempts: attempt, failedAt: Date.now() };
        // Keyed by the queued message: a worker that dies after this line does not make a second dead letter.
        const id = await queue.addDeadLetter(call, failure, `dead-${queue.stream}-${message.seq}`);
        metrics.deadLettered.inc({ function_name: this.name });
        metrics.invocations.inc({ function_name: this.name, outcome: 'dead_letter' });
        this.log.warn({ ...context, deadLetter: id, reason: outcome.reason }, 'asynchronous call kept as a dead letter');
        await this.callBack(call, {
          status: result.status,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: Buffer.from(outcome.reason),
          durationSeconds,
          extra: { 'x-async-dead-letter': String(id), 'x-async-attempts': String(attempt) },
        }, message);
      } else {
        const sink = result.sink!;
        metrics.invocations.inc({ function_name: this.name, outcome: outcome.status >= 200 && outcome.status < 300 ? 'success' : 'failure' });
        await this.callBack(call, {
          status: result.status,
          headers: sink.status ? sink.headers : { 'content-type': 'text/plain; charset=utf-8' },
          body: sink.status ? sink.body : Buffer.from(result.reason),
          durationSeconds,
          extra: sink.truncated ? { 'x-answer-truncated': 'true' } : {},
        }, message);
      }
      try {
        await message.ackAck({ timeout: 5_000 });
      } catch (error) {
        // NATS went away between the call and its acknowledgement: it will be delivered again (a duplicate).
        this.log.warn({ ...context, err: error }, 'acknowledgement not confirmed: the call may be made again');
      }
    } finally {
      clearInterval(keepAlive);
      metrics.inflight.dec({ function_name: this.name });
    }
  }

  /** One attempt through the invocation core: the status, and the answer when the function gave one. */
  private async attempt(call: QueuedCall): Promise<{ status: number; reason: string; sink?: CollectingSink; notFound?: boolean }> {
    const sink = new CollectingSink(this.deps.settings.ASYNC_ANSWER_LIMIT);
    try {
      const status = await this.deps.core.invoke(
        {
          ref: call.ref,
          method: call.method,
          path: call.query ? `${call.path}?${call.query}` : call.path,
          headers: call.headers,
          declaredLength: call.body.length,
          body: call.body.length > 0 ? bufferBody(call.body) : undefined,
          signal: new ClientGone(),
        },
        sink,
      );
      if (sink.broken) return { status: 0, reason: 'the function answer broke off' };
      return { status, reason: `the function answered ${status}`, sink };
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, reason: error.message, notFound: error.status === 404 };
      // Not the gateway's own answer: an unexpected failure, worth another try.
      return { status: statusOf(error) === 500 ? 0 : statusOf(error), reason: (error as Error).message };
    }
  }

  private async callBack(
    call: QueuedCall,
    answer: { status: number; headers: Record<string, string | string[]>; body: Uint8Array; durationSeconds: number; extra?: Record<string, string> },
    message: JsMsg,
  ): Promise<void> {
    if (!call.callbackUrl) return;
    try {
      await this.deps.callbacks.send(call.callbackUrl, { callId: call.callId, functionName: this.name, ...answer }, () => message.working());
      this.deps.metrics.callbacks.inc({ function_name: this.name, result: 'delivered' });
    } catch (error) {
      // The call was made: making it again for a receiver that fails would repeat its effects.
      this.deps.metrics.callbacks.inc({ function_name: this.name, result: 'failed' });
      this.log.warn({ callId: call.callId, callbackUrl: call.callbackUrl, err: error }, 'callback failed after its attempts');
    }
  }
}

/** A stored body, sent (and sent again on a retry) as one Buffer. */
function bufferBody(bytes: Uint8Array): UpstreamBody {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { started: false, tooLarge: false, forUndici: () => buffer };
}
