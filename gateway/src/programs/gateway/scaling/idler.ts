// Scale to zero: every IDLE_CHECK_INTERVAL, a function labelled
// com.openfaas.scale.zero=true that has not been used for its idle period
// (com.openfaas.scale.zero-duration, default IDLE_TIMEOUT) is scaled to 0.
//
// "Used" means invoked, woken or scaled through this gateway (ActivityLog),
// and, where the invocation history of every gateway is known (Prometheus
// scrapes them all), invoked through any of them: a function busy through
// another gateway is never put to sleep by this one. A function never
// invoked through this gateway since it started stays as it is; its first
// invocation here starts its idle period.
import { keyOf, type FunctionRef } from '../provider/types.js';
import { Periodic } from './periodic.js';
import { applyReplicas, limitsFor, locked, nameOf, type ScalingContext } from './context.js';
import type { Waker } from './wake.js';
import { isQueueScaled } from './queue-policy.js';
import { isCapacityScaled } from './capacity-policy.js';

export class Idler extends Periodic {
  constructor(
    private readonly context: ScalingContext,
    private readonly waker: Waker,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.context.settings.IDLE_CHECK_INTERVAL * 1000;
  }

  protected async look(): Promise<void> {
    const { activity, functions } = this.context;
    const sleepers: Array<Promise<void>> = [];
    for (const { status } of functions.list()) {
      if (status.replicas === 0 || this.waker.isWaking(status)) continue;
      const limits = limitsFor(this.context, status, status.labels);
      // A queue- or capacity-scaled function sleeps when its scaler says (queue-scaler.ts, capacity-scaler.ts).
      if (!limits.scaleToZero || isQueueScaled(status.labels) || isCapacityScaled(status.labels)) continue;
      const idleMs = activity.idleFor(keyOf(status));
      if (idleMs !== undefined && idleMs >= limits.idleSeconds * 1000) sleepers.push(this.putToSleep({ name: status.name, namespace: status.namespace }, limits.idleSeconds));
    }
    await Promise.all(sleepers);
  }

  private putToSleep(ref: FunctionRef, idleSeconds: number): Promise<void> {
    const { activity, log, history } = this.context;
    const name = nameOf(this.context, ref);
    return locked(this.context, ref, async () => {
      // Re-check under the lock: a request or a wake-up may have come in meanwhile.
      const idleMs = activity.idleFor(keyOf(ref));
      if (this.waker.isWaking(ref) || idleMs === undefined || idleMs < idleSeconds * 1000) return;
      if (history) {
        const elsewhere = await history(ref, idleSeconds);
        if (elsewhere === undefined) {
          log.debug({ function: name }, `not putting ${name} to sleep: invocations through the other gateways are not known now`);
          return;
        }
        if (elsewhere >= 1) {
          log.debug({ function: name, invocations: elsewhere }, `not putting ${name} to sleep: invoked through another gateway`);
          return;
        }
      }
      const entry = await this.context.functions.refresh(ref);
      if (!entry || entry.status.replicas === 0) return;
      await applyReplicas(this.context, ref, 0, { ifReplicas: entry.status.replicas }, 'idle');
      log.info({ function: name, from: entry.status.replicas, idleSeconds: Math.round(idleMs / 1000) }, `scaled ${name} to zero after ${Math.round(idleMs / 1000)} s without invocations`);
    }).catch((error: unknown) => log.error({ err: error, function: name }, `scaling ${name} to zero failed`));
  }
}
