// A function's concurrency: how many requests one of its replicas is given at
// once (Knative's containerConcurrency). It is declared by the label
// com.openfaas.concurrency, or by the watchdog's own limit, the environment
// variable max_inflight (how OpenFaaS users set it); the label wins. Every
// program that invokes the function reads it from here (the catalog carries
// max_inflight for the queue worker and the connector), and the gateway sets
// max_inflight from the label when it deploys a function, so the watchdog
// holds the same limit at the replica itself.
import { LABEL } from '../labels.js';
import type { FunctionStatus } from './types.js';

/** The watchdog's environment variable for its in-flight limit (functions/watchdog). */
export const MAX_INFLIGHT_ENV = 'max_inflight';
/** The most a limit may be: beyond it a limit means nothing on one replica. */
export const MAX_CONCURRENCY = 10_000;

/** A whole number from 1 to MAX_CONCURRENCY, else undefined. */
export function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && value <= MAX_CONCURRENCY ? value : undefined;
}

/**
 * The function's per-replica limit; undefined when it has none (or a value
 * that is not one: deploys refuse those with a 400, and a stack file's bad
 * value means no limit rather than a function nobody can call).
 */
export function concurrencyOf(status: Pick<FunctionStatus, 'labels' | 'envVars'>): number | undefined {
  const label = status.labels[LABEL.concurrency];
  if (label !== undefined) return parseConcurrency(label);
  const env = status.envVars[MAX_INFLIGHT_ENV];
  // The watchdog reads max_inflight=0 as "no limit".
  return env === undefined ? undefined : parseConcurrency(env);
}
