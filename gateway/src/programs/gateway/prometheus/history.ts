// What the history routes ask Prometheus, and how its answers become the
// JSON the UI and scripts read. Pure: no I/O. The gateway builds every query
// itself from this fixed set; nothing of the request but the window choice
// and a known function's name goes into one, and the name only as an
// escaped label value.
import { SCALING_EVENTS, type ScalingEvent } from '../metrics.js';
import type { RangeSeries } from './client.js';

/** The windows the UI offers, each with a step that gives 60-150 points. */
export const HISTORY_WINDOWS = {
  '5m': { seconds: 300, step: 5 },
  '15m': { seconds: 900, step: 10 },
  '1h': { seconds: 3600, step: 30 },
  '6h': { seconds: 21600, step: 180 },
  '24h': { seconds: 86400, step: 600 },
} as const;

export type WindowName = keyof typeof HISTORY_WINDOWS;
export const DEFAULT_WINDOW: WindowName = '15m';

export interface HistoryWindow {
  name: WindowName;
  seconds: number;
  step: number;
}

/** A sample: [unix seconds, value]. */
export type Pair = [number, number];

export interface ScalingEventPoint {
  /** Unix seconds of the step in which the event happened (the step's end). */
  time: number;
  event: ScalingEvent;
  /** Events of that kind in the step (usually 1). */
  count: number;
}

export interface Range {
  start: number;
  end: number;
  step: number;
}

/** GET /system/function/{name}/history */
export interface FunctionHistory extends Range {
  name: string;
  window: WindowName;
  /** Invocations per second, by HTTP status code. */
  rate: Record<string, Pair[]>;
  /** Mean seconds per invocation (steps without invocations have no sample). */
  duration: Pair[];
  replicas: Pair[];
  availableReplicas: Pair[];
  events: ScalingEventPoint[];
}

/** One function in GET /system/functions/history. */
export interface FunctionSummaryHistory {
  /** Invocations per second, every status code together. */
  rate: Pair[];
  duration: Pair[];
  replicas: Pair[];
  availableReplicas: Pair[];
}

export interface FunctionsHistory extends Range {
  window: WindowName;
  functions: Record<string, FunctionSummaryHistory>;
}

export function parseWindow(value: unknown): { ok: true; window: HistoryWindow } | { ok: false; message: string } {
  const text = value === undefined || value === '' ? DEFAULT_WINDOW : value;
  if (typeof text === 'string' && Object.hasOwn(HISTORY_WINDOWS, text)) {
    const name = text as WindowName;
    return { ok: true, window: { name, ...HISTORY_WINDOWS[name] } };
  }
  const shown = Array.isArray(text) ? `${text.length} values` : JSON.stringify(text);
  return { ok: false, message: `invalid window ${shown}: expected one of ${Object.keys(HISTORY_WINDOWS).join(', ')}` };
}

/** The window ending now, in whole seconds. */
export function rangeOf(window: HistoryWindow, nowMs: number): Range {
  const end = Math.floor(nowMs / 1000);
  return { start: end - window.seconds, end, step: window.step };
}

/**
 * The range a rate() looks back over: at least four scrapes (Prometheus
 * scrapes the gateway every 5 s) and at least one step, so no invocation
 * falls between two points.
 */
export function rateRange(window: HistoryWindow): string {
  return `${Math.max(20, window.step)}s`;
}

/** A PromQL string literal: PromQL strings take Go's escapes, which JSON's are a subset of. */
export function promString(value: string): string {
  return JSON.stringify(value);
}

export function functionQueries(name: string, window: HistoryWindow) {
  const match = `{function_name=${promString(name)}}`;
  const r = `[${rateRange(window)}]`;
  return {
    rate: `sum by (code) (rate(gateway_function_invocation_total${match}${r}))`,
    duration: `sum(rate(gateway_functions_seconds_sum${match}${r})) / sum(rate(gateway_functions_seconds_count${match}${r}))`,
    // max, not sum: every gateway reports the same replicas.
    replicas: `max(gateway_service_count${match})`,
    availableReplicas: `max(gateway_service_available_replicas${match})`,
    events: `sum by (event) (gateway_scaling_events_total${match})`,
  };
}

export function allFunctionsQueries(window: HistoryWindow) {
  const r = `[${rateRange(window)}]`;
  return {
    rate: `sum by (function_name) (rate(gateway_function_invocation_total${r}))`,
    duration: `sum by (function_name) (rate(gateway_functions_seconds_sum${r})) / sum by (function_name) (rate(gateway_functions_seconds_count${r}))`,
    replicas: `max by (function_name) (gateway_service_count)`,
    availableReplicas: `max by (function_name) (gateway_service_available_replicas)`,
  };
}

/** Samples at or after `since` (unix seconds), values rounded to 6 significant digits. */
export function pairsOf(series: RangeSeries | undefined, since = -Infinity): Pair[] {
  if (!series) return [];
  return series.values.filter(([t]) => t >= since).map(([t, v]) => [t, round(v)]);
}

/**
 * Scale events from the counter's samples at each step: an increase between
 * two steps is that many events, at the later step. A drop is a counter reset
 * (a gateway restarted): what is counted after it are new events. A series
 * first seen after the window began at a value above 0 was born with its
 * first events.
 */
export function eventsOf(series: RangeSeries[], range: Range, since = -Infinity): ScalingEventPoint[] {
  const points: ScalingEventPoint[] = [];
  for (const s of series) {
    const event = s.metric.event as ScalingEvent;
    if (!SCALING_EVENTS.includes(event)) continue;
    let previous: number | undefined;
    for (const [t, v] of s.values) {
      const increase = previous === undefined ? (t > range.start + range.step ? v : 0) : v >= previous ? v - previous : v;
      previous = v;
      const count = Math.round(increase);
      if (count > 0 && t >= since) points.push({ time: t, event, count });
    }
  }
  return points.sort((a, b) => a.time - b.time || a.event.localeCompare(b.event));
}

/** Series by the value of one label. */
export function byLabel(series: RangeSeries[], label: string): Map<string, RangeSeries> {
  const out = new Map<string, RangeSeries>();
  for (const s of series) {
    const key = s.metric[label];
    if (key !== undefined) out.set(key, s);
  }
  return out;
}

/** Unix seconds of an RFC 3339 time, or -Infinity when absent or unreadable. */
export function sinceOf(createdAt: string | undefined): number {
  const ms = createdAt ? Date.parse(createdAt) : Number.NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : -Infinity;
}

function round(v: number): number {
  return Number(v.toPrecision(6));
}
