// @ts-check
// The SVG chart of one function over the chosen window: invocation rate
// (area: every status code; thin lines: each code other than 200; left axis)
// and replicas (desired dashed, available solid; right axis), scale events
// as markers, and below it the mean duration. History from Prometheus up to
// the moment it was read, live polls after that. Redrawn on every update and
// when its box changes size.
import { replaceChildren, s } from './dom.js';
import { agoLabel, niceCeil, rateAxisMax, replicaAxisMax, scale, tickEvery } from './chart-scale.js';
import { formatRate, formatSeconds } from './format.js';
import { statsOf, stepsOf } from './history.js';

/**
 * @typedef {import('./types.js').Point} Point
 * @typedef {import('./chart-data.js').ChartData} ChartData
 */

const HEIGHT = 300;
const MARGIN = { left: 48, right: 40 };
const MAIN = { top: 24, height: 150 };
const LOWER = { top: 200, height: 62 };
const AXIS_Y = HEIGHT - 10;

/**
 * The unbroken runs of points with a value: a gap (null) ends a run.
 * @param {Point[]} points
 * @returns {Array<Array<{t: number, v: number}>>}
 */
function runsOf(points) {
  /** @type {Array<Array<{t: number, v: number}>>} */
  const runs = [];
  let open = false;
  for (const p of points) {
    if (p.v === null) {
      open = false;
      continue;
    }
    if (!open) runs.push([]);
    /** @type {Array<{t: number, v: number}>} */ (runs.at(-1)).push({ t: p.t, v: p.v });
    open = true;
  }
  return runs;
}

/** @param {number} n */
const f1 = (n) => n.toFixed(1);

/**
 * An SVG path through the points, broken at gaps (null values).
 * @param {Point[]} points
 * @param {(t: number) => number} x
 * @param {(v: number) => number} y
 */
export function linePath(points, x, y) {
  return runsOf(points)
    .map((run) => run.map((p, i) => `${i === 0 ? 'M' : 'L'}${f1(x(p.t))},${f1(y(p.v))}`).join(''))
    .join('');
}

/**
 * The area under a line down to `bottom`, one closed shape per unbroken run.
 * @param {Point[]} points
 * @param {(t: number) => number} x
 * @param {(v: number) => number} y
 * @param {number} bottom
 */
export function areaPath(points, x, y, bottom) {
  return runsOf(points)
    .map((run) => {
      const first = /** @type {{t: number}} */ (run[0]);
      const last = /** @type {{t: number}} */ (run.at(-1));
      return `M${f1(x(first.t))},${bottom}${run.map((p) => `L${f1(x(p.t))},${f1(y(p.v))}`).join('')}L${f1(x(last.t))},${bottom}Z`;
    })
    .join('');
}

/**
 * A step line (replicas hold their value until the next sample), carried on
 * to `endX` when the last point has a value.
 * @param {Point[]} points
 * @param {(t: number) => number} x
 * @param {(v: number) => number} y
 * @param {number} endX
 */
export function stepPath(points, x, y, endX) {
  const d = runsOf(points)
    .map((run) => run.map((p, i) => (i === 0 ? `M${f1(x(p.t))},${f1(y(p.v))}` : `H${f1(x(p.t))}V${f1(y(p.v))}`)).join(''))
    .join('');
  const last = points.at(-1);
  return last && last.v !== null ? `${d}H${f1(endX)}` : d;
}

/**
 * Pending messages (when the function has had any in the window): a step line
 * on a scale of its own, its top value written at the upper left.
 * @param {ChartData} data
 * @param {(t: number) => number} x
 * @param {number} bottom
 * @param {number} left
 * @returns {SVGElement[]}
 */
function queueLine(data, x, bottom, left) {
  const points = data.queue ?? [];
  const peak = Math.max(0, ...points.map((p) => p.v ?? 0));
  if (peak === 0) return [];
  const top = niceCeil(peak);
  const y = scale(0, top, bottom, MAIN.top);
  return [
    s('path', { class: 'queue-line', d: stepPath(points, x, y, x(data.end)), 'data-peak': peak }),
    s('text', { class: 'axis axis-queue', x: left + 4, y: MAIN.top + 10 }, `pending (top ${top})`),
  ];
}

/**
 * @param {{labelledBy: string}} options
 * @returns {{el: SVGSVGElement, update: (data: ChartData, windowName: string) => void, dispose: () => void}}
 */
export function createChart({ labelledBy }) {
  const svg = s('svg', { class: 'chart', role: 'img', 'aria-labelledby': labelledBy, height: HEIGHT });
  /** @type {{data: ChartData, windowName: string} | null} */
  let last = null;

  const draw = () => {
    if (!last) return;
    const { data, windowName } = last;
    const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    const left = MARGIN.left;
    const right = width - MARGIN.right;
    const x = scale(data.start, data.end, left, right);
    const mainBottom = MAIN.top + MAIN.height;
    const lowerBottom = LOWER.top + LOWER.height;

    const rateMax = rateAxisMax(Math.max(0, ...data.rate.map((p) => p.v ?? 0), ...data.codes.flatMap((c) => c.points.map((p) => p.v ?? 0))));
    const replicaMax = replicaAxisMax(Math.max(0, ...data.replicas.map((p) => p.v ?? 0), ...data.available.map((p) => p.v ?? 0)));
    const durationPeak = statsOf(data.duration).peak ?? 0;
    const durationMax = niceCeil(durationPeak, 0.001);
    const yRate = scale(0, rateMax, mainBottom, MAIN.top);
    const yRep = scale(0, replicaMax, mainBottom, MAIN.top);
    const yDur = scale(0, durationMax, lowerBottom, LOWER.top);

    /** @type {SVGElement[]} */
    const grid = [];
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const y = mainBottom - f * MAIN.height;
      grid.push(s('line', { class: 'grid', x1: left, x2: right, y1: y, y2: y }));
      grid.push(s('text', { class: 'axis axis-rate', x: left - 6, y: y + 4, 'text-anchor': 'end' }, formatRate(rateMax * f)));
      grid.push(s('text', { class: 'axis axis-replicas', x: right + 6, y: y + 4 }, String(replicaMax * f)));
    }
    grid.push(s('text', { class: 'axis axis-rate', x: 4, y: 12 }, 'req/s'));
    grid.push(s('text', { class: 'axis axis-replicas', x: width - 4, y: 12, 'text-anchor': 'end' }, 'replicas'));
    for (const f of [0, 1]) {
      const y = lowerBottom - f * LOWER.height;
      grid.push(s('line', { class: 'grid', x1: left, x2: right, y1: y, y2: y }));
      grid.push(s('text', { class: 'axis axis-duration', x: left - 6, y: y + 4, 'text-anchor': 'end' }, f === 0 ? '0' : formatSeconds(durationMax)));
    }
    grid.push(s('text', { class: 'axis axis-duration', x: left + 4, y: LOWER.top - 6 }, 'mean duration'));

    const span = data.end - data.start;
    const every = tickEvery(span);
    for (let ago = 0; ago <= span + 1; ago += every) {
      const t = data.end - ago;
      const tx = x(t);
      grid.push(s('line', { class: 'grid grid-x', x1: tx, x2: tx, y1: MAIN.top, y2: lowerBottom }));
      const anchor = ago === 0 ? 'end' : ago + every > span + 1 ? 'start' : 'middle';
      grid.push(s('text', { class: 'axis axis-time', x: tx, y: AXIS_Y, 'text-anchor': anchor }, ago === 0 ? 'now' : agoLabel(ago)));
    }

    // Labels of events close together go on alternate rows so they stay readable.
    let lastLabelX = -Infinity;
    let row = 0;
    const markers = data.events.map((e) => {
      const mx = x(e.t);
      row = mx - lastLabelX < 48 ? (row + 1) % 3 : 0;
      lastLabelX = mx;
      const rising = e.kind === 'up' || e.kind === 'wake';
      return s(
        'g',
        { class: `marker ${rising ? 'marker-up' : 'marker-down'}`, 'data-kind': e.kind },
        s('line', { x1: mx, x2: mx, y1: MAIN.top, y2: lowerBottom }),
        // Near the right edge the label goes to the left of its line.
        mx > right - 48 ? s('text', { x: mx - 3, y: MAIN.top + 11 + row * 13, 'text-anchor': 'end' }, e.label) : s('text', { x: mx + 3, y: MAIN.top + 11 + row * 13 }, e.label),
      );
    });

    const history = data.historyEnd === null ? [] : data.rate.filter((p) => p.t <= /** @type {number} */ (data.historyEnd));
    const historyReplicas = data.historyEnd === null ? [] : data.replicas.filter((p) => p.t <= /** @type {number} */ (data.historyEnd));
    svg.setAttribute('data-window', windowName);
    svg.setAttribute('data-span', String(Math.round(span / 1000)));
    svg.setAttribute('data-history', data.historyEnd === null ? 'none' : 'loaded');
    svg.setAttribute('data-history-points', String(data.historyPoints));
    svg.setAttribute('data-history-peak-rate', String(statsOf(history).peak ?? 0));
    svg.setAttribute('data-history-replicas', stepsOf(historyReplicas).join(','));

    const liveEdge = data.historyEnd !== null && data.historyEnd > data.start ? x(data.historyEnd) : null;
    const rateTail = [...data.rate].reverse().find((p) => p.v !== null);
    const availableTail = [...data.available].reverse().find((p) => p.v !== null);
    const hasData = data.rate.filter((p) => p.v !== null).length >= 2 || data.replicas.length >= 2;
    replaceChildren(
      svg,
      grid,
      liveEdge !== null ? s('line', { class: 'live-edge', x1: liveEdge, x2: liveEdge, y1: MAIN.top, y2: mainBottom }) : null,
      s('path', { class: 'rate-area', d: areaPath(data.rate, x, yRate, mainBottom) }),
      s('path', { class: 'rate-line', d: linePath(data.rate, x, yRate) }),
      data.codes.map((c) => s('path', { class: `rate-code rate-code-${c.code.charAt(0)}xx`, 'data-code': c.code, d: linePath(c.points, x, yRate) })),
      markers,
      s('path', { class: 'replicas-desired', d: stepPath(data.replicas, x, yRep, right), 'data-values': stepsOf(data.replicas).join(',') }),
      s('path', { class: 'replicas-available', d: stepPath(data.available, x, yRep, right), 'data-values': stepsOf(data.available).join(',') }),
      s('path', { class: 'duration-line', d: linePath(data.duration, x, yDur) }),
      ...queueLine(data, x, mainBottom, left),
      availableTail && availableTail.v !== null ? s('circle', { class: 'dot-replicas', cx: x(availableTail.t), cy: yRep(availableTail.v), r: 3 }) : null,
      rateTail && rateTail.v !== null ? s('circle', { class: 'dot-rate', cx: x(rateTail.t), cy: yRate(rateTail.v), r: 3 }) : null,
      hasData ? null : s('text', { class: 'axis chart-empty', x: (left + right) / 2, y: MAIN.top + MAIN.height / 2, 'text-anchor': 'middle' }, 'collecting data…'),
      data.duration.length === 0
        ? s('text', { class: 'axis chart-empty', x: (left + right) / 2, y: LOWER.top + LOWER.height / 2 + 4, 'text-anchor': 'middle' }, data.historyEnd === null ? 'needs the history from Prometheus' : 'no invocations in this window')
        : null,
    );
  };

  const observer = new ResizeObserver(() => draw());
  observer.observe(svg);

  return {
    el: svg,
    update(data, windowName) {
      last = { data, windowName };
      draw();
    },
    dispose: () => observer.disconnect(),
  };
}
