// What the connector's three kinds of subscription share: the per-function
// limit of invocations in flight, the invocation itself, the run record and
// the metrics of its outcome.
import type { Logger } from 'pino';
import type { FunctionView } from '../core/functions/view.js';
import { qualifiedName } from '../core/functions/names.js';
import type { InvocationCore } from '../core/invocation/core.js';
import { keyOf, type FunctionRef } from '../programs/gateway/provider/types.js';
import { labelNumber, MAX_INFLIGHT_LABEL } from './async-consumer.js';
import type { EventStreams, RunRecord } from '../queue/event-streams.js';
import type { AsyncQueue } from '../queue/async-queue.js';
import { invokeWithEvent, type Attempt, type EventRequest } from './delivery.js';
import type { ConnectorMetrics } from '../programs/connector/metrics.js';

export interface ConnectorSettings {
  DEFAULT_NAMESPACE: string;
  ASYNC_MAX_ATTEMPTS: number;
  ASYNC_RETRY_DELAY: number;
  ASYNC_RETRY_MAX_DELAY: number;
  ASYNC_MAX_INFLIGHT: number;
  ASYNC_ACK_WAIT: number;
  ASYNC_ANSWER_LIMIT: number;
}

export interface HandlerDeps {
  core: Pick<InvocationCore, 'invoke'>;
  functions: FunctionView;
  streams: EventStreams;
  queue: AsyncQueue;
  metrics: ConnectorMetrics;
  log: Logger;
  settings: ConnectorSettings;
}

/** At-most-once messages waiting for a function that has its limit in flight, at most; beyond, a message is dropped (and counted). */
export const MAX_WAITING = 1_000;
/** Successful runs recorded per function and second at most (failures always): the UI's list is a sample under load. */
const RUNS_PER_SECOND = 10;

/** The function's limit of concurrent event invocations (the async label: com.openfaas.async.max-inflight). */
export function inflightLimit(deps: HandlerDeps, ref: FunctionRef): number {
  const labels = deps.functions.get(ref)?.status.labels ?? {};
  return labelNumber(labels, MAX_INFLIGHT_LABEL, deps.settings.ASYNC_MAX_INFLIGHT, 10_000);
}

export function nameOf(deps: HandlerDeps, ref: FunctionRef): string {
  return qualifiedName(ref, deps.settings.DEFAULT_NAMESPACE);
}

/** Invokes, with the in-flight gauge kept. */
export async function invoke(deps: HandlerDeps, ref: FunctionRef, request: EventRequest): Promise<Attempt> {
  const name = nameOf(deps, ref);
  deps.metrics.inflight.inc({ function_name: name });
  try {
    return await invokeWithEvent(deps.core, ref, request, deps.settings.ASYNC_ANSWER_LIMIT);
  } finally {
    deps.metrics.inflight.dec({ function_name: name });
  }
}

/** Keeps runs for the UI, failures always, successes up to RUNS_PER_SECOND per function. */
export class RunRecorder {
  private readonly budget = new Map<string, { second: number; used: number }>();

  constructor(private readonly deps: HandlerDeps) {}

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
    this.deps.streams.recordRun(ref, run).catch((error: unknown) => this.deps.log.debug({ err: error }, 'run not recorded'));
  }

  forget(ref: FunctionRef): void {
    this.budget.delete(keyOf(ref));
  }
}

/** Invocations in flight per function, at most `limit`, the rest waiting in order (at most MAX_WAITING). */
export class Gate {
  private inflight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(public limit: number) {}

  /** Runs `task` when there is room; false when the wait list is full (the task is not run). */
  run(task: () => Promise<void>): boolean {
    const start = () => {
      this.inflight++;
      void task().finally(() => {
        this.inflight--;
        const next = this.waiting.shift();
        if (next) next();
      });
    };
    if (this.inflight < this.limit) {
      start();
      return true;
    }
    if (this.waiting.length >= MAX_WAITING) return false;
    this.waiting.push(start);
    return true;
  }

  get busy(): number {
    return this.inflight + this.waiting.length;
  }
}
