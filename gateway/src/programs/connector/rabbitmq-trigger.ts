// The connector's trigger adapter for RabbitMQ queues: a message of a queue
// in, the request out (its body the message's, its headers and properties
// request headers, X-Topic the queue as OpenFaaS Pro's connector sets it);
// the outcome back: a 2xx answer published to the function's output binding
// (confirmed by the broker before the message is acknowledged: an answer that
// cannot be published leaves the message unacknowledged, to come again), a
// run record for the UI, the metrics. A message that fails for good is
// rejected: RabbitMQ moves it to the queue's dead-letter exchange. The
// delivery step is the one every trigger shares (triggers/delivery.ts).
import { randomUUID } from 'node:crypto';
import type { Counter, Registry } from 'prom-client';
import { counter } from '../../core/metric-kinds.js';
import type { QueueSubscription } from '../../core/events/rabbitmq.js';
import type { FunctionRef } from '../../core/functions/types.js';
import type { Delivery } from '../../queue/consumers.js';
import type { RabbitMessage } from '../../rabbitmq/consumer.js';
import type { Publisher } from '../../rabbitmq/publisher.js';
import { eventHeaders, type Attempt, type Settled, type TriggerAdapter, type TriggerRequest } from '../../triggers/delivery.js';
import { retryPolicyOf } from '../../triggers/limits.js';
import { ACK_ON_2XX } from '../../triggers/retry.js';
import type { ConnectorDeps, RunRecorder } from './deps.js';
import { retryReason, TriggerRecords } from './trigger-records.js';

/** The connector's RabbitMQ-only metrics (the rest are the events_* ones, with trigger/delivery "rabbitmq"). */
export class RabbitMetrics {
  readonly published: Counter<'function_name' | 'result'>;

  constructor(registry: Registry) {
    this.published = counter(
      registry,
      'rabbitmq_answers_published_total',
      "Functions' answers published to their output binding (annotation rabbitmq-output), by result: published (confirmed by the broker), failed (not taken: the message is delivered again)",
      ['function_name', 'result'],
    );
  }
}

/** A RabbitMQ message as the delivery step takes it: ack when done, a copy behind the queue to retry, reject to the dead-letter exchange. */
export function deliveryOf(message: RabbitMessage, timers: Set<NodeJS.Timeout>, onRetryFailed: (error: unknown) => void): Delivery {
  return {
    subject: message.queue,
    seq: 0,
    data: message.content,
    headers: message.headers,
    deliveryCount: message.attempt,
    redelivered: message.redelivered,
    storedAt: message.publishedAt ?? Date.now(),
    // RabbitMQ keeps an unacknowledged message with its consumer until the channel goes: nothing to say while working.
    working: () => undefined,
    retryAfter: (delayMs) => {
      // Held (it keeps its prefetch slot: a failing function is not handed more meanwhile), then published again behind the queue.
      const timer = setTimeout(() => {
        timers.delete(timer);
        message.retry().catch((error: unknown) => {
          onRetryFailed(error);
          message.release();
        });
      }, delayMs);
      timers.add(timer);
    },
    drop: () => message.reject(),
    done: async () => message.ack(),
  };
}

export class RabbitTrigger implements TriggerAdapter {
  readonly statuses = ACK_ON_2XX;
  private readonly name: string;
  private readonly records: TriggerRecords;

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly subscription: QueueSubscription,
    runs: RunRecorder,
    private readonly publisher: Publisher,
    private readonly metrics: RabbitMetrics,
  ) {
    this.name = deps.nameOf(subscription.ref);
    this.records = new TriggerRecords(deps.metrics, runs, { functionName: this.name, trigger: 'rabbitmq', delivery: 'rabbitmq' });
  }

  request(delivery: Delivery): TriggerRequest {
    const queue = this.subscription.queue;
    this.records.arrived(delivery, queue);
    const { headers, callId } = eventHeaders(delivery.headers, queue, { 'x-delivery-attempt': String(delivery.deliveryCount), 'x-rabbitmq-queue': queue });
    return { ref: this.subscription.ref, method: 'POST', path: '/', headers, body: delivery.data, callId, source: 'rabbitmq' };
  }

  retryPolicy(ref: FunctionRef) {
    return retryPolicyOf(this.deps.functions.get(ref)?.status.labels ?? {}, this.deps.settings);
  }

  /** Rejected: RabbitMQ's own dead-lettering (the queue's x-dead-letter-exchange, or a policy's) takes it. */
  async deadLetter(delivery: Delivery): Promise<number> {
    delivery.drop();
    return 0;
  }

  async settled(delivery: Delivery, request: TriggerRequest, outcome: Settled): Promise<void> {
    const { attempt } = outcome;
    const run = this.records.run(this.subscription.queue, delivery, request, attempt);
    if (outcome.kind === 'retry') {
      this.records.record(request.ref, run, 'retry', { reason: retryReason(outcome) });
      return;
    }
    if (outcome.kind === 'dead') {
      this.records.record(request.ref, run, 'dead_letter', { reason: `${outcome.reason} (rejected to the queue's dead-letter exchange)` });
      this.deps.log.warn({ function: this.name, queue: this.subscription.queue, callId: request.callId, reason: outcome.reason }, 'RabbitMQ message rejected to its dead-letter exchange');
      return;
    }
    const { output } = this.subscription;
    if (output && attempt.sink) {
      try {
        await this.publish(delivery, request, attempt);
        this.metrics.published.inc({ function_name: this.name, result: 'published' });
      } catch (error) {
        this.metrics.published.inc({ function_name: this.name, result: 'failed' });
        this.records.record(request.ref, run, 'retry', { reason: `the answer was not published to ${output.text}: ${(error as Error).message} (the message comes again)` });
        throw error;
      }
    }
    this.records.record(request.ref, run, 'success', output ? { published: output.text } : {});
  }

  private async publish(delivery: Delivery, request: TriggerRequest, attempt: Attempt): Promise<void> {
    const { output } = this.subscription;
    const sink = attempt.sink!;
    const contentType = sink.headers['content-type'];
    const sourceId = delivery.headers['x-rabbitmq-msg-id']?.[0];
    await this.publisher.publish(output!.exchange, output!.routingKey, Buffer.from(sink.body), {
      messageId: randomUUID(),
      correlationId: sourceId ?? request.callId,
      timestamp: Math.floor(Date.now() / 1000),
      contentType: String(Array.isArray(contentType) ? contentType[0] : (contentType ?? 'application/octet-stream')),
      headers: {
        'x-call-id': request.callId,
        ...(sourceId ? { 'x-source-message-id': sourceId } : {}),
        'x-source-queue': this.subscription.queue,
        'x-function-name': this.name,
        'x-function-status': String(attempt.status),
        'x-duration-seconds': (attempt.durationMs / 1000).toFixed(6),
      },
    });
  }
}
