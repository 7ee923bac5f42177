// How much a trigger may do for one function: invocations in flight at once
// (across every replica of the program) and attempts per message, from the
// function's labels, else the settings.
import { LABEL } from '../core/labels.js';
import type { RetryPolicy } from './retry.js';

export interface TriggerLimitSettings {
  ASYNC_MAX_ATTEMPTS: number;
  ASYNC_RETRY_DELAY: number;
  ASYNC_RETRY_MAX_DELAY: number;
  ASYNC_MAX_INFLIGHT: number;
}

/** A whole-number label within bounds, else the default. */
export function labelNumber(labels: Record<string, string>, name: string, fallback: number, max: number): number {
  const text = labels[name]?.trim();
  if (!text || !/^\d+$/.test(text)) return fallback;
  const value = Number(text);
  return value >= 1 && value <= max ? value : fallback;
}

/** Invocations of the function in flight at once (label com.openfaas.async.max-inflight). */
export function inflightLimitOf(labels: Record<string, string>, settings: TriggerLimitSettings): number {
  return labelNumber(labels, LABEL.asyncMaxInflight, settings.ASYNC_MAX_INFLIGHT, 10_000);
}

/** Attempts and backoff (label com.openfaas.async.max-attempts). */
export function retryPolicyOf(labels: Record<string, string>, settings: TriggerLimitSettings): RetryPolicy {
  return {
    maxAttempts: labelNumber(labels, LABEL.asyncMaxAttempts, settings.ASYNC_MAX_ATTEMPTS, 100),
    initialDelayMs: settings.ASYNC_RETRY_DELAY * 1000,
    maxDelayMs: settings.ASYNC_RETRY_MAX_DELAY * 1000,
  };
}
