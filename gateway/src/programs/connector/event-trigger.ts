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
import { retryReason, TriggerRecords } from './trigger-records.js';

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
  private readonly records: TriggerRecords;

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly target: EventTarget,
    runs: RunRecorder,
  ) {
    this.name = deps.nameOf(target.ref);
    this.records = new TriggerRecords(deps.metrics, runs, { functionName: this.name, trigger: target.kind, delivery: target.kind === 'topic' ? 'durable' : 'schedule' });
  }

  request(delivery: Delivery): TriggerRequest {
    const subject = this.target.kind === 'topic' ? delivery.subject : CRON_TOPIC;
    this.records.arrived(delivery, subject);
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
    const { attempt } = outcome;
    const run = this.records.run(this.target.kind === 'topic' ? delivery.subject : (this.target.schedule ?? CRON_TOPIC), delivery, request, attempt);
    if (outcome.kind === 'retry') {
      this.records.record(request.ref, run, 'retry', { reason: retryReason(outcome) });
    } else if (outcome.kind === 'dead') {
      this.records.record(request.ref, run, 'dead_letter', { reason: `${outcome.reason} (dead letter ${outcome.deadLetter})` });
      this.deps.log.warn({ function: this.name, callId: request.callId, deadLetter: outcome.deadLetter, reason: outcome.reason }, 'event kept as a dead letter');
    } else {
      const success = attempt.status >= 200 && attempt.status < 300;
      this.records.record(request.ref, run, success ? 'success' : 'failure', success ? {} : { reason: attempt.reason });
    }
  }
}
