// What the connector's trigger adapters for JetStream (event-trigger.ts) and
// RabbitMQ (rabbitmq-trigger.ts) both keep of a delivery: its arrival in the
// events_* metrics, and each attempt as an invocation counted by outcome and
// a run the UI lists.
import type { FunctionRef } from '../../core/functions/types.js';
import type { Delivery } from '../../queue/consumers.js';
import type { RunRecord } from '../../queue/events.js';
import type { Attempt, TriggerRequest } from '../../triggers/delivery.js';
import type { RunRecorder } from './deps.js';
import type { ConnectorMetrics } from './metrics.js';

/** An attempt's run before its outcome is known. */
export type AttemptRun = Omit<RunRecord, 'outcome'>;

/** A retried attempt's reason: why, and when it comes again. */
export const retryReason = (outcome: { reason: string; delayMs: number }): string => `${outcome.reason}: again in ${(outcome.delayMs / 1000).toFixed(1)} s`;

export class TriggerRecords {
  constructor(
    private readonly metrics: ConnectorMetrics,
    private readonly runs: RunRecorder,
    /** The function's name and how its messages come, as the metrics and the runs say it. */
    private readonly source: { functionName: string; trigger: RunRecord['trigger']; delivery: RunRecord['delivery'] },
  ) {}

  /** The first delivery of a message received (and how long it waited since it was stored), a later one a redelivery. */
  arrived(delivery: Delivery, subject: string): void {
    const { metrics, source } = this;
    if (delivery.deliveryCount === 1) {
      metrics.received.inc({ subject, delivery: source.delivery });
      metrics.delay.observe({ delivery: source.delivery }, Math.max(0, Date.now() - delivery.storedAt) / 1000);
    } else metrics.redeliveries.inc({ function_name: source.functionName, trigger: source.trigger });
  }

  /** The run of an attempt that has just ended (it started durationMs ago). */
  run(subject: string, delivery: Delivery, request: TriggerRequest, attempt: Attempt): AttemptRun {
    return {
      at: Date.now() - attempt.durationMs,
      trigger: this.source.trigger,
      subject,
      delivery: this.source.delivery,
      status: attempt.status,
      durationMs: attempt.durationMs,
      attempt: delivery.deliveryCount,
      callId: request.callId,
    };
  }

  /** Counts the invocation with its outcome and records the run. */
  record(ref: FunctionRef, run: AttemptRun, outcome: RunRecord['outcome'], extra: Pick<RunRecord, 'reason' | 'published'> = {}): void {
    this.metrics.invocations.inc({ function_name: this.source.functionName, trigger: this.source.trigger, outcome });
    this.runs.record(ref, { ...run, outcome, ...extra });
  }
}
