// Queue-depth autoscaling, run by every gateway: every QUEUE_SCALE_INTERVAL
// it reads the backlog of every function from JetStream (asynchronous calls,
// durable topic messages and schedule ticks, waiting or being worked on: see
// queue/backlog.ts) and, for each function labelled
// com.openfaas.scale.type=queue, applies queue-policy.ts's decision.
//
// Several gateways do this at once from the same figures, so they want the
// same replicas; each change is a compare-and-set (ifReplicas) in the
// orchestrator, so a change one gateway made is not made again by another
// (it reads the new replicas and wants nothing more). Before putting a
// function to sleep a gateway also checks that no gateway has invoked it
// synchronously in its idle period (Prometheus, job "gateway"): a function
// busy through another gateway is never scaled to 0 under its callers.
// It also exports every function's backlog as gateway_function_pending_messages.
import { Gauge, type Registry } from 'prom-client';
import { keyOf, ProviderError, type FunctionRef } from '../provider/types.js';
import { Periodic } from './periodic.js';
import { applyReplicas, limitsFor, locked, nameOf, type InvocationHistory, type ScalingContext } from './context.js';
import { decideQueue, isQueueScaled, queueTargetOf, type QueueMemory } from './queue-policy.js';
import type { Waker } from './wake.js';
import { backlogOf, type Backlog, type BacklogReader } from '../../../queue/backlog.js';

export interface QueueScalerOptions {
  backlog: BacklogReader;
  /** Synchronous invocations through every gateway; none: this gateway's own count decides. */
  syncHistory?: InvocationHistory;
  intervalMs: number;
  scaleDownDelayMs: number;
  /** Where gateway_function_pending_messages is registered. */
  registry?: Registry;
}

export class QueueScaler extends Periodic {
  private readonly memory = new Map<string, QueueMemory>();
  private last = new Map<string, Backlog>();
  private warned = false;

  constructor(
    private readonly context: ScalingContext,
    private readonly waker: Waker,
    private readonly options: QueueScalerOptions,
  ) {
    super();
    if (options.registry) {
      const latest = () => this.last;
      const functions = () => this.context.functions.list();
      const name = (ref: FunctionRef) => nameOf(this.context, ref);
      new Gauge({
        name: 'gateway_function_pending_messages',
        help: 'Messages pending for each function (asynchronous calls, durable topic messages and schedule ticks, waiting or being worked on), as the gateway last read them from JetStream; every gateway reports the same figure: aggregate with max',
        labelNames: ['function_name'],
        registers: [options.registry],
        collect() {
          this.reset();
          const backlog = latest();
          for (const { status } of functions()) this.set({ function_name: name(status) }, backlog.get(keyOf(status))?.pending ?? 0);
        },
      });
    }
  }

  protected intervalMs(): number {
    return this.options.intervalMs;
  }

  protected async look(): Promise<void> {
    const { log, clock } = this.context;
    let backlog: Map<string, Backlog>;
    try {
      backlog = await this.options.backlog();
      this.warned = false;
    } catch (error) {
      // NATS away: nothing is decided on old figures.
      if (!this.warned) log.warn({ err: error }, 'queue depth not known now: queue-scaled functions keep their replicas');
      this.warned = true;
      return;
    }
    this.last = backlog;
    const changes: Array<Promise<void>> = [];
    const now = clock.now();
    for (const { status } of this.context.functions.list()) {
      const key = keyOf(status);
      if (!isQueueScaled(status.labels)) {
        this.memory.delete(key);
        continue;
      }
      if (this.waker.isWaking(status)) continue;
      const { pending, delivered, unknown } = backlogOf(backlog, key);
      const limits = limitsFor(this.context, status, status.labels);
      const target = queueTargetOf(status.labels);
      const decision = decideQueue({
        now,
        replicas: status.replicas,
        pending,
        delivered,
        limits,
        target: target.target,
        scaleDownDelayMs: this.options.scaleDownDelayMs,
        memory: this.memory.get(key),
      });
      // Part of its backlog could not be read now (NATS or its broker away): the figures are a lower bound, enough to scale up on, never down.
      if (unknown && !(decision.to !== undefined && decision.to > status.replicas)) continue;
      this.memory.set(key, decision.memory);
      if (decision.to !== undefined) changes.push(this.apply({ name: status.name, namespace: status.namespace }, status.replicas, decision.to, decision.reason, limits.idleSeconds, Math.max(1, limits.min)));
    }
    for (const key of this.memory.keys()) if (!this.context.functions.list().some(({ status }) => keyOf(status) === key)) this.memory.delete(key);
    await Promise.all(changes);
  }

  /** `awake`: the replicas it keeps instead of 0 while it is invoked synchronously somewhere. */
  private apply(ref: FunctionRef, seen: number, wanted: number, reason: string, idleSeconds: number, awake: number): Promise<void> {
    const { log, activity } = this.context;
    const name = nameOf(this.context, ref);
    return locked(this.context, ref, async () => {
      // Decided on the view; the change is made only if the function still has those replicas (here, and in the orchestrator).
      const entry = this.context.functions.get(ref);
      if (!entry || entry.status.replicas !== seen || this.waker.isWaking(ref)) return;
      let to = wanted;
      if (to === 0 && !(await this.idleEverywhere(ref, idleSeconds))) {
        if (seen <= awake) return;
        to = awake;
        reason = 'queue empty, but invoked synchronously in its idle period';
      }
      await applyReplicas(this.context, ref, to, { ifReplicas: seen }, 'queue');
      if (to > seen) activity.touch(keyOf(ref));
      log.info({ function: name, from: seen, to }, `scaled ${name} from ${seen} to ${to} replicas (${reason})`);
    }).catch((error: unknown) => {
      // Another gateway made the change first: it is seen at the next look.
      if (error instanceof ProviderError && error.kind === 'conflict') return;
      log.error({ err: error, function: name }, `queue scaling of ${name} failed`);
    });
  }

  /** No synchronous invocation in the idle period, through this gateway or (when known) any. */
  private async idleEverywhere(ref: FunctionRef, idleSeconds: number): Promise<boolean> {
    const here = this.context.activity.idleFor(keyOf(ref));
    if (here !== undefined && here < idleSeconds * 1000) return false;
    if (!this.options.syncHistory) return true;
    const elsewhere = await this.options.syncHistory(ref, idleSeconds);
    return elsewhere !== undefined && elsewhere < 1;
  }
}
