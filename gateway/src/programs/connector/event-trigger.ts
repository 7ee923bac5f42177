// The connector's trigger adapter for durable topics and schedules: a
// message of faas-events (or a tick of faas-cron) in, the request out (its
// headers become request headers, X-Topic the subject); the outcome back as
// a run record for the UI, the metrics, and, after its attempts, a dead
// letter of the async queue (which can be replayed). The delivery step is
// the one every trigger shares (triggers/delivery.ts).
import type { FunctionRef } from '../../core/functions/types.js';
import { CRON_TOPIC } from '../../core/events/subjects.js';
import type { Delivery } from '../../queue/consumers.js';
import { eventHeaders, type Attempt, type Settled, type TriggerAdapter, type TriggerRequest } from '../../triggers/delivery.js';
import { retryPolicyOf } from '../../triggers/limits.js';
import type { ConnectorDeps, RunRecorder } from './deps.js';

export interface EventTarget {
  ref: FunctionRef;
  /** The durable consumer's name. */
  consumer: string;
  kind: 'topic' | 'schedule';
  /** Schedules: the expression (a header of the invocation). */
  schedule?: string;
}

export class EventTrigger implements TriggerAdapter {
  private readonly name: string;

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly target: EventTarget,
    private readonly runs: RunRecorder,
  ) {
    this.name = deps.nameOf(target.ref);
  }

  private get delivery(): 'durable' | 'schedule' {
    return this.target.kind === 'topic' ? 'durable' : 'schedule';
  }

  request(delivery: Delivery): TriggerRequest {
    const { metrics } = this.deps;
    const subject = this.target.kind === 'topic' ? delivery.subject : CRON_TOPIC;
    if (delivery.deliveryCount === 1) {
      metrics.received.inc({ subject: this.target.kind === 'topic' ? delivery.subject : CRON_TOPIC, delivery: this.delivery });
      metrics.delay.observe({ delivery: this.delivery }, Math.max(0, Date.now() - delivery.storedAt) / 1000);
    } else metrics.redeliveries.inc({ function_name: this.name, trigger: this.target.kind });
    const extra: Record<string, string> = { 'x-delivery-attempt': String(delivery.deliveryCount) };
    if (this.target.schedule) extra['x-schedule'] = this.target.schedule;
    const { headers, callId } = eventHeaders(delivery.headers, subject, extra);
    return { ref: this.target.ref, method: 'POST', path: '/', headers, body: delivery.data, callId, source: this.target.kind };
  }

  retryPolicy(ref: FunctionRef) {
    return retryPolicyOf(this.deps.functions.get(ref)?.status.labels ?? {}, this.deps.settings);
  }

  deadLetter(delivery: Delivery, request: TriggerRequest, reason: string, attempt: Attempt): Promise<number> {
    const failure = { status: attempt.status, reason, attempts: delivery.deliveryCount, failedAt: Date.now() };
    return this.deps.calls.addDeadLetter(
      { callId: request.callId, ref: request.ref, method: 'POST', path: '/', query: '', headers: request.headers, acceptedAt: Math.round(delivery.storedAt), body: delivery.data },
      failure,
      // Keyed by the message and the consumer: a connector that dies after this line does not make a second one.
      `dead-${delivery.subject}-${this.target.consumer}-${delivery.seq}`,
    );
  }

  async settled(delivery: Delivery, request: TriggerRequest, outcome: Settled): Promise<void> {
    const { metrics, log } = this.deps;
    const trigger = this.target.kind;
    const { attempt } = outcome;
    const run = {
      at: Date.now() - attempt.durationMs,
      trigger,
      subject: trigger === 'topic' ? delivery.subject : (this.target.schedule ?? CRON_TOPIC),
      delivery: this.delivery,
      status: attempt.status,
      durationMs: attempt.durationMs,
      attempt: delivery.deliveryCount,
      callId: request.callId,
    } as const;
    if (outcome.kind === 'retry') {
      metrics.invocations.inc({ function_name: this.name, trigger, outcome: 'retry' });
      this.runs.record(request.ref, { ...run, outcome: 'retry', reason: `${outcome.reason}: again in ${(outcome.delayMs / 1000).toFixed(1)} s` });
    } else if (outcome.kind === 'dead') {
      metrics.invocations.inc({ function_name: this.name, trigger, outcome: 'dead_letter' });
      this.runs.record(request.ref, { ...run, outcome: 'dead_letter', reason: `${outcome.reason} (dead letter ${outcome.deadLetter})` });
      log.warn({ function: this.name, callId: request.callId, deadLetter: outcome.deadLetter, reason: outcome.reason }, 'event kept as a dead letter');
    } else {
      const success = attempt.status >= 200 && attempt.status < 300;
      metrics.invocations.inc({ function_name: this.name, trigger, outcome: success ? 'success' : 'failure' });
      this.runs.record(request.ref, { ...run, outcome: success ? 'success' : 'failure', ...(success ? {} : { reason: attempt.reason }) });
    }
  }
}
