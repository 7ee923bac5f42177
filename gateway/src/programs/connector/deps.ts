// What the connector's parts (the reconciler, at-most-once subscriptions,
// durable and schedule triggers, tickers) share, and the record of each
// function's last runs that the UI lists.
import type { Logger } from 'pino';
import type { FunctionLookup } from '../../core/functions/view.js';
import { keyOf, type FunctionRef } from '../../core/functions/types.js';
import type { AsyncCalls } from '../../queue/async-calls.js';
import type { EventBus, RunRecord } from '../../queue/events.js';
import { inflightLimitOf } from '../../triggers/limits.js';
import type { RunnerDeps } from '../../triggers/runner.js';
import type { ConnectorMetrics } from './metrics.js';
import type { ConnectorSettings } from './settings.js';

export interface ConnectorDeps {
  functions: FunctionLookup;
  events: EventBus;
  /** Durable events that fail for good become dead letters of the async queue (which can replay them). */
  calls: AsyncCalls;
  metrics: ConnectorMetrics;
  runner: RunnerDeps;
  settings: ConnectorSettings;
  log: Logger;
  nameOf(ref: FunctionRef): string;
}

/** The function's limit of concurrent event invocations (the async label: com.openfaas.async.max-inflight). */
export function inflightLimit(deps: ConnectorDeps, ref: FunctionRef): number {
  return inflightLimitOf(deps.functions.get(ref)?.status.labels ?? {}, deps.settings);
}

/** Successful runs recorded per function and second at most (failures always): the UI's list is a sample under load. */
const RUNS_PER_SECOND = 10;

/** Keeps runs for the UI, failures always, successes up to RUNS_PER_SECOND per function. */
export class RunRecorder {
  private readonly budget = new Map<string, { second: number; used: number }>();

  constructor(private readonly deps: Pick<ConnectorDeps, 'events' | 'log'>) {}

  record(ref: FunctionRef, run: RunRecord): void {
    if (run.outcome === 'success') {
      const second = Math.floor(run.at / 1000);
      const key = keyOf(ref);
      const b = this.budget.get(key);
      if (b && b.second === second) {
        if (b.used >= RUNS_PER_SECOND) return;
        b.used++;
      } else this.budget.set(key, { second, used: 1 });
    }
    this.deps.events.recordRun(ref, run).catch((error: unknown) => this.deps.log.debug({ err: error }, 'run not recorded'));
  }
}
