// Capacity scaling (Knative's concurrency autoscaler; OpenFaaS sells it as
// "capacity"): a function labelled com.openfaas.scale.type=capacity is sized
// on its calls in flight and waiting, summed over every program that
// invokes it (queue/load-reports.ts), against a target per replica
// (com.openfaas.scale.target; default 70 % of its concurrency limit, as
// Knative's target utilisation). Pure: the decision for one function at one
// moment, from the demand now, what was seen before, and its limits.
//
//   stable     ceil(average demand over the stable window / target): up and down
//              with the load's trend, a momentary dip changes nothing; a step down
//              must leave DOWN_ROOM to spare, so that a steady load whose average
//              hovers at a boundary (19.4 calls at 1.4 a replica: 14 or 15?) does
//              not move the function back and forth
//   panic      entered when ceil(demand / target) over the panic window, or now (the
//              calls in flight and waiting at the last reports: a burst shows in them
//              before it fills an average), is at least twice the ready replicas: up at once to that, and no
//              step down until a stable window has passed without that condition
//   to zero    with com.openfaas.scale.zero=true, once nothing was in flight,
//              waiting or begun anywhere for the idle period; a sleeping function
//              with no demand stays asleep (a call wakes it: scaling/wake.ts)
import { LABEL } from '../../../core/labels.js';
import type { ScaleLimits } from './policy.js';

/** Target per replica of a function with no concurrency limit and no target label. */
export const DEFAULT_CAPACITY_TARGET = 10;
/** Knative's target utilisation: the default target is this share of the concurrency limit. */
export const TARGET_UTILISATION = 0.7;
/** Panic is entered when the panic window wants at least this many times the ready replicas (Knative's 200 %). */
export const PANIC_THRESHOLD = 2;
/** A step down is to replicas that keep the average at this share of the target or below (10 % to spare). */
export const DOWN_ROOM = 0.9;

export function isCapacityScaled(labels: Record<string, string>): boolean {
  return labels[LABEL.scaleType]?.trim().toLowerCase() === 'capacity';
}

/** Calls in flight per replica the function is sized for; a label that is not a whole number from 1 to the limit is a problem (the default applies). */
export function capacityTargetOf(labels: Record<string, string>, concurrency: number | undefined): { target: number; problem?: string } {
  const fallback = concurrency !== undefined ? Math.max(1, concurrency * TARGET_UTILISATION) : DEFAULT_CAPACITY_TARGET;
  const text = labels[LABEL.scaleTarget];
  if (text === undefined) return { target: fallback };
  const max = concurrency ?? 1_000_000;
  if (/^\s*\d+\s*$/.test(text) && Number(text) >= 1 && Number(text) <= max) return { target: Number(text) };
  const why = concurrency !== undefined && /^\s*\d+\s*$/.test(text) && Number(text) > max ? `is above the concurrency limit (${LABEL.concurrency}=${concurrency}): a replica never has more in flight` : `is not a whole number from 1 to ${max}`;
  return { target: fallback, problem: `${LABEL.scaleTarget}=${JSON.stringify(text)} ${why} (${Math.round(fallback * 100) / 100} applies)` };
}

export interface CapacityWindows {
  stableMs: number;
  panicMs: number;
}

/** What the scaler remembers of a function between two decisions (in memory, per gateway). */
export interface CapacityMemory {
  /** Demand seen at each look within the stable window, oldest first. */
  samples: Array<{ at: number; demand: number }>;
  /** Last time the panic condition held. */
  panicAt?: number;
  /** First look: a gateway that just started does not put a function to sleep before its idle period. */
  firstAt: number;
}

export interface CapacityInput {
  now: number;
  /** Replicas wanted now, and ready. */
  replicas: number;
  ready: number;
  /** In flight + waiting over every program (their last periods' averages). */
  demand: number;
  /** In flight + waiting over every program at their last reports (not averaged); default `demand`. */
  current?: number;
  /** When any program last had a call of it in flight, waiting or begun; undefined: not since this gateway started. */
  lastBusy: number | undefined;
  limits: Pick<ScaleLimits, 'min' | 'max' | 'scaleToZero' | 'idleSeconds'>;
  target: number;
  windows: CapacityWindows;
  memory: CapacityMemory | undefined;
}

export interface CapacityDecision {
  /** Replicas to scale to; undefined: leave it. */
  to?: number;
  /** Why, in words (logs). */
  reason: string;
  panicking: boolean;
  memory: CapacityMemory;
}

export function decideCapacity(input: CapacityInput): CapacityDecision {
  const { now, replicas, ready, demand, limits, target, windows } = input;
  const samples = (input.memory?.samples ?? []).filter((s) => s.at > now - windows.stableMs);
  samples.push({ at: now, demand });
  const firstAt = input.memory?.firstAt ?? now;
  const stableAverage = average(samples);
  const panicAverage = average(samples.filter((s) => s.at > now - windows.panicMs));
  const stableUp = Math.ceil(round(stableAverage / target));
  const stableWanted = stableUp > replicas ? stableUp : Math.min(replicas, Math.ceil(round(stableAverage / (target * DOWN_ROOM))));
  // Up at once: the demand now counts as much as the panic window's average.
  const panicWanted = Math.ceil(round(Math.max(panicAverage, demand, input.current ?? 0) / target));
  const panicNow = panicWanted > replicas && panicWanted >= PANIC_THRESHOLD * Math.max(ready, 1);
  const panicAt = panicNow ? now : input.memory?.panicAt;
  const panicking = panicAt !== undefined && now - panicAt < windows.stableMs;
  const memory: CapacityMemory = { samples, firstAt, ...(panicAt !== undefined ? { panicAt } : {}) };

  const busyAt = Math.max(input.lastBusy ?? -Infinity, firstAt);
  const idleMs = now - busyAt;
  const figures = `demand ${round(demand)}, ${round(stableAverage)} over ${windows.stableMs / 1000} s, target ${round(target)} per replica`;

  if (replicas === 0 && demand === 0 && !input.current) return { reason: 'asleep, no demand', panicking: false, memory };
  if (limits.scaleToZero && demand === 0 && !input.current && idleMs >= limits.idleSeconds * 1000) {
    return replicas === 0 ? { reason: 'asleep', panicking: false, memory } : { to: 0, reason: `nothing in flight for ${Math.round(idleMs / 1000)} s`, panicking: false, memory };
  }

  let wanted = panicking ? Math.max(panicWanted, stableWanted, replicas) : stableWanted;
  // While anything is asked of it, or while it may still sleep later, it keeps a replica.
  if (demand > 0 || (input.current ?? 0) > 0 || stableAverage > 0 || limits.scaleToZero) wanted = Math.max(wanted, 1);
  wanted = Math.min(limits.max, Math.max(limits.min, wanted));

  if (wanted === replicas) return { reason: `${figures}${panicking ? ' (panic)' : ''}`, panicking, memory };
  const mode = panicking ? (panicNow ? 'panic: burst' : 'panic') : 'stable';
  return { to: wanted, reason: `${figures}: ${wanted > replicas ? 'up' : 'down'} from ${replicas} (${mode})`, panicking, memory };
}

function average(samples: ReadonlyArray<{ demand: number }>): number {
  if (samples.length === 0) return 0;
  let total = 0;
  for (const s of samples) total += s.demand;
  return total / samples.length;
}

/** Rounded to a thousandth, so that 1.4 / 1.4 is 1 and not 1.0000000000000002. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
