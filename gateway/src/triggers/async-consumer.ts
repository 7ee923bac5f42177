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
import { AckPolicy, DeliverPolicy, type JetStreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { callSubject, consumerName } from '../queue/call-message.js';
import type { AsyncQueue } from '../queue/async-queue.js';
import type { FunctionView } from '../core/functions/view.js';
import { qualifiedName } from '../core/functions/names.js';
import type { InvocationCore } from '../core/invocation/core.js';
import { keyOf, type FunctionRef } from '../programs/gateway/provider/types.js';
import type { CallbackSender } from '../programs/queue-worker/callback.js';
import { CallProcessor } from './async-call.js';
import type { WorkerMetrics } from '../programs/queue-worker/metrics.js';

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

  /** Deletes a removed function's consumer once it has no calls left (another worker may have done it). */
  private async forget(ref: FunctionRef): Promise<void> {
    if (this.consumers.has(keyOf(ref))) return; // deployed again meanwhile
    try {
      const waiting = (await this.deps.queue.countsByFunction('queue')).some((row) => keyOf(row.ref) === keyOf(ref));
      if (waiting) return;
      const { jsm } = await this.deps.queue.handles();
      await jsm.consumers.delete(this.deps.queue.stream, consumerName(ref));
    } catch {
      // Gone already, or NATS away: nothing is lost by keeping an idle consumer.
    }
  }

  private follow(ref: FunctionRef, labels: Record<string, string> | undefined): void {
    const key = keyOf(ref);
    const current = this.consumers.get(key);
    if (!labels) {
      // The function is gone: its calls stay queued (a function deployed again under the name gets them).
      this.consumers.delete(key);
      if (current) void current.stop().then(() => this.forget(ref));
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
  private readonly processor: CallProcessor;

  constructor(
    private readonly deps: WorkerDeps,
    readonly ref: FunctionRef,
    readonly limit: number,
    public maxAttempts: number,
  ) {
    this.name = qualifiedName(ref, deps.settings.DEFAULT_NAMESPACE);
    this.log = deps.log.child({ function: this.name });
    this.processor = new CallProcessor({
      invoke: (invocation, sink) => deps.core.invoke(invocation, sink),
      addDeadLetter: (call, failure, id) => deps.queue.addDeadLetter(call, failure, id),
      stream: deps.queue.stream,
      callbacks: deps.callbacks,
      metrics: deps.metrics,
      settings: deps.settings,
      log: this.log,
      name: this.name,
    });
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
        const messages = await consumer.consume({ max_messages: this.limit });
        this.messages = messages;
        failures = 0;
        this.sweepSoon(0);
        // A NATS that lost its store (or a consumer deleted by hand) leaves the pull waiting for nothing: start over.
        void (async () => {
          for await (const status of messages.status()) {
            if (status.type === 'consumer_not_found' || status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
              this.log.warn({ status: status.type }, 'the consumer is gone: making it again');
              await messages.close();
              return;
            }
          }
        })().catch(() => undefined);
        for await (const message of this.messages) {
          if (this.stopped) {
            message.nak();
            continue;
          }
          const work: Promise<void> = this.processor.process(message, this.maxAttempts)
            .catch((error: unknown) => this.log.error({ err: error }, 'asynchronous call failed in the worker'))
            .finally(() => this.running.delete(work));
          this.running.add(work);
        }
      } catch (error) {
        if (this.stopped) break;
        queue.forgetStreams(error);
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
}
