// Wakes a function that has no ready task (scaled to zero, or still starting):
// scales it to its minimum (at least 1) and waits until a task is ready.
// Ready is whichever comes first: the orchestrator lists a healthy task (Swarm:
// running and in DNS), or a starting task's watchdog answers the gateway's own
// probe of /_/health (Swarm's first HEALTHCHECK comes seconds after the
// watchdog is up). In the second case the wake-up resolves with that task's
// address, for the held requests only: the normal round-robin (DNS) still
// lists healthy tasks alone. Requests arriving meanwhile share the one
// wake-up; each can stop waiting (client gone) without cancelling it for the others.
import { InvocationError } from '../../../core/invocation/errors.js';
import { keyOf, ProviderError, type FunctionRef } from '../provider/types.js';
import { readyAddresses } from '../../../core/upstream/health-probe.js';
import { applyReplicas, limitsFor, locked, nameOf, type ScalingContext } from './context.js';
import { wakeReplicas } from './policy.js';

/** No instance became ready within WAKE_TIMEOUT (the invocation core's 'no-instance'). */
export class WakeTimeoutError extends InvocationError {
  constructor(message: string) {
    super('no-instance', message);
    this.name = 'WakeTimeoutError';
  }
}

/**
 * How often readiness is checked while waking: every 100 ms is what a woken
 * caller may wait for beyond the task's own start (one read of the function
 * each; a wake-up lasts a few seconds). Slower after the first
 * few seconds, for a task that takes long to start.
 */
const FAST_POLL_MS = 100;
const FAST_POLL_FOR_MS = 5_000;
const SLOW_POLL_MS = 500;

export class Waker {
  private readonly wakes = new Map<string, Promise<string | undefined>>();
  private probes = 0;

  constructor(private readonly context: ScalingContext) {}

  isWaking(ref: FunctionRef): boolean {
    return this.wakes.has(keyOf(ref));
  }

  /**
   * Resolves once the function has a ready task: with the address of a task
   * that answered the gateway's probe before the orchestrator listed it, or
   * undefined when the normal endpoints list has one.
   */
  ensureAvailable(ref: FunctionRef, signal?: AbortSignal): Promise<string | undefined> {
    const key = keyOf(ref);
    let wake = this.wakes.get(key);
    if (!wake) {
      wake = this.wake({ name: ref.name, namespace: ref.namespace })
        .catch((error: unknown) => {
          // Said in the invocation core's words: the function went away while it was being woken.
          throw error instanceof ProviderError && error.kind === 'not-found' ? new InvocationError('not-found', error.message) : error;
        })
        .finally(() => this.wakes.delete(key));
      this.wakes.set(key, wake);
    }
    return signal ? untilAborted(wake, signal) : wake;
  }

  private async wake(ref: FunctionRef): Promise<string | undefined> {
    const { clock, log, settings } = this.context;
    const name = nameOf(this.context, ref);
    const started = clock.now();
    const deadline = started + settings.WAKE_TIMEOUT * 1000;
    this.context.activity.touch(keyOf(ref));

    const woke = await locked(this.context, ref, async () => {
      for (let attempt = 0; ; attempt++) {
        const entry = await this.context.functions.refresh(ref);
        if (!entry) throw new ProviderError('not-found', `function ${name} not found`);
        if (entry.status.replicas > 0) return false;
        const replicas = wakeReplicas(limitsFor(this.context, ref, entry.status.labels));
        log.info({ function: name, replicas }, `waking ${name}: scaling from 0 to ${replicas}`);
        try {
          // Only from 0: another gateway waking it at the same moment wins, and this one just waits.
          await applyReplicas(this.context, ref, replicas, { ifReplicas: 0 }, 'wake');
          return true;
        } catch (error) {
          if (attempt < 2 && error instanceof ProviderError && error.kind === 'conflict') continue;
          throw error;
        }
      }
    });

    for (;;) {
      const [listed, probed] = await Promise.all([this.ready(ref), this.probeStarting(ref)]);
      if (listed || probed.length > 0) {
        if (woke) log.info({ function: name, ms: clock.now() - started, probed: !listed }, `${name} is awake`);
        // Spread the held requests when several tasks answered.
        return listed ? undefined : probed[this.probes++ % probed.length];
      }
      const left = deadline - clock.now();
      if (left <= 0) {
        throw new WakeTimeoutError(`function ${name} has no ready replica after waiting ${settings.WAKE_TIMEOUT} s (WAKE_TIMEOUT)`);
      }
      const pause = clock.now() - started < FAST_POLL_FOR_MS ? FAST_POLL_MS : SLOW_POLL_MS;
      await clock.sleep(Math.min(pause, left));
    }
  }

  /** Addresses of the function's starting or running instances whose watchdog answers ready now. */
  private async probeStarting(ref: FunctionRef): Promise<string[]> {
    const { probe } = this.context;
    const starting = this.context.functions.get(ref)?.starting ?? [];
    if (!probe || starting.length === 0) return [];
    return readyAddresses(starting, probe);
  }

  /** The orchestrator lists a ready instance with an address (read now, which also updates the view). */
  private async ready(ref: FunctionRef): Promise<boolean> {
    try {
      const entry = await this.context.functions.refresh(ref);
      if (!entry) throw new ProviderError('not-found', `function ${nameOf(this.context, ref)} was removed while waking`);
      return entry.endpoints.length > 0;
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'not-found') throw error;
      this.context.log.debug({ err: error, function: nameOf(this.context, ref) }, 'readiness check failed; retrying');
      return false;
    }
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
