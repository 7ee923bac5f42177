// Durable topics and schedules: one JetStream durable consumer per function
// and subject (faas-events) or per scheduled function (faas-cron), shared by
// every connector replica, which pull from it. A message is acknowledged only
// after its invocation: a connector killed in the middle leaves it to be
// delivered again after ASYNC_ACK_WAIT, a NATS restarted keeps it on disk.
// A failing function (429, 502, 503, 504, no answer) is tried again with the
// asynchronous calls' backoff (async/retry.ts); after its attempts the
// message becomes a dead letter of the async queue, which can be replayed.
// max_ack_pending is the function's limit of invocations in flight
// (com.openfaas.async.max-inflight), held by JetStream across replicas.
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { decide } from './retry.js';
import type { FunctionRef } from '../programs/gateway/provider/types.js';
import { CRON_TOPIC } from '../core/events/subjects.js';
import { CRON_STREAM, EVENTS_STREAM } from '../queue/event-streams.js';
import { requestHeaders } from './delivery.js';
import { inflightLimit, invoke, nameOf, type HandlerDeps, type RunRecorder } from './handler.js';
import { labelNumber, MAX_ATTEMPTS_LABEL } from './async-consumer.js';

const NANOS_PER_MS = 1_000_000;

export interface DurableTarget {
  ref: FunctionRef;
  consumer: string;
  /** The consumer's filter: the subscribed subject, or the function's subject of faas-cron. */
  filter: string;
  kind: 'topic' | 'schedule';
  /** Schedules: the expression (a header of the invocation). */
  schedule?: string;
}

export class DurableConsumer {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly running = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private limit = 0;
  private readonly name: string;
  private readonly stream: string;

  constructor(
    private readonly deps: HandlerDeps,
    readonly target: DurableTarget,
    private readonly runs: RunRecorder,
  ) {
    this.name = nameOf(deps, target.ref);
    this.stream = target.kind === 'topic' ? EVENTS_STREAM : CRON_STREAM;
  }

  get inflight(): number {
    return this.running.size;
  }

  start(): void {
    this.loop = this.pull();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await Promise.all([...this.running]);
  }

  /** Starts over when the function's limit changed (max_ack_pending and the pull size follow it). */
  refresh(): void {
    if (!this.stopped && inflightLimit(this.deps, this.target.ref) !== this.limit) void this.messages?.close();
  }

  private async pull(): Promise<void> {
    const { queue, streams, log } = this.deps;
    let failures = 0;
    while (!this.stopped) {
      try {
        await streams.ensure();
        const { js } = await queue.handles(30_000);
        this.limit = inflightLimit(this.deps, this.target.ref);
        await this.ensureConsumer();
        if (this.stopped) break;
        const consumer = await js.consumers.get(this.stream, this.target.consumer);
        const messages = await consumer.consume({ max_messages: this.limit });
        this.messages = messages;
        failures = 0;
        void (async () => {
          for await (const status of messages.status()) {
            if (status.type === 'consumer_not_found' || status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
              log.warn({ function: this.name, consumer: this.target.consumer, status: status.type }, 'the consumer is gone: making it again');
              streams.forget();
              await messages.close();
              return;
            }
          }
        })().catch(() => undefined);
        for await (const message of messages) {
          if (this.stopped) {
            message.nak();
            continue;
          }
          const work: Promise<void> = this.process(message)
            .catch((error: unknown) => log.error({ err: error, function: this.name }, 'event delivery failed in the connector'))
            .finally(() => this.running.delete(work));
          this.running.add(work);
        }
      } catch (error) {
        if (this.stopped) break;
        streams.forget(error);
        queue.forgetStreams(error);
        failures++;
        if (failures === 1 || failures % 30 === 0) log.warn({ err: error, function: this.name, consumer: this.target.consumer }, 'cannot take messages from JetStream: trying again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  private async ensureConsumer(): Promise<void> {
    const jsm = await this.deps.streams.jsm();
    const ackWait = Math.round(this.deps.settings.ASYNC_ACK_WAIT * 1000) * NANOS_PER_MS;
    try {
      const info = await jsm.consumers.info(this.stream, this.target.consumer);
      if (info.config.max_ack_pending !== this.limit || info.config.ack_wait !== ackWait) {
        await jsm.consumers.update(this.stream, this.target.consumer, { max_ack_pending: this.limit, ack_wait: ackWait });
      }
    } catch (error) {
      if (!/consumer not found|not found/i.test(String((error as Error).message))) throw error;
      await jsm.consumers
        .add(this.stream, {
          durable_name: this.target.consumer,
          filter_subject: this.target.filter,
          ack_policy: AckPolicy.Explicit,
          // A new subscription takes the messages from now on; the ticks of a schedule are all its own.
          deliver_policy: this.target.kind === 'topic' ? DeliverPolicy.New : DeliverPolicy.All,
          max_ack_pending: this.limit,
          ack_wait: ackWait,
          // Attempts are counted here (dead letters), not by JetStream.
          max_deliver: -1,
        })
        .catch((addError: unknown) => {
          if (!/already in use|already exists/i.test(String((addError as Error).message))) throw addError;
        });
      this.deps.log.info({ function: this.name, consumer: this.target.consumer, filter: this.target.filter }, `subscribed (${this.target.kind === 'topic' ? 'durable' : 'schedule'})`);
    }
  }

  private async process(message: JsMsg): Promise<void> {
    const { metrics, settings, log } = this.deps;
    const { ref, kind } = this.target;
    const trigger = kind;
    const attempt = message.info.deliveryCount;
    const delivery = kind === 'topic' ? 'durable' : 'schedule';
    if (attempt === 1) {
      metrics.received.inc({ subject: kind === 'topic' ? this.target.filter : CRON_TOPIC, delivery });
      metrics.delay.observe({ delivery }, Math.max(0, Date.now() - Number(message.info.timestampNanos) / NANOS_PER_MS) / 1000);
    } else metrics.redeliveries.inc({ function_name: this.name, trigger });
    const keepAlive = setInterval(() => message.working(), Math.max(1_000, (settings.ASYNC_ACK_WAIT * 1000) / 3));
    const at = Date.now();
    try {
      const subject = kind === 'topic' ? message.subject : CRON_TOPIC;
      const extra: Record<string, string> = { 'x-delivery-attempt': String(attempt) };
      if (this.target.schedule) extra['x-schedule'] = this.target.schedule;
      const { headers, callId } = requestHeaders(message.headers, subject, extra);
      const result = await invoke(this.deps, ref, { subject, data: message.data, headers, callId });
      const maxAttempts = labelNumber(this.deps.functions.get(ref)?.status.labels ?? {}, MAX_ATTEMPTS_LABEL, settings.ASYNC_MAX_ATTEMPTS, 100);
      const outcome = decide(attempt, result.status, result.reason, { maxAttempts, initialDelayMs: settings.ASYNC_RETRY_DELAY * 1000, maxDelayMs: settings.ASYNC_RETRY_MAX_DELAY * 1000 }, { notFound: result.notFound });
      const run = { at, trigger, subject: kind === 'topic' ? message.subject : (this.target.schedule ?? CRON_TOPIC), delivery, status: result.status, durationMs: result.durationMs, attempt, callId } as const;
      if (outcome.kind === 'retry') {
        metrics.invocations.inc({ function_name: this.name, trigger, outcome: 'retry' });
        this.runs.record(ref, { ...run, outcome: 'retry', reason: `${outcome.reason}: again in ${(outcome.delayMs / 1000).toFixed(1)} s` });
        message.nak(outcome.delayMs);
        return;
      }
      if (outcome.kind === 'dead') {
        const failure = { status: result.status, reason: outcome.reason, attempts: attempt, failedAt: Date.now() };
        const id = await this.deps.queue.addDeadLetter(
          { callId, ref, method: 'POST', path: '/', query: '', headers, acceptedAt: Math.round(Number(message.info.timestampNanos) / NANOS_PER_MS), body: message.data },
          failure,
          // Keyed by the message and the consumer: a connector that dies after this line does not make a second one.
          `dead-${this.stream}-${this.target.consumer}-${message.seq}`,
        );
        metrics.invocations.inc({ function_name: this.name, trigger, outcome: 'dead_letter' });
        this.runs.record(ref, { ...run, outcome: 'dead_letter', reason: `${outcome.reason} (dead letter ${id})` });
        log.warn({ function: this.name, callId, deadLetter: id, reason: outcome.reason }, 'event kept as a dead letter');
      } else {
        const success = outcome.status >= 200 && outcome.status < 300;
        metrics.invocations.inc({ function_name: this.name, trigger, outcome: success ? 'success' : 'failure' });
        this.runs.record(ref, { ...run, outcome: success ? 'success' : 'failure', ...(success ? {} : { reason: result.reason }) });
      }
      try {
        await message.ackAck({ timeout: 5_000 });
      } catch (error) {
        // NATS went away between the invocation and its acknowledgement: it will be delivered again (a duplicate).
        log.warn({ function: this.name, callId, err: error }, 'acknowledgement not confirmed: the event may be delivered again');
      }
    } finally {
      clearInterval(keepAlive);
    }
  }
}
