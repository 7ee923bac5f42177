// Alert-driven scaling, manual scaling, scale to zero and wake-up. The gateway
// core depends only on the Scaler interface and createScaler below; the parts
// live beside this file, each with one job:
//   policy.ts      limits from labels, the step rules (pure)
//   alerts.ts      AlertManager alerts -> replica changes
//   manual.ts      a replica count asked for by hand
//   wake.ts        wake a function with no ready instance, deduplicated
//   idler.ts       scale idle functions to zero
//   queue-scaler.ts  scale functions labelled for it on their pending messages (queue-policy.ts)
//   capacity-scaler.ts  scale functions labelled for it on their calls in flight (capacity-policy.ts)
// The HTTP routes that reach them are routes/alert.ts and routes/scale-function.ts.
import type { Logger } from 'pino';
import type { Waker as CoreWaker } from '../../../core/invocation/core.js';
import type { Config } from '../settings.js';
import type { FunctionView } from '../function-view.js';
import { keyOf, type FunctionRef, type Provider } from '../provider/types.js';
import { probeStartingWatchdog, type HealthProbe } from '../../../core/upstream/health-probe.js';
import { ActivityLog } from './activity.js';
import type { AlertPayload } from './alert-payload.js';
import { AlertScaler, type AlertOutcome } from './alerts.js';
import { systemClock, type Clock } from './clock.js';
import type { InvocationHistory, ScalingContext, ScalingEventSink } from './context.js';
import { Idler } from './idler.js';
import { KeyedLock } from './keyed-lock.js';
import { scaleManually, type ScaleRequest, type ScaleResult } from './manual.js';
import { Waker } from './wake.js';
import { QueueScaler, type QueueScalerOptions } from './queue-scaler.js';
import { CapacityScaler } from './capacity-scaler.js';
import type { LoadBoard } from '../../../queue/load-reports.js';

export { WakeTimeoutError } from './wake.js';
export type { AlertOutcome } from './alerts.js';
export type { ScaleRequest, ScaleResult } from './manual.js';

export interface ScalerDeps {
  config: Config;
  provider: Provider;
  functions: FunctionView;
  log: Logger;
  /** Tests pass a fake clock; the real one otherwise. */
  clock?: Clock;
  /** How a starting task is asked whether it is ready while waking; default: GET /_/health on its watchdog. */
  probe?: HealthProbe;
  /** Invocations through every gateway (for scale to zero); none: this gateway's own count decides. */
  history?: InvocationHistory;
  /** Told of every replica change (the gateway's metrics). */
  events?: ScalingEventSink;
  /** Queue-depth scaling (com.openfaas.scale.type=queue): the functions' backlog in JetStream; none: off. */
  queue?: Omit<QueueScalerOptions, 'intervalMs' | 'scaleDownDelayMs'>;
  /** Capacity scaling (com.openfaas.scale.type=capacity): every program's load reports; none: off. */
  loads?: LoadBoard;
}

/** The scaler; the invocation core sees only its Waker part (ensureAvailable, recordInvocation). */
export interface Scaler extends CoreWaker {
  /** AlertManager's alerts: one step up per firing function, back to the minimum when resolved. */
  handleAlerts(payload: AlertPayload): Promise<AlertOutcome[]>;
  /** Sets a function's replicas by hand (0 puts it to sleep). */
  scale(ref: FunctionRef, request: ScaleRequest): Promise<ScaleResult>;
  start(): void;
  stop(): void;
}

export class AutoScaler implements Scaler {
  readonly context: ScalingContext;
  readonly alerts: AlertScaler;
  readonly waker: Waker;
  readonly idler: Idler;
  readonly queue: QueueScaler | undefined;
  readonly capacity: CapacityScaler | undefined;
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
      probe: deps.probe ?? probeStartingWatchdog,
      ...(deps.history ? { history: deps.history } : {}),
      ...(deps.events ? { events: deps.events } : {}),
    };
    this.alerts = new AlertScaler(this.context);
    this.waker = new Waker(this.context);
    this.idler = new Idler(this.context, this.waker);
    this.queue = deps.queue
      ? new QueueScaler(this.context, this.waker, { ...deps.queue, intervalMs: deps.config.QUEUE_SCALE_INTERVAL * 1000, scaleDownDelayMs: deps.config.QUEUE_SCALE_DOWN_DELAY * 1000 })
      : undefined;
    this.capacity = deps.loads
      ? new CapacityScaler(this.context, this.waker, {
          board: deps.loads,
          intervalMs: deps.config.CAPACITY_SCALE_INTERVAL * 1000,
          windows: { stableMs: deps.config.CAPACITY_STABLE_WINDOW * 1000, panicMs: deps.config.CAPACITY_PANIC_WINDOW * 1000 },
        })
      : undefined;
  }

  handleAlerts(payload: AlertPayload): Promise<AlertOutcome[]> {
    return this.alerts.handle(payload);
  }

  scale(ref: FunctionRef, request: ScaleRequest): Promise<ScaleResult> {
    return scaleManually(this.context, ref, request);
  }

  ensureAvailable(ref: FunctionRef, signal?: AbortSignal): Promise<string | undefined> {
    return this.waker.ensureAvailable(ref, signal);
  }

  recordInvocation(ref: FunctionRef): void {
    this.context.activity.invoked(keyOf(ref));
  }

  start(): void {
    this.unsubscribe ??= this.context.functions.onChange((ref, entry) => {
      if (!entry) this.context.activity.forget(keyOf(ref));
    });
    this.idler.start();
    this.queue?.start();
    this.capacity?.start();
  }

  stop(): void {
    this.idler.stop();
    this.queue?.stop();
    this.capacity?.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}

export function createScaler(deps: ScalerDeps): Scaler {
  return new AutoScaler(deps);
}
