// #/ : every function with its image, replicas (available / desired),
// invocation count and current rate, updated in place after every poll so
// focus and scroll stay where the user left them.
import { h, s, replaceChildren } from '../dom.js';
import { formatCount, formatRate } from '../format.js';
import { monitor, subscribe } from '../monitor.js';
import { fnHref } from '../routes.js';

/** A 5-minute sparkline of the invocation rate, decorative (the number beside it says the same). */
function sparkline(samples) {
  const width = 80;
  const height = 20;
  const rates = samples.map((p) => p.rate ?? 0);
  const max = Math.max(1, ...rates);
  const points = rates.map((r, i) => `${((i / Math.max(1, rates.length - 1)) * width).toFixed(1)},${(height - (r / max) * (height - 2) - 1).toFixed(1)}`);
  return s('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true', focusable: 'false' }, points.length > 1 ? s('polyline', { points: points.join(' ') }) : null);
}

export function listView() {
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter by name or image', 'aria-label': 'Filter functions by name or image', autocomplete: 'off' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true });
  const count = h('span', { class: 'muted' });
  /** @type {Map<string, {row: HTMLElement, replicas: HTMLElement, invocations: HTMLElement, rate: HTMLElement, spark: HTMLElement, image: HTMLElement}>} */
  const rows = new Map();

  const table = h(
    'table',
    { class: 'functions' },
    h('caption', { class: 'visually-hidden' }, 'Functions, updated every 2 seconds'),
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Image'), h('th', { scope: 'col', class: 'num' }, 'Replicas'), h('th', { scope: 'col', class: 'num' }, 'Invocations'), h('th', { scope: 'col', class: 'num' }, 'Rate (req/s)')),
    ),
    tbody,
  );

  function makeRow(fn) {
    const cell = (label, cls, ...content) => h('td', { 'data-label': label, class: cls }, ...content);
    const image = cell('Image', 'image');
    const replicas = cell('Replicas', 'num');
    const invocations = cell('Invocations', 'num');
    const rate = h('span');
    const spark = h('span', { class: 'spark-box' });
    const row = h('tr', { 'data-function': fn.name }, h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: fnHref(fn.name) }, fn.name)), image, replicas, invocations, cell('Rate (req/s)', 'num rate', spark, rate));
    return { row, image, replicas, invocations, rate, spark };
  }

  function render() {
    const { state } = monitor;
    const query = filter.value.trim().toLowerCase();
    const all = monitor.list();
    const shown = all.filter((fn) => !query || fn.name.toLowerCase().includes(query) || String(fn.image).toLowerCase().includes(query));
    const keep = new Set(shown.map((fn) => fn.name));
    for (const [name, entry] of rows) {
      if (!keep.has(name)) {
        entry.row.remove();
        rows.delete(name);
      }
    }
    shown.forEach((fn, index) => {
      let entry = rows.get(fn.name);
      if (!entry) {
        entry = makeRow(fn);
        rows.set(fn.name, entry);
      }
      if (tbody.children[index] !== entry.row) tbody.insertBefore(entry.row, tbody.children[index] ?? null);
      const available = fn.availableReplicas ?? fn.replicas;
      entry.image.textContent = fn.image ?? '';
      // An arrow for a minute after the replicas changed: the autoscaler at work.
      const change = monitor.events(fn.name).at(-1);
      const recent = change && Date.now() - change.t < 60_000 ? change : undefined;
      const arrow = recent ? (recent.to > recent.from ? ' ↑' : ' ↓') : '';
      entry.replicas.textContent = `${available} / ${fn.replicas}${arrow}`;
      entry.replicas.classList.toggle('warn', available < fn.replicas);
      entry.replicas.title = recent ? `scaled from ${recent.from} to ${recent.to} at ${new Date(recent.t).toLocaleTimeString()}` : '';
      entry.replicas.setAttribute('aria-label', `${available} available of ${fn.replicas} desired${recent ? `, just scaled from ${recent.from}` : ''}`);
      entry.invocations.textContent = formatCount(fn.invocationCount);
      entry.rate.textContent = formatRate(monitor.rate(fn.name));
      replaceChildren(entry.spark, sparkline(monitor.history(fn.name)));
    });
    count.textContent = state.loaded ? `${all.length} function${all.length === 1 ? '' : 's'}` : 'loading…';
    empty.hidden = !state.loaded || shown.length > 0;
    empty.textContent = all.length === 0 ? 'No functions deployed yet. Deploy one to get started.' : 'No function matches the filter.';
  }

  filter.addEventListener('input', render);
  const unsubscribe = subscribe(render);

  const el = h(
    'section',
    { 'aria-labelledby': 'list-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'list-title', tabindex: '-1' }, 'Functions'), count, h('a', { class: 'button primary', href: '#/deploy' }, 'Deploy a function')),
    h('div', { class: 'toolbar' }, filter),
    h('div', { class: 'table-wrap' }, table),
    empty,
  );
  render();
  return { el, dispose: unsubscribe };
}
