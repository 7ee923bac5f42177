// The queue worker's work: one runner (triggers/runner.ts) per function the
// gateways know, pulling the function's durable consumer of its own stream
// of calls. The consumer's max_ack_pending is the function's limit on
// concurrent asynchronous calls (label com.openfaas.async.max-inflight,
// default ASYNC_MAX_INFLIGHT): JetStream itself holds the limit across
// worker replicas, and a slow function never holds up another's calls.
// A removed function's calls stay queued (a function deployed again under
// the name gets them); its consumer and stream go once they hold nothing.
import type { Logger } from 'pino';
import type { FunctionLookup } from '../../core/functions/view.js';
import { keyOf, type FunctionRef } from '../../core/functions/types.js';
import type { AsyncCalls } from '../../queue/async-calls.js';
import { consumerName } from '../../queue/call-message.js';
import { queueLimitsOf, type StreamSettings } from '../../queue/streams.js';
import { inflightLimitOf, type TriggerLimitSettings } from '../../triggers/limits.js';
import { RunnerSet, type RunnerDeps } from '../../triggers/runner.js';
import type { CallTrigger } from './call-trigger.js';
import type { WorkerMetrics } from './metrics.js';

/** How often each function's stream is checked for calls left behind by a crash of NATS. */
const SWEEP_EVERY_MS = 30_000;

export interface WorkerDeps {
  functions: FunctionLookup;
  calls: AsyncCalls;
  trigger: CallTrigger;
  metrics: WorkerMetrics;
  runner: RunnerDeps;
  settings: TriggerLimitSettings & Pick<StreamSettings, 'QUEUE_MAX_MESSAGES' | 'QUEUE_MAX_BYTES'> & { ASYNC_ACK_WAIT: number };
  log: Logger;
  nameOf(ref: FunctionRef): string;
}

export class QueueWorker {
  private readonly runners: RunnerSet;
  private unsubscribe: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WorkerDeps) {
    this.runners = new RunnerSet(deps.runner);
  }

  start(): void {
    this.unsubscribe = this.deps.functions.onChange((ref, entry) => (entry ? this.follow(ref) : void this.forget(ref)));
    for (const { status } of this.deps.functions.list()) this.follow(status);
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
  }

  /** Calls being made now, per function (the async_inflight gauge). */
  inflight(): Array<{ name: string; count: number }> {
    return this.runners.entries().map(([key, runner]) => ({ name: key, count: runner.inflight }));
  }

  /** Stops taking calls; resolves once the calls in hand are done (or after graceMs: those are delivered again). */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.sweepTimer);
    await this.runners.stop(graceMs);
  }

  private follow(ref: FunctionRef): void {
    const { calls, functions, settings } = this.deps;
    const labels = () => functions.get(ref)?.status.labels ?? {};
    const { stream, subject } = calls.streamOf(ref);
    this.runners.ensure(this.deps.nameOf(ref), () => ({
      adapter: this.deps.trigger,
      spec: () => ({ stream, name: consumerName(ref), filter: subject, deliverNew: false, maxAckPending: inflightLimitOf(labels(), settings), ackWaitSeconds: settings.ASYNC_ACK_WAIT }),
      // The consumer reads the function's stream: made here when no call has been queued yet.
      prepare: () => calls.ensureStream(ref, queueLimitsOf(labels(), settings)),
    }));
  }

  /** A removed function: its runner stops; its consumer and stream go once no call waits (another worker may have done it). */
  private async forget(ref: FunctionRef): Promise<void> {
    await this.runners.remove(this.deps.nameOf(ref));
    if (this.deps.functions.get(ref)) return; // deployed again meanwhile
    try {
      if (await this.deps.calls.removeIfEmpty(ref)) this.deps.log.info({ function: this.deps.nameOf(ref) }, 'removed the queue of a function that is gone');
    } catch {
      // NATS away: nothing is lost by keeping an empty stream.
    }
  }

  /** Looks for calls a crashed NATS left behind (AsyncCalls.requeueStranded). */
  private async sweep(): Promise<void> {
    for (const { status } of this.deps.functions.list()) {
      const ref = { name: status.name, namespace: status.namespace };
      try {
        const moved = await this.deps.calls.requeueStranded(ref, consumerName(ref));
        if (moved > 0) {
          this.deps.metrics.stranded.inc({ function_name: this.deps.nameOf(ref) }, moved);
          this.deps.log.warn({ function: keyOf(ref), moved }, 'queued again calls that NATS kept after their acknowledgement (after a crash of NATS)');
        }
      } catch (error) {
        this.deps.log.debug({ err: error, function: keyOf(ref) }, 'no sweep for stranded calls now');
      }
    }
  }
}
