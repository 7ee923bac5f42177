// How many replicas a function should have: its limits, read from its labels
// (with the gateway's defaults), and the step a firing alert takes. Pure
// functions, no I/O.
import { parseDurationSeconds } from '@swarm-faas/duration';
import { LABEL } from '../../../core/labels.js';
import type { Config } from '../settings.js';


export interface ScaleLimits {
  /** Replicas a resolved alert returns to (>= 0). */
  min: number;
  /** Replicas alerts and manual scaling may reach (>= 1, >= min). */
  max: number;
  /** Replicas added per firing alert. */
  step: number;
  /** Step as "current + step" (factor label) rather than "next multiple of step" (1 -> 5 -> 10, the 2017 rule). */
  additive: boolean;
  /** false when com.openfaas.scale.factor is 0: alerts leave the function alone. */
  alertScaling: boolean;
  /** Scale to zero after idleSeconds without invocations. */
  scaleToZero: boolean;
  idleSeconds: number;
  /** Labels whose values could not be used (the default applied instead). */
  problems: string[];
}

type Settings = Pick<Config, 'DEFAULT_MIN_REPLICAS' | 'DEFAULT_MAX_REPLICAS' | 'SCALE_STEP' | 'SCALE_TO_ZERO' | 'IDLE_TIMEOUT'>;

export function limitsOf(labels: Record<string, string>, settings: Settings): ScaleLimits {
  const problems: string[] = [];
  const whole = (label: string, min: number, max: number): number | undefined => {
    const text = labels[label];
    if (text === undefined) return undefined;
    if (/^\s*\d+\s*$/.test(text)) {
      const value = Number(text);
      if (value >= min && value <= max) return value;
    }
    problems.push(`${label}=${JSON.stringify(text)} is not a whole number from ${min} to ${max}`);
    return undefined;
  };

  // Both max labels may be set (an old stack file and a newer deploy): the smaller wins.
  const maxes = [whole(LABEL.maxLegacy, 1, 10_000), whole(LABEL.max, 1, 10_000)].filter((v): v is number => v !== undefined);
  const min = whole(LABEL.min, 0, 10_000) ?? settings.DEFAULT_MIN_REPLICAS;
  const max = Math.max(maxes.length > 0 ? Math.min(...maxes) : settings.DEFAULT_MAX_REPLICAS, min, 1);
  const factor = whole(LABEL.factor, 0, 100);
  const step = factor === undefined ? settings.SCALE_STEP : Math.max(1, Math.ceil((max * factor) / 100));

  let idleSeconds = settings.IDLE_TIMEOUT;
  const duration = labels[LABEL.zeroDuration];
  if (duration !== undefined) {
    const parsed = parseDurationSeconds(duration);
    if (parsed === undefined) problems.push(`${LABEL.zeroDuration}=${JSON.stringify(duration)} is not a duration such as 30s, 2m or 1m30s`);
    else if (parsed > 0) idleSeconds = parsed;
    else problems.push(`${LABEL.zeroDuration}=${JSON.stringify(duration)} must be more than 0`);
  }

  return {
    min,
    max,
    step,
    additive: factor !== undefined,
    alertScaling: factor !== 0,
    scaleToZero: settings.SCALE_TO_ZERO && labels[LABEL.zero]?.trim().toLowerCase() === 'true',
    idleSeconds,
    problems,
  };
}

/**
 * Replicas after one firing alert: 1 -> 5 -> 10 ... (the next multiple of the
 * step), or current + step with a factor label; never above max, never below min.
 */
export function stepUp(current: number, limits: ScaleLimits): number {
  const next = limits.additive ? current + limits.step : (Math.floor(current / limits.step) + 1) * limits.step;
  return Math.min(limits.max, Math.max(limits.min, next, current));
}

/** Replicas after a resolved alert: the minimum; a sleeping function (0) stays asleep. */
export function stepDown(current: number, limits: ScaleLimits): number {
  return current > limits.min ? limits.min : current;
}

/** Replicas a wake-up scales to: the minimum, at least 1. */
export function wakeReplicas(limits: ScaleLimits): number {
  return Math.max(1, limits.min);
}
