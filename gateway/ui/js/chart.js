// A small SVG time chart of the last few minutes of one function: invocation
// rate (area, left axis) and replicas (desired dashed, available solid; right
// axis), with a marker at every change of desired replicas. Redrawn after
// each poll and when its box changes size.
import { s } from './dom.js';
import { formatRate } from './format.js';

const HEIGHT = 220;
const MARGIN = { left: 44, right: 40, top: 22, bottom: 26 };

/** Smallest "round" number (1, 2, 5 x 10^n) at or above v, at least `floor`. */
export function niceCeil(v, floor = 1) {
  if (!(v > floor)) return floor;
  const power = 10 ** Math.floor(Math.log10(v));
  const m = v / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** The visible time span (a whole number of ticks) and the tick spacing. */
export function spanOf(samples, now, windowMs) {
  const seen = samples.length > 0 ? now - samples[0].t : 0;
  const wanted = Math.min(windowMs, Math.max(60_000, seen));
  const every = wanted <= 60_000 ? 15_000 : wanted <= 150_000 ? 30_000 : 60_000;
  return { span: Math.min(windowMs, Math.ceil(wanted / every) * every), every };
}

function agoLabel(ms) {
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return `-${m > 0 ? `${m}m` : ''}${rest > 0 ? `${rest}s` : ''}`;
}

/**
 * Values at which the step line changes, in order: [1, 5, 10, 1] for a
 * function the autoscaler took from 1 to 10 and back.
 */
export function steps(samples, key) {
  const out = [];
  for (const sample of samples) if (out.at(-1) !== sample[key]) out.push(sample[key]);
  return out;
}

/**
 * @param {{labelledBy: string, windowMs: number}} options
 * @returns {{el: SVGSVGElement, update: (samples: any[], events: any[], now?: number) => void, dispose: () => void}}
 */
export function createChart({ labelledBy, windowMs }) {
  const svg = /** @type {SVGSVGElement} */ (s('svg', { class: 'chart', role: 'img', 'aria-labelledby': labelledBy, height: HEIGHT }));
  let last = { samples: [], events: [], now: Date.now() };

  const draw = () => {
    const { samples, events, now } = last;
    const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    // The time axis grows with the data, from one minute up to the whole window.
    const tick = spanOf(samples, now, windowMs);
    const span = tick.span;
    const start = now - span;
    const x = (t) => MARGIN.left + Math.max(0, Math.min(1, (t - start) / span)) * plotW;

    const rates = samples.map((p) => p.rate).filter((r) => r !== null);
    const rateMax = 4 * niceCeil(Math.max(0, ...rates) / 4, 0.5);
    const replicaMax = 4 * Math.max(1, Math.ceil(Math.max(0, ...samples.map((p) => Math.max(p.replicas, p.available))) / 4));
    const yRate = (r) => MARGIN.top + plotH - (r / rateMax) * plotH;
    const yRep = (n) => MARGIN.top + plotH - (n / replicaMax) * plotH;
    const bottom = MARGIN.top + plotH;

    const grid = [];
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const y = MARGIN.top + plotH - f * plotH;
      grid.push(s('line', { class: 'grid', x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y, y2: y }));
      grid.push(s('text', { class: 'axis axis-rate', x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end' }, formatRate(rateMax * f)));
      grid.push(s('text', { class: 'axis axis-replicas', x: MARGIN.left + plotW + 6, y: y + 4 }, String(replicaMax * f)));
    }
    grid.push(s('text', { class: 'axis axis-rate', x: 4, y: 11 }, 'req/s'));
    grid.push(s('text', { class: 'axis axis-replicas', x: width - 4, y: 11, 'text-anchor': 'end' }, 'replicas'));
    for (let ago = 0; ago <= span; ago += tick.every) {
      const t = now - ago;
      grid.push(s('line', { class: 'grid grid-x', x1: x(t), x2: x(t), y1: MARGIN.top, y2: bottom }));
      grid.push(s('text', { class: 'axis', x: x(t), y: HEIGHT - 8, 'text-anchor': ago === 0 ? 'end' : ago === span ? 'start' : 'middle' }, ago === 0 ? 'now' : agoLabel(ago)));
    }

    // Rate: a line with a light area under it, broken where no rate is known.
    let rateLine = '';
    let rateArea = '';
    let open = null;
    for (const p of samples) {
      if (p.rate === null) {
        if (open !== null) rateArea += `L${open.toFixed(1)},${bottom}Z`;
        open = null;
        continue;
      }
      const px = x(p.t).toFixed(1);
      const py = yRate(p.rate).toFixed(1);
      if (open === null) {
        rateLine += `M${px},${py}`;
        rateArea += `M${px},${bottom}L${px},${py}`;
      } else {
        rateLine += `L${px},${py}`;
        rateArea += `L${px},${py}`;
      }
      open = Number(px);
    }
    if (open !== null) rateArea += `L${open.toFixed(1)},${bottom}Z`;

    const stepPath = (key) => {
      let d = '';
      samples.forEach((p, i) => {
        const px = x(p.t).toFixed(1);
        const py = yRep(p[key]).toFixed(1);
        d += i === 0 ? `M${px},${py}` : `H${px}V${py}`;
      });
      if (samples.length > 0) d += `H${x(now).toFixed(1)}`;
      return d;
    };

    // Labels of changes close together go on alternate rows so they stay readable.
    let lastLabelX = -Infinity;
    let row = 0;
    const markers = events
      .filter((e) => e.t >= start)
      .map((e) => {
        const mx = x(e.t);
        row = mx - lastLabelX < 44 ? (row + 1) % 3 : 0;
        lastLabelX = mx;
        return s(
          'g',
          { class: `marker ${e.to > e.from ? 'marker-up' : 'marker-down'}` },
          s('line', { x1: mx, x2: mx, y1: MARGIN.top, y2: bottom }),
          s('text', { x: mx + 3, y: MARGIN.top + 12 + row * 13 }, `${e.from}→${e.to}`),
        );
      });

    const tail = samples.at(-1);
    svg.replaceChildren(
      ...grid,
      s('path', { class: 'rate-area', d: rateArea }),
      s('path', { class: 'rate-line', d: rateLine }),
      ...markers,
      s('path', { class: 'replicas-desired', d: stepPath('replicas'), 'data-values': steps(samples, 'replicas').join(',') }),
      s('path', { class: 'replicas-available', d: stepPath('available'), 'data-values': steps(samples, 'available').join(',') }),
      tail ? s('circle', { class: 'dot-replicas', cx: x(tail.t), cy: yRep(tail.available), r: 3 }) : null,
      tail && tail.rate !== null ? s('circle', { class: 'dot-rate', cx: x(tail.t), cy: yRate(tail.rate), r: 3 }) : null,
      samples.length < 2 ? s('text', { class: 'axis chart-empty', x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle' }, 'collecting data…') : null,
    );
  };

  const observer = new ResizeObserver(() => draw());
  observer.observe(svg);

  return {
    el: svg,
    update(samples, events, now = Date.now()) {
      last = { samples, events, now };
      draw();
    },
    dispose: () => observer.disconnect(),
  };
}
