// Wakes a function that has no ready task (scaled to zero, or still starting):
// scales it to its minimum (at least 1) and waits until a task is ready.
// Ready is whichever comes first: the orchestrator lists a healthy task (Swarm:
// running and in DNS), or a starting task's watchdog answers the gateway's own
// probe of /_/health (Swarm's first HEALTHCHECK comes seconds after the
// watchdog is up). In the second case the wake-up resolves with that task's
// address, for the held requests only: the normal round-robin (DNS) still
// lists healthy tasks alone. Requests arriving meanwhile share the one
// wake-up; each can stop waiting (client gone) without cancelling it for the others.
import { ProviderError } from '../provider/types.js';
import { readyAddresses } from '../upstream/health-probe.js';
import { applyReplicas, limitsFor, type ScalingContext } from './context.js';
import { wakeReplicas } from './policy.js';

export class WakeTimeoutError extends Error {
  override readonly name = 'WakeTimeoutError';
}

/**
 * How often readiness is checked while waking: every 100 ms is what a woken
 * caller may wait for beyond the task's own start (two Docker calls and one
 * DNS lookup each; a wake-up lasts a few seconds). Slower after the first
 * few seconds, for a task that takes long to start.
 */
const FAST_POLL_MS = 100;
const FAST_POLL_FOR_MS = 5_000;
const SLOW_POLL_MS = 500;

export class Waker {
  private readonly wakes = new Map<string, Promise<string | undefined>>();
  private probes = 0;

  constructor(private readonly context: ScalingContext) {}

  isWaking(name: string): boolean {
    return this.wakes.has(name);
  }

  /**
   * Resolves once the function has a ready task: with the address of a task
   * that answered the gateway's probe before the orchestrator listed it, or
   * undefined when the normal endpoints list has one.
   */
  ensureAvailable(name: string, signal?: AbortSignal): Promise<string | undefined> {
    let wake = this.wakes.get(name);
    if (!wake) {
      wake = this.wake(name).finally(() => this.wakes.delete(name));
      this.wakes.set(name, wake);
    }
    return signal ? untilAborted(wake, signal) : wake;
  }

  private async wake(name: string): Promise<string | undefined> {
    const { clock, log, settings } = this.context;
    const started = clock.now();
    const deadline = started + settings.WAKE_TIMEOUT * 1000;
    this.context.activity.touch(name);

    const woke = await this.context.lock.run(name, async () => {
      const fn = await this.context.functions.refresh(name);
      if (!fn) throw new ProviderError('not-found', `function ${name} not found`);
      if (fn.replicas > 0) return false;
      const replicas = wakeReplicas(limitsFor(this.context, name, fn.labels));
      log.info({ function: name, replicas }, `waking ${name}: scaling from 0 to ${replicas}`);
      await applyReplicas(this.context, name, replicas);
      this.context.events?.recordScalingEvent(name, 'wake');
      return true;
    });

    for (;;) {
      const [listed, probed] = await Promise.all([this.ready(name), this.probeStarting(name)]);
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

  /** Addresses of the function's starting or running tasks whose watchdog answers ready now. */
  private async probeStarting(name: string): Promise<string[]> {
    const { provider, probe, log } = this.context;
    if (!provider.startingEndpoints || !probe) return [];
    try {
      return await readyAddresses(await provider.startingEndpoints(name), probe);
    } catch (error) {
      log.debug({ err: error, function: name }, 'probing starting tasks failed; retrying');
      return [];
    }
  }

  /** A task is healthy (Swarm: running) and the gateway can find its address. */
  private async ready(name: string): Promise<boolean> {
    try {
      const fn = await this.context.functions.refresh(name);
      if (!fn) throw new ProviderError('not-found', `function ${name} was removed while waking`);
      if (fn.availableReplicas < 1) return false;
      return (await this.context.provider.endpoints(name)).length > 0;
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'not-found') throw error;
      this.context.log.debug({ err: error, function: name }, 'readiness check failed; retrying');
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
