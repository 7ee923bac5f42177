// @ts-check
// Polls GET /system/functions every 2 s and keeps, in memory, the last 15
// minutes of each function's invocation rate (deltas of invocationCount) and
// replicas, plus the changes of desired replicas it saw: what the autoscaler
// (or a person) did. This is the live part of every chart: it extends the
// history read from Prometheus, and stands alone while Prometheus is down.
// Every view reads from here, so it survives navigation between pages.
import { listFunctions } from './api.js';

export const POLL_MS = 2000;
export const WINDOW_MS = 15 * 60 * 1000;

/**
 * @typedef {import('./types.js').Sample} Sample
 * @typedef {import('./types.js').LiveScaleEvent} ScaleEvent
 * @typedef {import('./types.js').FunctionStatus} FunctionStatus
 */

/** @type {Map<string, FunctionStatus>} name -> latest status from the gateway */
const functions = new Map();
/** @type {Map<string, Sample[]>} */
const history = new Map();
/** @type {Map<string, ScaleEvent[]>} */
const scaleEvents = new Map();
/** @type {Set<() => void>} */
const listeners = new Set();

const state = {
  /** time of the last successful poll (ms), 0 before the first */
  updatedAt: 0,
  /** @type {Error | null} */
  error: null,
  loaded: false,
};

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
/** @type {Promise<void> | null} */
let inFlight = null;

/** Shortest span a rate is measured over: extra polls right after an action would otherwise turn one call into "5 req/s". */
const MIN_RATE_SPAN_MS = 1500;

/**
 * Pure: the sample for `fn` at time `t`, given the earlier ones. The rate is
 * the count's growth since the latest sample at least MIN_RATE_SPAN_MS old;
 * null for the first samples and after a counter reset (gateway restart).
 * @param {Sample[]} earlier
 * @param {Pick<FunctionStatus, 'invocationCount' | 'replicas' | 'availableReplicas'>} fn
 * @param {number} t
 * @returns {Sample}
 */
export function nextSample(earlier, fn, t) {
  const count = Number(fn.invocationCount) || 0;
  const replicas = Number(fn.replicas) || 0;
  const available = Number(fn.availableReplicas ?? fn.replicas) || 0;
  /** @type {Sample | undefined} */
  let base;
  for (let i = earlier.length - 1; i >= 0; i -= 1) {
    const sample = /** @type {Sample} */ (earlier[i]);
    if (sample.t <= t - MIN_RATE_SPAN_MS) {
      base = sample;
      break;
    }
  }
  const latest = earlier.at(-1);
  const reset = latest !== undefined && count < latest.count;
  const rate = base && !reset && count >= base.count ? ((count - base.count) * 1000) / (t - base.t) : null;
  return { t, count, rate, replicas, available };
}

/**
 * @param {FunctionStatus[]} list
 * @param {number} now
 */
function record(list, now) {
  const seen = new Set();
  for (const fn of list) {
    if (!fn || typeof fn.name !== 'string') continue;
    seen.add(fn.name);
    functions.set(fn.name, fn);
    const samples = history.get(fn.name) ?? [];
    const prev = samples.at(-1);
    const sample = nextSample(samples, fn, now);
    samples.push(sample);
    while ((samples[0]?.t ?? now) < now - WINDOW_MS) samples.shift();
    history.set(fn.name, samples);
    if (prev && prev.replicas !== sample.replicas) {
      const events = scaleEvents.get(fn.name) ?? [];
      events.push({ t: now, from: prev.replicas, to: sample.replicas });
      while ((events[0]?.t ?? now) < now - WINDOW_MS) events.shift();
      scaleEvents.set(fn.name, events);
    }
  }
  for (const name of [...functions.keys()]) {
    if (!seen.has(name)) {
      functions.delete(name);
      history.delete(name);
      scaleEvents.delete(name);
    }
  }
}

async function poll() {
  clearTimeout(timer);
  try {
    const list = await listFunctions();
    record(list, Date.now());
    state.updatedAt = Date.now();
    state.error = null;
    state.loaded = true;
  } catch (err) {
    state.error = err instanceof Error ? err : new Error(String(err));
  }
  for (const listener of listeners) {
    try {
      listener();
    } catch (err) {
      console.error(err);
    }
  }
  timer = setTimeout(refresh, POLL_MS);
}

/** Polls now (after the UI changed something) instead of waiting for the next tick. */
export function refresh() {
  if (!inFlight) inFlight = poll().finally(() => (inFlight = null));
  return inFlight;
}

/**
 * Calls `listener` after every poll; returns the unsubscribe function.
 * @param {() => void} listener
 * @returns {() => void}
 */
export function subscribe(listener) {
  listeners.add(listener);
  if (!timer && !inFlight) refresh();
  return () => {
    listeners.delete(listener);
  };
}

export const monitor = {
  state,
  list: () => [...functions.values()].sort((a, b) => String(a.name).localeCompare(String(b.name))),
  /** @param {string} name */
  get: (name) => functions.get(name),
  /** @param {string} name @returns {Sample[]} */
  history: (name) => history.get(name) ?? [],
  /** @param {string} name @returns {ScaleEvent[]} */
  events: (name) => scaleEvents.get(name) ?? [],
  /**
   * Latest invocation rate (req/s) of a function, or null before two samples.
   * @param {string} name
   * @returns {number | null}
   */
  rate: (name) => history.get(name)?.at(-1)?.rate ?? null,
};
