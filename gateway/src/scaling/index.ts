// Alert-driven scaling, manual scaling, scale to zero and wake-up. The gateway
// core depends only on the Scaler interface and createScaler below; the parts
// live beside this file, each with one job:
//   policy.ts      limits from labels, the step rules (pure)
//   alerts.ts      AlertManager alerts -> replica changes
//   manual.ts      POST /system/scale-function/{name}
//   wake.ts        wake a function with no ready task, deduplicated
//   idler.ts       scale idle functions to zero
//   routes.ts      the HTTP routes
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { FunctionView, Provider } from '../provider/types.js';
import { probeWatchdog, type HealthProbe } from '../upstream/health-probe.js';
import { ActivityLog } from './activity.js';
import { AlertScaler } from './alerts.js';
import { systemClock, type Clock } from './clock.js';
import type { ScalingContext, ScalingEventSink } from './context.js';
import { Idler } from './idler.js';
import { KeyedLock } from './keyed-lock.js';
import { registerScalingRoutes } from './routes.js';
import { Waker } from './wake.js';

export { WakeTimeoutError } from './wake.js';

export interface ScalerDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  log: Logger;
  /** Tests pass a fake clock; the real one otherwise. */
  clock?: Clock;
  /** How a starting task is asked whether it is ready while waking; default: GET /_/health on its watchdog. */
  probe?: HealthProbe;
  /** Told of every replica change (the gateway's metrics). */
  events?: ScalingEventSink;
}

export interface Scaler {
  /** Registers POST /system/alert and POST /system/scale-function/:name. */
  routes(router: Router): void;
  /**
   * The proxy calls this before forwarding when the function has no available
   * replica. Resolves once one is ready (waking a function scaled to zero):
   * with the address of a task that answered the gateway's own readiness
   * probe before the provider listed it (use it for this request), or
   * undefined (use the endpoints list). Rejects with WakeTimeoutError after WAKE_TIMEOUT.
   */
  ensureAvailable(name: string, signal?: AbortSignal): Promise<string | undefined>;
  /** The proxy calls this on every invocation (idle detection for scale to zero). */
  recordInvocation(name: string): void;
  start(): void;
  stop(): void;
}

/** A starting container refuses at once; an address with no container yet would hang: give up quickly, the next poll retries. */
const PROBE_TIMEOUT_MS = 250;

export class AutoScaler implements Scaler {
  readonly context: ScalingContext;
  readonly alerts: AlertScaler;
  readonly waker: Waker;
  readonly idler: Idler;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: ScalerDeps) {
    const clock = deps.clock ?? systemClock;
    this.context = {
      settings: deps.config,
      provider: deps.provider,
      functions: deps.functions,
      log: deps.log.child({ component: 'scaling' }),
      clock,
      lock: new KeyedLock(),
      activity: new ActivityLog(clock),
      probe: deps.probe ?? ((address) => probeWatchdog(address, PROBE_TIMEOUT_MS)),
      ...(deps.events ? { events: deps.events } : {}),
    };
    this.alerts = new AlertScaler(this.context);
    this.waker = new Waker(this.context);
    this.idler = new Idler(this.context, this.waker);
  }

  routes(router: Router): void {
    registerScalingRoutes(router, this.context, this.alerts);
  }

  ensureAvailable(name: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.waker.ensureAvailable(name, signal);
  }

  recordInvocation(name: string): void {
    this.context.activity.invoked(name);
  }

  start(): void {
    this.unsubscribe ??= this.context.functions.onChange((name, status) => {
      if (status) return;
      this.context.activity.forget(name);
      this.alerts.forget(name);
    });
    this.idler.start();
  }

  stop(): void {
    this.idler.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}

export function createScaler(deps: ScalerDeps): Scaler {
  return new AutoScaler(deps);
}
