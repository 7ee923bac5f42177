// Scale to zero: every IDLE_CHECK_INTERVAL, a function labelled
// com.openfaas.scale.zero=true that has not been used for its idle period
// (com.openfaas.scale.zero-duration, default IDLE_TIMEOUT) is scaled to 0.
// "Used" means invoked, woken or scaled through this gateway (ActivityLog).
//
// A gateway puts to sleep only the functions it has used itself: it cannot see
// the invocations that go through another gateway (a second manager, another
// stack on the same swarm), and must not put a function to sleep that is busy
// there. So a function never invoked through this gateway since it started
// stays as it is; its first invocation starts its idle period.
import { applyReplicas, limitsFor, type ScalingContext } from './context.js';
import type { Waker } from './wake.js';

export class Idler {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly context: ScalingContext,
    private readonly waker: Waker,
  ) {}

  start(): void {
    if (this.timer) return;
    const everyMs = Math.max(100, this.context.settings.IDLE_CHECK_INTERVAL * 1000);
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the functions; resolves when the functions it put to sleep are scaled. */
  check(): Promise<void> {
    // A slow Docker must not pile passes up.
    this.checking ??= this.pass().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async pass(): Promise<void> {
    const { activity, functions } = this.context;
    const sleepers: Array<Promise<void>> = [];
    for (const fn of functions.list()) {
      if (fn.replicas === 0 || this.waker.isWaking(fn.name)) continue;
      const limits = limitsFor(this.context, fn.name, fn.labels);
      if (!limits.scaleToZero) continue;
      const idleMs = activity.idleFor(fn.name);
      if (idleMs !== undefined && idleMs >= limits.idleSeconds * 1000) sleepers.push(this.putToSleep(fn.name, limits.idleSeconds));
    }
    await Promise.all(sleepers);
  }

  private putToSleep(name: string, idleSeconds: number): Promise<void> {
    const { activity, log, lock } = this.context;
    return lock
      .run(name, async () => {
        // Re-check under the lock: a request or a wake-up may have come in meanwhile.
        const idleMs = activity.idleFor(name);
        if (this.waker.isWaking(name) || idleMs === undefined || idleMs < idleSeconds * 1000) return;
        const fn = await this.context.functions.refresh(name);
        if (!fn || fn.replicas === 0) return;
        await applyReplicas(this.context, name, 0);
        this.context.events?.recordScalingEvent(name, 'zero');
        log.info({ function: name, from: fn.replicas, idleSeconds: Math.round(idleMs / 1000) }, `scaled ${name} to zero after ${Math.round(idleMs / 1000)} s without invocations`);
      })
      .catch((error: unknown) => log.error({ err: error, function: name }, `scaling ${name} to zero failed`));
  }
}
