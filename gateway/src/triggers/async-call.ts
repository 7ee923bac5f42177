// One delivery of a queued call, start to end: decode it, make the call
// through the invocation core with a CollectingSink, decide (retry.ts) what
// follows, keep a dead letter, POST the callback, and only then acknowledge
// the message. Apart from the JetStream consumer (worker.ts) so that the
// order of these steps can be tested with a message of the test's own.
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { CALL_HEADER, decodeCall, type Failure, type QueuedCall } from '../queue/call-message.js';
import { decide, type RetryPolicy } from './retry.js';
import { HttpError, statusOf } from '../programs/gateway/http/errors.js';
import type { Invocation } from '../core/invocation/core.js';
import { CollectingSink, type AnswerSink } from '../core/invocation/sink.js';
import { ClientGone } from '../core/upstream/client-gone.js';
import type { UpstreamBody } from '../core/upstream/forward.js';
import { CallbackRefused, type CallbackSender } from '../programs/queue-worker/callback.js';
import type { WorkerMetrics } from '../programs/queue-worker/metrics.js';

/** What the processor uses of a delivered message. */
export type Delivery = Pick<JsMsg, 'info' | 'redelivered' | 'headers' | 'data' | 'seq' | 'subject' | 'working' | 'nak' | 'term' | 'ackAck'>;

export interface ProcessorSettings {
  ASYNC_RETRY_DELAY: number;
  ASYNC_RETRY_MAX_DELAY: number;
  ASYNC_ACK_WAIT: number;
  ASYNC_ANSWER_LIMIT: number;
}

export interface ProcessorDeps {
  invoke: (invocation: Invocation, sink: AnswerSink) => Promise<number>;
  addDeadLetter: (call: QueuedCall, failure: Failure, messageId: string) => Promise<number>;
  /** The stream the deliveries come from (names dead letters' message ids). */
  stream: string;
  callbacks: CallbackSender;
  metrics: WorkerMetrics;
  settings: ProcessorSettings;
  log: Logger;
  /** The function's name in metrics and logs. */
  name: string;
}

export class CallProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async process(message: Delivery, maxAttempts: number): Promise<void> {
    const { metrics, settings, log } = this.deps;
    const name = this.deps.name;
    const attempt = message.info.deliveryCount;
    if (message.redelivered) metrics.redeliveries.inc({ function_name: name });
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
    metrics.inflight.inc({ function_name: name });
    try {
      const started = performance.now();
      const result = await this.attempt(call);
      const durationSeconds = (performance.now() - started) / 1000;
      const policy: RetryPolicy = {
        maxAttempts,
        initialDelayMs: settings.ASYNC_RETRY_DELAY * 1000,
        maxDelayMs: settings.ASYNC_RETRY_MAX_DELAY * 1000,
      };
      const outcome = decide(attempt, result.status, result.reason, policy, { notFound: result.notFound });
      const context = { callId: call.callId, attempt, status: result.status };
      if (outcome.kind === 'retry') {
        metrics.retries.inc({ function_name: name });
        log.info({ ...context, retryInMs: outcome.delayMs, reason: outcome.reason }, 'asynchronous call failed: trying again later');
        message.nak(outcome.delayMs);
        return;
      }
      if (outcome.kind === 'dead') {
        const failure = { status: result.status, reason: outcome.reason, attempts: attempt, failedAt: Date.now() };
        // Keyed by the queued message: a worker that dies after this line does not make a second dead letter.
        const id = await this.deps.addDeadLetter(call, failure, `dead-${this.deps.stream}-${message.seq}`);
        metrics.deadLettered.inc({ function_name: name });
        metrics.invocations.inc({ function_name: name, outcome: 'dead_letter' });
        log.warn({ ...context, deadLetter: id, reason: outcome.reason }, 'asynchronous call kept as a dead letter');
        await this.callBack(call, {
          status: result.status,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: Buffer.from(outcome.reason),
          durationSeconds,
          extra: { 'x-async-dead-letter': String(id), 'x-async-attempts': String(attempt) },
        }, message);
      } else {
        const sink = result.sink!;
        metrics.invocations.inc({ function_name: name, outcome: outcome.status >= 200 && outcome.status < 300 ? 'success' : 'failure' });
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
        log.warn({ ...context, err: error }, 'acknowledgement not confirmed: the call may be made again');
      }
    } finally {
      clearInterval(keepAlive);
      metrics.inflight.dec({ function_name: name });
    }
  }

  /** One attempt through the invocation core: the status, and the answer when the function gave one. */
  private async attempt(call: QueuedCall): Promise<{ status: number; reason: string; sink?: CollectingSink; notFound?: boolean }> {
    const sink = new CollectingSink(this.deps.settings.ASYNC_ANSWER_LIMIT);
    try {
      const status = await this.deps.invoke(
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
    message: Delivery,
  ): Promise<void> {
    if (!call.callbackUrl) return;
    const name = this.deps.name;
    const log = this.deps.log;
    try {
      await this.deps.callbacks.send(call.callbackUrl, { callId: call.callId, functionName: name, ...answer }, () => message.working());
      this.deps.metrics.callbacks.inc({ function_name: name, result: 'delivered' });
    } catch (error) {
      if (error instanceof CallbackRefused) {
        this.deps.metrics.callbacks.inc({ function_name: name, result: 'refused' });
        log.warn({ callId: call.callId, callbackUrl: call.callbackUrl }, error.message);
        return;
      }
      // The call was made: making it again for a receiver that fails would repeat its effects.
      this.deps.metrics.callbacks.inc({ function_name: name, result: 'failed' });
      log.warn({ callId: call.callId, callbackUrl: call.callbackUrl, err: error }, 'callback failed after its attempts');
    }
  }
}

/** A stored body, sent (and sent again on a retry) as one Buffer. */
function bufferBody(bytes: Uint8Array): UpstreamBody {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { started: false, tooLarge: false, forUndici: () => buffer };
}
