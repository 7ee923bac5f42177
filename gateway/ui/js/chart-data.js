// @ts-check
// What a function's chart shows, from its history (or none, when Prometheus
// is down) and the monitor's live samples and seen replica changes. Pure.
import { clockShift, joinLive, mergeEvents, pointsOf, statsOf, totalRate } from './history.js';

/**
 * @typedef {import('./types.js').Point} Point
 * @typedef {import('./types.js').Sample} Sample
 * @typedef {import('./types.js').ChartEvent} ChartEvent
 * @typedef {import('./types.js').LiveScaleEvent} LiveScaleEvent
 * @typedef {import('./types.js').FunctionHistory} FunctionHistory
 */

/**
 * @typedef {object} ChartData
 * @property {number} start ms, page clock
 * @property {number} end ms (now)
 * @property {Point[]} rate every status code together: history, then live
 * @property {Array<{code: string, points: Point[], peak: number | null, last: number | null}>} codes each code from history
 * @property {Point[]} replicas desired
 * @property {Point[]} available
 * @property {Point[]} duration mean seconds per invocation (history only)
 * @property {ChartEvent[]} events
 * @property {number | null} historyEnd where the history ends and the live part begins; null: no history
 * @property {number} historyPoints rate points from history in the window
 * @property {Point[]} [queue] pending messages (events panel), drawn on a scale of its own
 */

/**
 * @param {{history: FunctionHistory | null, receivedAt: number, live: Sample[], liveEvents: LiveScaleEvent[], windowMs: number, now: number}} input
 * @returns {ChartData}
 */
export function chartData({ history, receivedAt, live, liveEvents, windowMs, now }) {
  const start = now - windowMs;
  const liveRate = (/** @type {Sample} */ s) => s.rate;
  const liveReplicas = (/** @type {Sample} */ s) => s.replicas;
  const liveAvailable = (/** @type {Sample} */ s) => s.available;
  const inWindow = (/** @type {Point[]} */ points) => points.filter((p) => p.t >= start && p.t <= now + 1000);

  if (!history) {
    return {
      start,
      end: now,
      rate: inWindow(joinLive([], live, liveRate, null)),
      codes: [],
      replicas: inWindow(joinLive([], live, liveReplicas, null)),
      available: inWindow(joinLive([], live, liveAvailable, null)),
      duration: [],
      events: mergeEvents([], liveEvents, 0).filter((e) => e.t >= start),
      historyEnd: null,
      historyPoints: 0,
    };
  }
  const shift = clockShift(history.end, receivedAt);
  const stepMs = history.step * 1000;
  const gap = stepMs * 2.5;
  const historyEnd = history.end * 1000 + shift;
  const rateHistory = pointsOf(totalRate(history.rate), gap, shift);
  const codes = Object.entries(history.rate)
    .filter(([code]) => code !== '200')
    .map(([code, pairs]) => {
      const points = inWindow(pointsOf(pairs, gap, shift));
      const { peak, last } = statsOf(points);
      return { code, points, peak, last };
    })
    .filter((c) => (c.peak ?? 0) > 0);
  return {
    start,
    end: now,
    rate: inWindow(joinLive(rateHistory, live, liveRate, historyEnd)),
    codes,
    replicas: inWindow(joinLive(pointsOf(history.replicas, gap, shift), live, liveReplicas, historyEnd)),
    available: inWindow(joinLive(pointsOf(history.availableReplicas, gap, shift), live, liveAvailable, historyEnd)),
    duration: inWindow(pointsOf(history.duration, gap, shift)),
    events: mergeEvents(history.events, liveEvents, stepMs, shift).filter((e) => e.t >= start),
    historyEnd,
    historyPoints: rateHistory.filter((p) => p.v !== null && p.t >= start).length,
  };
}

/**
 * @typedef {object} SummaryData
 * @property {number} start
 * @property {number} end
 * @property {Point[]} rate
 * @property {Point[]} replicas
 * @property {Point[]} available
 * @property {Point[]} duration
 * @property {number} historyPoints
 */

/**
 * One function's sparkline and numbers on the list and the overview: its
 * part of GET /system/functions/history (or none) joined with the live samples.
 * @param {{history: import('./types.js').FunctionsHistory | null, name: string, receivedAt: number, live: Sample[], windowMs: number, now: number}} input
 * @returns {SummaryData}
 */
export function summaryData({ history, name, receivedAt, live, windowMs, now }) {
  const start = now - windowMs;
  const own = history?.functions[name];
  const inWindow = (/** @type {Point[]} */ points) => points.filter((p) => p.t >= start && p.t <= now + 1000);
  if (!history || !own) {
    // No history (Prometheus down, or a function newer than the answer): live only.
    return {
      start,
      end: now,
      rate: inWindow(joinLive([], live, (s) => s.rate, null)),
      replicas: inWindow(joinLive([], live, (s) => s.replicas, null)),
      available: inWindow(joinLive([], live, (s) => s.available, null)),
      duration: [],
      historyPoints: 0,
    };
  }
  const shift = clockShift(history.end, receivedAt);
  const gap = history.step * 2500;
  const historyEnd = history.end * 1000 + shift;
  const rateHistory = pointsOf(own.rate, gap, shift);
  return {
    start,
    end: now,
    rate: inWindow(joinLive(rateHistory, live, (s) => s.rate, historyEnd)),
    replicas: inWindow(joinLive(pointsOf(own.replicas, gap, shift), live, (s) => s.replicas, historyEnd)),
    available: inWindow(joinLive(pointsOf(own.availableReplicas, gap, shift), live, (s) => s.available, historyEnd)),
    duration: inWindow(pointsOf(own.duration, gap, shift)),
    historyPoints: rateHistory.filter((p) => p.v !== null && p.t >= start).length,
  };
}
