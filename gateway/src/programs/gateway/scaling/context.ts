// What the parts of the scaler share: the gateway's interfaces, the
// per-function lock, the activity log and the clock.
import type { Logger } from 'pino';
import type { Config } from '../settings.js';
import { scalingEventOf, type ScalingEvent, type ScalingReason } from '../metrics.js';
import type { FunctionView } from '../function-view.js';
import { qualifiedName } from '../../../core/functions/names.js';
import { keyOf, type FunctionRef, type Provider, type ScaleOptions } from '../provider/types.js';
import type { HealthProbe } from '../../../core/upstream/health-probe.js';
import type { ActivityLog } from './activity.js';
import type { Clock } from './clock.js';
import type { KeyedLock } from './keyed-lock.js';
import { limitsOf, type ScaleLimits } from './policy.js';

export type ScalingSettings = Pick<
  Config,
  | 'DEFAULT_MIN_REPLICAS'
  | 'DEFAULT_MAX_REPLICAS'
  | 'SCALE_STEP'
  | 'SCALE_COOLDOWN'
  | 'SCALE_TO_ZERO'
  | 'IDLE_TIMEOUT'
  | 'IDLE_CHECK_INTERVAL'
  | 'WAKE_TIMEOUT'
  | 'DEFAULT_NAMESPACE'
  | 'QUEUE_SCALE_INTERVAL'
  | 'QUEUE_SCALE_DOWN_DELAY'
  | 'CAPACITY_SCALE_INTERVAL'
  | 'CAPACITY_STABLE_WINDOW'
  | 'CAPACITY_PANIC_WINDOW'
>;

/**
 * Invocations of a function through every gateway of the stack (Prometheus
 * scrapes them all), so that one gateway does not put to sleep a function
 * that is busy through another. undefined: not known now.
 */
export type InvocationHistory = (ref: FunctionRef, seconds: number) => Promise<number | undefined>;

export interface ScalingContext {
  settings: ScalingSettings;
  provider: Provider;
  functions: FunctionView;
  log: Logger;
  clock: Clock;
  lock: KeyedLock;
  activity: ActivityLog;
  /** Asks a starting task whether it is ready (wake-up); none: wait for the provider's own health check. */
  probe?: HealthProbe;
  /** Invocations through every gateway; none: this gateway's own count decides alone. */
  history?: InvocationHistory;
  /** Told of every replica change the scaler makes (the gateway's metrics: gateway_scaling_events_total). */
  events?: ScalingEventSink;
}

export interface ScalingEventSink {
  recordScalingEvent(name: string, event: ScalingEvent, reason?: ScalingReason): void;
}

/** The function's name in logs and alerts. */
export function nameOf(context: ScalingContext, ref: FunctionRef): string {
  return qualifiedName(ref, context.settings.DEFAULT_NAMESPACE);
}

/** Runs `operation` under the function's lock: alerts, manual scaling, wake-ups and the idler take turns per function. */
export function locked<T>(context: ScalingContext, ref: FunctionRef, operation: () => Promise<T>): Promise<T> {
  return context.lock.run(keyOf(ref), operation);
}

/** The function's limits; labels with unusable values are logged (once per call) and replaced by defaults. */
export function limitsFor(context: ScalingContext, ref: FunctionRef, labels: Record<string, string>): ScaleLimits {
  const limits = limitsOf(labels, context.settings);
  if (limits.problems.length > 0) context.log.warn({ function: nameOf(context, ref), problems: limits.problems }, 'scaling labels ignored');
  return limits;
}

/** Scales through the provider, then re-reads the function so the view (and the proxy) see the change at once. */
export async function applyReplicas(context: ScalingContext, ref: FunctionRef, replicas: number, options?: ScaleOptions, reason?: ScalingReason): Promise<void> {
  const before = context.functions.get(ref)?.status.replicas;
  await context.provider.scale(ref, replicas, options);
  if (before !== undefined && before !== replicas) context.events?.recordScalingEvent(nameOf(context, ref), scalingEventOf(before, replicas), reason);
  await context.functions.refresh(ref).catch((error: unknown) =>
    context.log.warn({ err: error, function: nameOf(context, ref) }, 'could not re-read the function after scaling'),
  );
}
