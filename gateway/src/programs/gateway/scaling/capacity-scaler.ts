// Capacity scaling, run by every gateway: every CAPACITY_SCALE_INTERVAL it
// reads each function's demand (calls in flight and waiting in every
// gateway, queue worker and connector, from their load reports:
// queue/load-reports.ts) and, for each function labelled
// com.openfaas.scale.type=capacity, applies capacity-policy.ts's decision.
//
// Every gateway looks (so each keeps the history a decision needs), but only
// one applies: the gateway with the smallest id among those that report
// (LoadBoard.decides). Two gateways deciding on figures taken half a second
// apart would want 14 and 15 replicas in turn and move the function back
// and forth. If that gateway stops, its reports stop and the next one
// decides within STALE_AFTER_MS. While NATS is away the figures of the
// other programs are not known: nothing is decided on part of them.
// Each change is also a compare-and-set (ifReplicas) in the orchestrator.
import { concurrencyOf } from '../../../core/functions/concurrency.js';
import { keyOf, ProviderError, type FunctionRef } from '../provider/types.js';
import type { LoadBoard } from '../../../queue/load-reports.js';
import { Periodic } from './periodic.js';
import { applyReplicas, limitsFor, locked, nameOf, type ScalingContext } from './context.js';
import { capacityTargetOf, decideCapacity, isCapacityScaled, type CapacityMemory, type CapacityWindows } from './capacity-policy.js';
import type { Waker } from './wake.js';

export interface CapacityScalerOptions {
  board: LoadBoard;
  intervalMs: number;
  windows: CapacityWindows;
}

export class CapacityScaler extends Periodic {
  private readonly memory = new Map<string, CapacityMemory>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly context: ScalingContext,
    private readonly waker: Waker,
    private readonly options: CapacityScalerOptions,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.options.intervalMs;
  }

  protected async look(): Promise<void> {
    const { clock } = this.context;
    const { board } = this.options;
    const now = clock.now();
    const decides = board.complete && board.decides;
    const changes: Array<Promise<void>> = [];
    const seen = new Set<string>();
    for (const { status } of this.context.functions.list()) {
      const key = keyOf(status);
      if (!isCapacityScaled(status.labels)) continue;
      seen.add(key);
      if (this.waker.isWaking(status)) continue;
      const limits = limitsFor(this.context, status, status.labels);
      const target = capacityTargetOf(status.labels, concurrencyOf(status));
      if (target.problem && !this.warned.has(key)) {
        this.warned.add(key);
        this.context.log.warn({ function: nameOf(this.context, status), problem: target.problem }, 'capacity target ignored');
      }
      const sum = board.sum(key);
      const decision = decideCapacity({
        now,
        replicas: status.replicas,
        ready: status.availableReplicas,
        demand: sum.demand,
        current: sum.inflight + sum.waiting,
        lastBusy: board.lastBusy(key),
        limits,
        target: target.target,
        windows: this.options.windows,
        memory: this.memory.get(key),
      });
      this.memory.set(key, decision.memory);
      if (decides && decision.to !== undefined) changes.push(this.apply({ name: status.name, namespace: status.namespace }, status.replicas, decision.to, decision.reason));
    }
    for (const key of this.memory.keys()) {
      if (seen.has(key)) continue;
      this.memory.delete(key);
      this.warned.delete(key);
    }
    await Promise.all(changes);
  }

  private apply(ref: FunctionRef, seen: number, wanted: number, reason: string): Promise<void> {
    const { log, activity } = this.context;
    const name = nameOf(this.context, ref);
    return locked(this.context, ref, async () => {
      // Decided on the view; made only if the function still has those replicas (here, and in the orchestrator).
      const entry = this.context.functions.get(ref);
      if (!entry || entry.status.replicas !== seen || this.waker.isWaking(ref)) return;
      const started = this.context.clock.now();
      await applyReplicas(this.context, ref, wanted, { ifReplicas: seen }, 'capacity');
      if (wanted > seen) activity.touch(keyOf(ref));
      // How long the orchestrator took: under load it, not the decision, is most of a scale-up's delay.
      const ms = this.context.clock.now() - started;
      log.info({ function: name, from: seen, to: wanted, ms }, `scaled ${name} from ${seen} to ${wanted} replicas (${reason}; the orchestrator took ${ms} ms)`);
    }).catch((error: unknown) => {
      // Another gateway made a change first: it is seen at the next look.
      if (error instanceof ProviderError && error.kind === 'conflict') return;
      log.error({ err: error, function: name }, `capacity scaling of ${name} failed`);
    });
  }
}
