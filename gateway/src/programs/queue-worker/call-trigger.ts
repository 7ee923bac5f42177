// The queue worker's trigger adapter: a queued call (stored by the gateway's
// /async-function) in, its request out; the outcome back as the callback to
// X-Callback-Url (the function's answer, or the dead letter's notice), the
// dead letter, and the worker's metrics. The delivery step itself is the one
// every trigger shares (triggers/delivery.ts).
import type { Logger } from 'pino';
import type { FunctionLookup } from '../../core/functions/view.js';
import type { FunctionRef } from '../../core/functions/types.js';
import type { AsyncCalls } from '../../queue/async-calls.js';
import { CALL_HEADER, decodeCall, type QueuedCall } from '../../queue/call-message.js';
import type { Delivery } from '../../queue/consumers.js';
import type { Attempt, Settled, TriggerAdapter, TriggerRequest } from '../../triggers/delivery.js';
import { retryPolicyOf, type TriggerLimitSettings } from '../../triggers/limits.js';
import { CallbackRefused, type CallbackSender } from './callback.js';
import type { WorkerMetrics } from './metrics.js';

export interface CallTriggerDeps {
  functions: FunctionLookup;
  calls: AsyncCalls;
  callbacks: CallbackSender;
  metrics: WorkerMetrics;
  settings: TriggerLimitSettings;
  log: Logger;
  nameOf(ref: FunctionRef): string;
}

export class CallTrigger implements TriggerAdapter {
  /** The decoded calls of the deliveries in hand (the request is made from it; the callback needs it again). */
  private readonly calls = new WeakMap<TriggerRequest, QueuedCall>();

  constructor(private readonly deps: CallTriggerDeps) {}

  request(delivery: Delivery): TriggerRequest | undefined {
    const name = this.deps.nameOf;
    let call: QueuedCall;
    try {
      call = decodeCall(delivery.headers[CALL_HEADER]?.[0], delivery.data);
    } catch (error) {
      // Not written by a gateway: nothing to call, nobody to answer.
      this.deps.log.error({ err: error, subject: delivery.subject, seq: delivery.seq }, 'dropping a queued message that is not a call');
      return undefined;
    }
    if (delivery.redelivered) this.deps.metrics.redeliveries.inc({ function_name: name(call.ref) });
    const request: TriggerRequest = {
      ref: call.ref,
      method: call.method,
      path: call.query ? `${call.path}?${call.query}` : call.path,
      headers: call.headers,
      body: call.body,
      callId: call.callId,
      source: 'async',
    };
    this.calls.set(request, call);
    return request;
  }

  retryPolicy(ref: FunctionRef) {
    return retryPolicyOf(this.deps.functions.get(ref)?.status.labels ?? {}, this.deps.settings);
  }

  async deadLetter(delivery: Delivery, request: TriggerRequest, reason: string, attempt: Attempt): Promise<number> {
    const failure = { status: attempt.status, reason, attempts: delivery.deliveryCount, failedAt: Date.now() };
    // Keyed by the queued message: a worker that dies after this line does not make a second dead letter.
    return this.deps.calls.addDeadLetter(this.calls.get(request)!, failure, `dead-${this.deps.calls.streamOf(request.ref).stream}-${delivery.seq}`);
  }

  async settled(delivery: Delivery, request: TriggerRequest, outcome: Settled): Promise<void> {
    const { metrics, log } = this.deps;
    const name = this.deps.nameOf(request.ref);
    const call = this.calls.get(request)!;
    const context = { function: name, callId: call.callId, attempt: delivery.deliveryCount, status: outcome.attempt.status };
    if (outcome.kind === 'retry') {
      metrics.retries.inc({ function_name: name });
      log.info({ ...context, retryInMs: outcome.delayMs, reason: outcome.reason }, 'asynchronous call failed: trying again later');
      return;
    }
    const durationSeconds = outcome.attempt.durationMs / 1000;
    if (outcome.kind === 'dead') {
      metrics.deadLettered.inc({ function_name: name });
      metrics.invocations.inc({ function_name: name, outcome: 'dead_letter' });
      log.warn({ ...context, deadLetter: outcome.deadLetter, reason: outcome.reason }, 'asynchronous call kept as a dead letter');
      await this.callBack(call, delivery, {
        status: outcome.attempt.status,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: Buffer.from(outcome.reason),
        durationSeconds,
        extra: { 'x-async-dead-letter': String(outcome.deadLetter), 'x-async-attempts': String(delivery.deliveryCount) },
      });
      return;
    }
    const { sink, status, reason } = outcome.attempt;
    metrics.invocations.inc({ function_name: name, outcome: status >= 200 && status < 300 ? 'success' : 'failure' });
    await this.callBack(call, delivery, {
      status,
      headers: sink?.status ? sink.headers : { 'content-type': 'text/plain; charset=utf-8' },
      body: sink?.status ? sink.body : Buffer.from(reason),
      durationSeconds,
      extra: sink?.truncated ? { 'x-answer-truncated': 'true' } : {},
    });
  }

  private async callBack(call: QueuedCall, delivery: Delivery, answer: Omit<Parameters<CallbackSender['send']>[1], 'callId' | 'functionName'>): Promise<void> {
    if (!call.callbackUrl) return;
    const name = this.deps.nameOf(call.ref);
    try {
      await this.deps.callbacks.send(call.callbackUrl, { callId: call.callId, functionName: name, ...answer }, () => delivery.working());
      this.deps.metrics.callbacks.inc({ function_name: name, result: 'delivered' });
    } catch (error) {
      if (error instanceof CallbackRefused) {
        this.deps.metrics.callbacks.inc({ function_name: name, result: 'refused' });
        this.deps.log.warn({ callId: call.callId, callbackUrl: call.callbackUrl }, error.message);
        return;
      }
      // The call was made: making it again for a receiver that fails would repeat its effects.
      this.deps.metrics.callbacks.inc({ function_name: name, result: 'failed' });
      this.deps.log.warn({ callId: call.callId, callbackUrl: call.callbackUrl, err: error }, 'callback failed after its attempts');
    }
  }
}
