// Queue-depth autoscaling (what KEDA does on Kubernetes): a function labelled
// com.openfaas.scale.type=queue follows its pending messages (asynchronous
// calls, durable topic messages and schedule ticks, waiting or being worked
// on) instead of the request rate. Pure: the decision for one function at
// one moment, from its pending count, its limits and what was seen before.
//
//   pending > 0     ceil(pending / target) replicas, at least 1 and min, at most max: at once
//   fewer wanted    after the count has stayed lower for the scale-down delay (the most
//                   wanted over that time), so a queue that empties in waves does not flap
//   pending = 0     min; and 0 once the queue has been empty (and nothing delivered) for
//                   the idle period, when com.openfaas.scale.zero=true
import { LABEL } from '../../../core/labels.js';
import type { ScaleLimits } from './policy.js';

export const DEFAULT_QUEUE_TARGET = 10;

export function isQueueScaled(labels: Record<string, string>): boolean {
  return labels[LABEL.scaleType]?.trim().toLowerCase() === 'queue';
}

export function queueTargetOf(labels: Record<string, string>): { target: number; problem?: string } {
  const text = labels[LABEL.scaleTarget];
  if (text === undefined) return { target: DEFAULT_QUEUE_TARGET };
  if (/^\s*\d+\s*$/.test(text) && Number(text) >= 1 && Number(text) <= 1_000_000) return { target: Number(text) };
  return { target: DEFAULT_QUEUE_TARGET, problem: `${LABEL.scaleTarget}=${JSON.stringify(text)} is not a whole number from 1 to 1000000 (${DEFAULT_QUEUE_TARGET} applies)` };
}

/** What the scaler remembers of a function between two decisions (in memory, per gateway). */
export interface QueueMemory {
  /** Last time there were pending messages or the consumers moved on (ms). */
  activeAt: number;
  /** The consumers' delivered counters at the last look: a change means messages came and went between two looks. */
  delivered: number;
  /** Since when fewer replicas than now have been wanted, and the most wanted meanwhile. */
  lowerSince?: number;
  lowerMost?: number;
}

export interface QueueInput {
  now: number;
  replicas: number;
  pending: number;
  delivered: number;
  limits: Pick<ScaleLimits, 'min' | 'max' | 'scaleToZero' | 'idleSeconds'>;
  target: number;
  scaleDownDelayMs: number;
  /** undefined: first look at this function. */
  memory: QueueMemory | undefined;
}

export interface QueueDecision {
  /** Replicas to scale to; undefined: leave it. */
  to?: number;
  /** Why, in words (logs). */
  reason: string;
  memory: QueueMemory;
}

export function decideQueue(input: QueueInput): QueueDecision {
  const { now, replicas, pending, delivered, limits, target } = input;
  // A first look counts as activity: a gateway that just started does not put a function to sleep before its idle period.
  const moved = input.memory === undefined || delivered !== input.memory.delivered;
  const activeAt = pending > 0 || moved ? now : input.memory!.activeAt;
  const memory: QueueMemory = { activeAt, delivered };
  const idleMs = now - activeAt;

  let wanted: number;
  let why: string;
  if (pending > 0) {
    wanted = Math.min(limits.max, Math.max(1, limits.min, Math.ceil(pending / target)));
    why = `${pending} pending (target ${target} per replica)`;
  } else if (limits.scaleToZero && idleMs >= limits.idleSeconds * 1000) {
    wanted = 0;
    why = `queue empty for ${Math.round(idleMs / 1000)} s`;
  } else {
    // Empty, but not for long enough to sleep: the minimum (1 for a function that may sleep, so the last messages' replica stays for its idle period).
    wanted = limits.scaleToZero ? Math.max(1, limits.min) : limits.min;
    if (replicas === 0 && wanted > 0) wanted = limits.scaleToZero ? 0 : wanted; // asleep and nothing to do: stay asleep
    why = 'queue empty';
  }

  if (wanted > replicas) return { to: wanted, reason: `${why}: up from ${replicas}`, memory };
  if (wanted === replicas) return { reason: why, memory };
  // Fewer wanted. To zero is decided by the idle period, which has passed; any other step down waits the delay.
  if (wanted === 0) return { to: 0, reason: why, memory };
  const lowerSince = input.memory?.lowerSince ?? now;
  const lowerMost = Math.max(wanted, input.memory?.lowerMost ?? 0);
  if (now - lowerSince >= input.scaleDownDelayMs && lowerMost < replicas) {
    return { to: lowerMost, reason: `${why}: down from ${replicas} after ${Math.round((now - lowerSince) / 1000)} s`, memory };
  }
  return { reason: `${why}: ${wanted} wanted, waiting before scaling down`, memory: { ...memory, lowerSince, lowerMost } };
}
