// @ts-check
// The "Rate and replicas" panel of a function's page: the chart of its rate
// (by status code), mean duration and desired and available replicas over
// the chosen window, from Prometheus and then live, the scale events marked;
// what the replicas are doing now; the replica changes in the window.
import { h, uid, replaceChildren } from '../dom.js';
import { formatClock, formatRate, formatSeconds } from '../format.js';
import { functionHistory } from '../api.js';
import { monitor } from '../monitor.js';
import { createChart } from '../chart.js';
import { chartData } from '../chart-data.js';
import { createFeed } from '../feed.js';
import { DEFAULT_WINDOW, statsOf, windowOf } from '../history.js';
import { windowPicker } from './window-picker.js';
import { scalingState } from '../scaling.js';

/**
 * @typedef {import('../types.js').FunctionStatus} FunctionStatus
 * @typedef {import('../types.js').ChartEvent} ChartEvent
 * @typedef {import('../types.js').Point} Point
 */

/** The history is read again this often while the page is open (the live polls fill the seconds between). */
const HISTORY_EVERY_MS = 15_000;

/** The window the user chose last, kept while they move between pages. */
let chosenWindow = DEFAULT_WINDOW;

/**
 * A scale event in words for the list under the chart.
 * @param {ChartEvent} e
 */
export function describeEvent(e) {
  const verb = { up: 'Scaled up', down: 'Scaled down', zero: 'Scaled to zero', wake: 'Woken' }[e.kind];
  if (e.from !== undefined && e.to !== undefined) return `${verb} ${e.from} → ${e.to}`;
  return e.count && e.count > 1 ? `${verb} (${e.count} times)` : verb;
}

/**
 * @param {string} name
 * @param {{queue: (windowMs: number, now: number) => Point[], onWindow: () => void}} options
 *   queue: the pending messages to draw (the events panel's); onWindow: told when the user picks another window
 */
export function chartPanel(name, { queue, onWindow }) {
  const captionId = uid('chart-caption');
  const chart = createChart({ labelledBy: captionId });
  const caption = h('p', { id: captionId, class: 'legend' });
  const stateLine = h('p', { class: 'scaling-state', 'data-testid': 'scaling-state' });
  const historyStatus = h('p', { class: 'notice', hidden: true, role: 'status', 'data-testid': 'history-status' });
  const events = h('ol', { class: 'events', 'aria-label': 'Replica changes in the window' });
  const history = createFeed(() => functionHistory(name, chosenWindow), HISTORY_EVERY_MS, () => update());
  const windows = windowPicker('Chart window', chosenWindow, (value) => {
    chosenWindow = value;
    update();
    history.reload();
    onWindow();
  });

  function renderHistoryStatus() {
    const { state } = history;
    const shownWindow = state.value?.window;
    if (state.error) {
      historyStatus.hidden = false;
      historyStatus.className = 'notice notice-warn';
      historyStatus.textContent = `History unavailable: ${state.error.message}. The chart shows what this page has seen itself (live).`;
    } else if (!state.loaded || shownWindow !== chosenWindow) {
      historyStatus.hidden = false;
      historyStatus.className = 'notice';
      historyStatus.textContent = 'Reading the history from Prometheus…';
    } else {
      historyStatus.hidden = true;
      historyStatus.textContent = '';
    }
  }

  function update() {
    renderHistoryStatus();
    const fn = monitor.get(name);
    if (!fn) return;
    const available = fn.availableReplicas ?? fn.replicas;
    const rate = monitor.rate(name);
    const window = windowOf(chosenWindow);
    const shown = history.state.value && history.state.value.window === window.name ? history.state.value : null;
    const data = chartData({
      history: history.state.error ? null : shown,
      receivedAt: history.state.receivedAt,
      live: monitor.history(name),
      liveEvents: monitor.events(name),
      windowMs: window.ms,
      now: Date.now(),
    });
    const pending = queue(window.ms, Date.now());
    data.queue = pending;
    chart.update(data, window.name);
    chart.el.setAttribute('data-history-window', shown && !history.state.error ? shown.window : '');
    const duration = statsOf(data.duration);
    caption.replaceChildren(
      h('span', { class: 'key key-rate' }, `Invocation rate ${formatRate(rate)} req/s`),
      ...data.codes.map((c) => h('span', { class: `key key-code key-code-${c.code.charAt(0)}xx`, 'data-code': c.code }, `${c.code}: peak ${formatRate(c.peak)} req/s`)),
      h('span', { class: 'key key-desired' }, `Desired replicas ${fn.replicas}`),
      h('span', { class: 'key key-available' }, `Available replicas ${available}`),
      h('span', { class: 'key key-duration' }, `Mean duration ${formatSeconds(duration.last)}`),
    );
    if (pending.some((p) => (p.v ?? 0) > 0)) caption.append(h('span', { class: 'key key-queue' }, `Pending messages ${pending.at(-1)?.v ?? 0}`));
    const state = scalingState(fn, fn.scaling);
    stateLine.textContent = state.text;
    stateLine.className = `scaling-state state-${state.cls}`;
    const seen = data.events.slice(-8).reverse();
    replaceChildren(
      events,
      seen.length === 0
        ? h('li', { class: 'muted' }, `No replica changes in the last ${window.label}.`)
        : seen.map((e) => h('li', { 'data-kind': e.kind }, h('time', { datetime: new Date(e.t).toISOString() }, formatClock(e.t)), ` ${describeEvent(e)}`)),
    );
  }

  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'chart-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'chart-title' }, 'Rate and replicas'), windows.el),
    stateLine,
    historyStatus,
    h('figure', { class: 'chart-box' }, chart.el, h('figcaption', {}, caption)),
    h('h3', {}, 'Replica changes'),
    events,
  );
  return {
    el,
    update,
    /** The window shown now (the events panel reads its queue depth over it). */
    window: () => chosenWindow,
    dispose() {
      history.stop();
      chart.dispose();
    },
  };
}
