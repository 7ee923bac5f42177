// @ts-check
// History from Prometheus (through the gateway) joined with what the page
// sees live: the history covers the window up to the moment it was read,
// the monitor's polls extend it from there. Pure functions: no DOM, no I/O.

/**
 * @typedef {import('./types.js').Pair} Pair
 * @typedef {import('./types.js').Point} Point
 * @typedef {import('./types.js').Sample} Sample
 * @typedef {import('./types.js').ChartEvent} ChartEvent
 * @typedef {import('./types.js').LiveScaleEvent} LiveScaleEvent
 * @typedef {import('./types.js').ScalingEventKind} ScalingEventKind
 * @typedef {import('./types.js').FunctionHistory} FunctionHistory
 */

/** The windows the UI offers (the gateway accepts exactly these). */
export const WINDOWS = /** @type {const} */ ([
  { name: '5m', label: '5 min', ms: 5 * 60_000 },
  { name: '15m', label: '15 min', ms: 15 * 60_000 },
  { name: '1h', label: '1 h', ms: 60 * 60_000 },
  { name: '6h', label: '6 h', ms: 6 * 60 * 60_000 },
  { name: '24h', label: '24 h', ms: 24 * 60 * 60_000 },
]);
export const DEFAULT_WINDOW = '15m';

/**
 * @param {string} name
 * @returns {(typeof WINDOWS)[number]}
 */
export function windowOf(name) {
  return WINDOWS.find((w) => w.name === name) ?? /** @type {(typeof WINDOWS)[number]} */ (WINDOWS.find((w) => w.name === DEFAULT_WINDOW));
}

/**
 * [unix seconds, value] pairs as chart points in ms, with a gap (null) where
 * samples are missing for longer than `maxGapMs` (no data for a while).
 * @param {Pair[] | undefined} pairs
 * @param {number} maxGapMs
 * @param {number} [shiftMs] added to every time (the server's clock to the page's)
 * @returns {Point[]}
 */
export function pointsOf(pairs, maxGapMs, shiftMs = 0) {
  /** @type {Point[]} */
  const out = [];
  let last = -Infinity;
  for (const [seconds, value] of pairs ?? []) {
    const t = seconds * 1000 + shiftMs;
    if (out.length > 0 && t - last > maxGapMs) out.push({ t: last + 1, v: null });
    out.push({ t, v: value });
    last = t;
  }
  return out;
}

/**
 * The sum over status codes at each time (every code's series has the same
 * step times; a code missing at a time adds nothing).
 * @param {Record<string, Pair[]>} byCode
 * @returns {Pair[]}
 */
export function totalRate(byCode) {
  /** @type {Map<number, number>} */
  const sums = new Map();
  for (const pairs of Object.values(byCode)) for (const [t, v] of pairs) sums.set(t, (sums.get(t) ?? 0) + v);
  return [...sums].sort(([a], [b]) => a - b);
}

/** The monitor polls every 2 s; a longer silence among its samples (a hidden tab) is a gap. */
export const LIVE_GAP_MS = 10_000;

/**
 * History points up to `historyEnd`, then the live samples after it.
 * @param {Point[]} history
 * @param {Sample[]} live
 * @param {(s: Sample) => number | null} value
 * @param {number | null} historyEnd ms on the page's clock; null: no history (live only)
 * @returns {Point[]}
 */
export function joinLive(history, live, value, historyEnd) {
  const after = historyEnd === null ? live : live.filter((s) => s.t > historyEnd);
  /** @type {Point[]} */
  const tail = [];
  for (const s of after) {
    const prev = tail.at(-1);
    if (prev && s.t - prev.t > LIVE_GAP_MS) tail.push({ t: prev.t + 1, v: null });
    tail.push({ t: s.t, v: value(s) });
  }
  if (historyEnd === null) return tail;
  // Live samples older than the first value Prometheus has (a function it has not scraped yet) stay:
  // without them a change seen live before the first scrape would vanish from the chart.
  const known = history.filter((p) => p.t <= historyEnd);
  const firstKnown = known.find((p) => p.v !== null)?.t ?? Infinity;
  const lead = live.filter((s) => s.t < firstKnown && s.t <= historyEnd).map((s) => ({ t: s.t, v: value(s) }));
  return [...lead, ...(lead.length > 0 ? known.filter((p) => p.t >= firstKnown) : known), ...tail];
}

/**
 * The kind of a change of desired replicas (as the gateway counts them).
 * @param {number} from
 * @param {number} to
 * @returns {ScalingEventKind}
 */
export function eventKind(from, to) {
  if (to === 0) return 'zero';
  if (from === 0) return 'wake';
  return to > from ? 'up' : 'down';
}

const KIND_LABELS = { up: 'up', down: 'down', zero: 'to zero', wake: 'wake' };

/**
 * Scale events for the chart: those the page saw itself (they know from and
 * to) and those Prometheus counted (the kind and the step they fell in). A
 * counted event that matches one seen live (same kind, from a little before
 * to a step and a scrape after it) is the same event: the live one is kept.
 * @param {FunctionHistory['events']} counted
 * @param {LiveScaleEvent[]} seen
 * @param {number} stepMs the history's step
 * @param {number} [shiftMs] server clock to page clock
 * @returns {ChartEvent[]}
 */
export function mergeEvents(counted, seen, stepMs, shiftMs = 0) {
  /** @type {ChartEvent[]} */
  const live = seen.filter((e) => e.from !== e.to).map((e) => ({ t: e.t, kind: eventKind(e.from, e.to), label: `${e.from}→${e.to}`, from: e.from, to: e.to }));
  const unmatched = [...live];
  /** @type {ChartEvent[]} */
  const fromHistory = [];
  for (const e of counted) {
    const t = e.time * 1000 + shiftMs;
    let count = e.count;
    // Prometheus sees an event at its next scrape (5 s), in the step that holds it.
    for (let i = unmatched.length - 1; i >= 0 && count > 0; i -= 1) {
      const candidate = /** @type {ChartEvent} */ (unmatched[i]);
      if (candidate.kind === e.event && candidate.t >= t - stepMs - 15_000 && candidate.t <= t + 5_000) {
        unmatched.splice(i, 1);
        count -= 1;
      }
    }
    if (count > 0) fromHistory.push({ t, kind: e.event, count, label: count > 1 ? `${KIND_LABELS[e.event]} ×${count}` : KIND_LABELS[e.event] });
  }
  return [...fromHistory, ...live].sort((a, b) => a.t - b.t);
}

/**
 * Mean, peak and latest of the points with a value.
 * @param {Point[]} points
 * @returns {{mean: number | null, peak: number | null, last: number | null}}
 */
export function statsOf(points) {
  const values = points.map((p) => p.v).filter(/** @returns {v is number} */ (v) => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return { mean: null, peak: null, last: null };
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, peak: Math.max(...values), last: /** @type {number} */ (values.at(-1)) };
}

/**
 * How far the server's clock is from the page's, when it matters: the
 * history ends at the server's "now", which the page read at `receivedAt`.
 * Differences of a few seconds (the request's own time) are left alone.
 * @param {number} serverEndSeconds
 * @param {number} receivedAt ms, page clock
 */
export function clockShift(serverEndSeconds, receivedAt) {
  const shift = receivedAt - serverEndSeconds * 1000;
  return Math.abs(shift) > 5_000 ? shift : 0;
}

/**
 * Steps of a replica line: [1, 5, 10, 1] for a function taken from 1 to 10 and back.
 * @param {Point[]} points
 * @returns {number[]}
 */
export function stepsOf(points) {
  /** @type {number[]} */
  const out = [];
  for (const p of points) if (p.v !== null && out.at(-1) !== p.v) out.push(p.v);
  return out;
}
