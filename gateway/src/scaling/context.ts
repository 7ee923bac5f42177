// What the parts of the scaler share: the gateway's interfaces, the
// per-function lock and the activity log.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ScalingEvent } from '../metrics.js';
import type { FunctionView, Provider } from '../provider/types.js';
import type { HealthProbe } from '../upstream/health-probe.js';
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
  | 'SYSTEM_BODY_LIMIT'
>;

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
  /** Told of every replica change the scaler makes (the gateway's metrics: gateway_scaling_events_total). */
  events?: ScalingEventSink;
}

export interface ScalingEventSink {
  recordScalingEvent(name: string, event: ScalingEvent): void;
}

/** The function's limits; labels with unusable values are logged (once per call) and replaced by defaults. */
export function limitsFor(context: ScalingContext, name: string, labels: Record<string, string>): ScaleLimits {
  const limits = limitsOf(labels, context.settings);
  if (limits.problems.length > 0) context.log.warn({ function: name, problems: limits.problems }, 'scaling labels ignored');
  return limits;
}

/** Scales through the provider, then re-reads the function so the view (and the proxy) see the change at once. */
export async function applyReplicas(context: ScalingContext, name: string, replicas: number): Promise<void> {
  await context.provider.scale(name, replicas);
  await context.functions.refresh(name).catch((error: unknown) =>
    context.log.warn({ err: error, function: name }, 'could not re-read the function after scaling'),
  );
}
