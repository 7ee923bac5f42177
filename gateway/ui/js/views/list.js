// @ts-check
// #/ : every function with its image, replicas (available / desired),
// invocation count, current rate and a sparkline of the last 15 minutes
// (history for all functions in one request, extended by the live polls),
// updated in place after every poll so focus and scroll stay where the user
// left them.
import { h, replaceChildren, syncRows } from '../dom.js';
import { formatCount, formatRate } from '../format.js';
import { functionsHistory } from '../api.js';
import { createFeed } from '../feed.js';
import { summaryData } from '../chart-data.js';
import { unavailableReasonOf } from '../instances.js';
import { monitor, subscribe } from '../monitor.js';
import { fnHref } from '../routes.js';
import { sparkline } from '../sparkline.js';

/** @typedef {import('../types.js').FunctionStatus} FunctionStatus */

const SPARK_WINDOW = '15m';
const SPARK_WINDOW_MS = 15 * 60_000;
/** The sparklines' history is read again this often (one request for every function). */
const HISTORY_EVERY_MS = 30_000;

/** @returns {import('../types.js').View} */
export function listView() {
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter by name or image', 'aria-label': 'Filter functions by name or image', autocomplete: 'off' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true });
  const count = h('span', { class: 'muted' });
  const historyNote = h('p', { class: 'notice', hidden: true, 'data-testid': 'history-note' });
  /** @type {Map<string, {row: HTMLElement, replicas: HTMLElement, invocations: HTMLElement, rate: HTMLElement, spark: HTMLElement, image: HTMLElement, reason: HTMLElement}>} */
  const rows = new Map();

  const table = h(
    'table',
    { class: 'functions' },
    h('caption', { class: 'visually-hidden' }, 'Functions, updated every 2 seconds'),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Image'), h('th', { scope: 'col', class: 'num' }, 'Replicas'), h('th', { scope: 'col', class: 'num' }, 'Invocations'), h('th', { scope: 'col', class: 'num' }, 'Rate (req/s), 15 min')),
    ),
    tbody,
  );

  /** @param {FunctionStatus} fn */
  function makeRow(fn) {
    /** @param {string} label @param {string} cls @param {...import('../dom.js').Child} content */
    const cell = (label, cls, ...content) => h('td', { 'data-label': label, class: cls }, ...content);
    const image = cell('Image', 'image');
    const replicas = cell('Replicas', 'num');
    const invocations = cell('Invocations', 'num');
    const rate = h('span');
    const spark = h('span', { class: 'spark-box' });
    const reason = h('p', { class: 'row-reason', hidden: true, 'data-testid': 'unavailable-reason' });
    const row = h(
      'tr',
      { 'data-function': fn.name },
      h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: fnHref(fn.name) }, fn.name), reason),
      image,
      replicas,
      invocations,
      cell('Rate (req/s)', 'num rate', spark, rate),
    );
    return { row, image, replicas, invocations, rate, spark, reason };
  }

  const history = createFeed(() => functionsHistory(SPARK_WINDOW), HISTORY_EVERY_MS, () => render());

  function render() {
    const { state } = monitor;
    const query = filter.value.trim().toLowerCase();
    const all = monitor.list();
    const shown = all.filter((fn) => !query || fn.name.toLowerCase().includes(query) || String(fn.image).toLowerCase().includes(query));
    const now = Date.now();
    syncRows(tbody, rows, shown, makeRow, (fn, entry) => {
      const available = fn.availableReplicas ?? fn.replicas;
      entry.image.textContent = fn.image ?? '';
      // An arrow for a minute after the replicas changed: the autoscaler at work.
      const change = monitor.events(fn.name).at(-1);
      const recent = change && now - change.t < 60_000 ? change : undefined;
      const arrow = recent ? (recent.to > recent.from ? ' ↑' : ' ↓') : '';
      entry.replicas.textContent = `${available} / ${fn.replicas}${arrow}`;
      entry.replicas.classList.toggle('warn', available < fn.replicas);
      entry.replicas.title = recent ? `scaled from ${recent.from} to ${recent.to} at ${new Date(recent.t).toLocaleTimeString()}` : '';
      entry.replicas.setAttribute('aria-label', `${available} available of ${fn.replicas} desired${recent ? `, just scaled from ${recent.from}` : ''}`);
      entry.invocations.textContent = formatCount(fn.invocationCount);
      entry.rate.textContent = formatRate(monitor.rate(fn.name));
      const reason = unavailableReasonOf(fn);
      entry.reason.hidden = !reason;
      entry.reason.textContent = reason ? `⚠ ${reason}` : '';
      const data = summaryData({ history: history.state.value, name: fn.name, receivedAt: history.state.receivedAt, live: monitor.history(fn.name), windowMs: SPARK_WINDOW_MS, now });
      replaceChildren(entry.spark, sparkline(data, { width: 80, height: 20 }));
    });
    count.textContent = state.loaded ? `${all.length} function${all.length === 1 ? '' : 's'}` : 'loading…';
    empty.hidden = !state.loaded || shown.length > 0;
    empty.textContent = all.length === 0 ? 'No functions deployed yet. Deploy one to get started.' : 'No function matches the filter.';
    const down = history.state.error;
    historyNote.hidden = !down;
    historyNote.textContent = down ? `The sparklines show only what this page has seen: the history is unavailable (${down.message}).` : '';
  }

  filter.addEventListener('input', render);
  const unsubscribe = subscribe(render);

  const el = h(
    'section',
    { 'aria-labelledby': 'list-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'list-title', tabindex: '-1' }, 'Functions'), count, h('a', { class: 'button primary', href: '#/deploy' }, 'Deploy a function')),
    h('div', { class: 'toolbar' }, filter),
    historyNote,
    h('div', { class: 'table-wrap' }, table),
    empty,
  );
  render();
  return {
    el,
    dispose() {
      unsubscribe();
      history.stop();
    },
  };
}
