// The scaling limits of one function as the API shows them (the `scaling`
// object of GET /system/functions and /system/function/{name}): its labels
// read by the same policy code the scaler runs, with the gateway's defaults,
// so the UI shows what the gateway does instead of working it out again.
import type { Config } from '../settings.js';
import type { ScalingAnswer } from '../api/answers.js';
import { concurrencyOf } from '../../../core/functions/concurrency.js';
import { capacityTargetOf, isCapacityScaled } from './capacity-policy.js';
import { limitsOf } from './policy.js';
import { isQueueScaled, queueTargetOf } from './queue-policy.js';

export type ScalingSettings = Pick<Config, 'DEFAULT_MIN_REPLICAS' | 'DEFAULT_MAX_REPLICAS' | 'SCALE_STEP' | 'SCALE_TO_ZERO' | 'IDLE_TIMEOUT'>;

export function scalingSummary(labels: Record<string, string>, envVars: Record<string, string>, settings: ScalingSettings): ScalingAnswer {
  const limits = limitsOf(labels, settings);
  const queue = isQueueScaled(labels);
  const capacity = !queue && isCapacityScaled(labels);
  const target = queue ? queueTargetOf(labels) : capacity ? capacityTargetOf(labels, concurrencyOf({ labels, envVars })) : undefined;
  return {
    type: queue ? 'queue' : capacity ? 'capacity' : 'rate',
    min: limits.min,
    max: limits.max,
    step: limits.step,
    stepMode: limits.additive ? 'add' : 'multiple',
    alerts: limits.alertScaling && !queue && !capacity,
    target: target?.target ?? null,
    zero: limits.scaleToZero,
    zeroDuration: limits.idleSeconds,
    problems: target?.problem ? [...limits.problems, target.problem] : limits.problems,
  };
}
