// @ts-check
// #/overview : the whole stack at a glance. Every function's rate and
// replicas over the chosen window (one history request for all of them,
// extended by the live polls), the health of the gateway, Prometheus and
// AlertManager with the URLs the gateway reaches them at, and the alerts
// AlertManager has firing now.
import { h, replaceChildren, syncRows } from '../dom.js';
import { formatAgo, formatCount, formatRate, formatSeconds } from '../format.js';
import { functionsHistory, overview } from '../api.js';
import { createFeed } from '../feed.js';
import { summaryData } from '../chart-data.js';
import { DEFAULT_WINDOW, statsOf, windowOf } from '../history.js';
import { windowPicker } from './window-picker.js';
import { unavailableReasonOf } from '../instances.js';
import { monitor, subscribe } from '../monitor.js';
import { fnHref } from '../routes.js';
import { sparkline } from '../sparkline.js';

/**
 * @typedef {import('../types.js').Overview} Overview
 * @typedef {import('../types.js').OverviewAlert} OverviewAlert
 * @typedef {import('../types.js').FunctionStatus} FunctionStatus
 */

const HEALTH_EVERY_MS = 10_000;
const HISTORY_EVERY_MS = 15_000;

let chosenWindow = DEFAULT_WINDOW;

/**
 * The three health cards' contents: what is up, where, and why not.
 * @param {Overview | null} answer
 * @param {Error | null} error the overview request itself failed (the gateway is not answering)
 * @param {string} gatewayUrl
 * @returns {Array<{name: string, up: boolean | null, url: string, detail: string}>}
 */
export function healthRows(answer, error, gatewayUrl) {
  if (!answer) {
    const unknown = error ? `unknown: ${error.message}` : 'checking…';
    return [
      { name: 'Gateway', up: error ? false : null, url: gatewayUrl, detail: error ? error.message : 'checking…' },
      { name: 'Prometheus', up: null, url: '', detail: unknown },
      { name: 'AlertManager', up: null, url: '', detail: unknown },
    ];
  }
  const targets = answer.prometheus.gatewayTargets;
  const scraping = targets ? `${targets.filter((t) => t.health === 'up').length} of ${targets.length} gateway target${targets.length === 1 ? '' : 's'} up` : '';
  const failing = targets?.find((t) => t.health !== 'up' && t.lastError);
  return [
    { name: 'Gateway', up: true, url: gatewayUrl, detail: `version ${answer.gateway.version}, ${answer.gateway.functions} function${answer.gateway.functions === 1 ? '' : 's'}` },
    {
      name: 'Prometheus',
      up: answer.prometheus.up,
      url: answer.prometheus.url,
      detail: answer.prometheus.up ? [scraping, failing ? `last error: ${failing.lastError}` : ''].filter(Boolean).join('; ') || 'ready' : answer.prometheus.error ?? 'not ready',
    },
    { name: 'AlertManager', up: answer.alertmanager.up, url: answer.alertmanager.url, detail: answer.alertmanager.up ? 'ready' : answer.alertmanager.error ?? 'not ready' },
  ];
}

/** @returns {import('../types.js').View} */
export function overviewView() {
  const health = h('div', { class: 'health', 'data-testid': 'health' });
  const alerts = h('div', { class: 'alerts', 'data-testid': 'alerts' });
  const tbody = h('tbody');
  const historyNote = h('p', { class: 'notice', hidden: true, 'data-testid': 'history-note' });
  const windows = windowPicker('Overview window', chosenWindow, (value) => {
    chosenWindow = value;
    history.reload();
    render();
  });

  const status = createFeed(overview, HEALTH_EVERY_MS, () => render());
  const history = createFeed(() => functionsHistory(chosenWindow), HISTORY_EVERY_MS, () => render());

  function renderHealth() {
    const rows = healthRows(status.state.value, status.state.error, location.origin);
    replaceChildren(
      health,
      rows.map((r) =>
        h(
          'section',
          { class: `card health-card ${r.up === true ? 'is-up' : r.up === false ? 'is-down' : ''}`, 'data-service': r.name, 'aria-label': `${r.name}: ${r.up === true ? 'up' : r.up === false ? 'down' : 'unknown'}` },
          h('h3', {}, r.name, ' ', h('span', { class: 'health-state', 'data-testid': 'health-state' }, r.up === true ? 'up' : r.up === false ? 'down' : '…')),
          r.url ? h('p', { class: 'mono small', 'data-testid': 'health-url' }, r.url) : null,
          h('p', { class: 'small muted' }, r.detail),
        ),
      ),
    );
  }

  function renderAlerts() {
    const answer = status.state.value;
    /** @type {OverviewAlert[] | null} */
    const list = answer ? answer.alerts : null;
    if (!answer) {
      replaceChildren(alerts, h('p', { class: 'muted' }, status.state.error ? 'Unknown: the gateway did not answer.' : 'Checking…'));
      return;
    }
    if (list === null) {
      replaceChildren(alerts, h('p', { class: 'notice notice-warn' }, `Unknown: AlertManager is not answering (${answer.alertmanager.error ?? 'no answer'}).`));
      return;
    }
    if (list.length === 0) {
      replaceChildren(alerts, h('p', { class: 'muted' }, 'No alerts firing.'));
      return;
    }
    const now = Date.now();
    replaceChildren(
      alerts,
      h(
        'ul',
        { class: 'alert-list' },
        list.map((a) =>
          h(
            'li',
            { class: `alert-item severity-${a.severity ?? 'none'}`, 'data-alert': a.name, 'data-function': a.function ?? '' },
            h('strong', {}, a.name),
            a.function ? [' on ', h('a', { href: fnHref(a.function) }, a.function)] : null,
            a.severity ? h('span', { class: 'chip' }, a.severity) : null,
            a.startsAt ? h('span', { class: 'muted small' }, ` since ${formatAgo(now - Date.parse(a.startsAt))}`) : null,
            a.summary ? h('p', { class: 'small' }, a.summary) : null,
          ),
        ),
      ),
    );
  }

  /** Columns after the name and the chart: label, test id, and how the value reads. */
  const COLUMNS = /** @type {const} */ (['rate-now', 'rate-mean', 'rate-peak', 'replicas', 'replicas-peak', 'duration-mean', 'invocations']);
  const COLUMN_LABELS = ['Rate now', 'Mean rate', 'Peak rate', 'Replicas', 'Peak replicas', 'Mean duration', 'Invocations'];
  /** @type {Map<string, {row: HTMLElement, reason: HTMLElement, spark: HTMLElement, cells: HTMLElement[]}>} */
  const rows = new Map();

  /** @param {FunctionStatus} fn */
  function makeRow(fn) {
    const reason = h('p', { class: 'row-reason', hidden: true });
    const spark = h('td', { 'data-label': 'Chart', class: 'spark-cell' });
    const cells = COLUMNS.map((id, i) => h('td', { class: 'num', 'data-label': COLUMN_LABELS[i], 'data-testid': id }));
    const row = h('tr', { 'data-function': fn.name }, h('th', { scope: 'row', 'data-label': 'Function' }, h('a', { href: fnHref(fn.name) }, fn.name), reason), spark, cells);
    return { row, reason, spark, cells };
  }

  function renderFunctions() {
    const window = windowOf(chosenWindow);
    const answer = history.state.value && history.state.value.window === window.name && !history.state.error ? history.state.value : null;
    const now = Date.now();
    const all = monitor.list();
    syncRows(tbody, rows, all, makeRow, (fn, entry) => {
      const data = summaryData({ history: answer, name: fn.name, receivedAt: history.state.receivedAt, live: monitor.history(fn.name), windowMs: window.ms, now });
      const rate = statsOf(data.rate);
      const replicas = statsOf(data.replicas);
      const duration = statsOf(data.duration);
      const available = fn.availableReplicas ?? fn.replicas;
      const values = [
        formatRate(monitor.rate(fn.name)),
        formatRate(rate.mean),
        formatRate(rate.peak),
        `${available} / ${fn.replicas}`,
        replicas.peak === null ? '–' : String(replicas.peak),
        formatSeconds(duration.mean),
        formatCount(fn.invocationCount),
      ];
      entry.cells.forEach((cell, i) => (cell.textContent = values[i] ?? ''));
      const reason = unavailableReasonOf(fn);
      entry.reason.hidden = !reason;
      entry.reason.textContent = reason ? `⚠ ${reason}` : '';
      replaceChildren(entry.spark, sparkline(data, { width: 160, height: 32, replicas: true }));
    });
    const down = history.state.error;
    historyNote.hidden = !down;
    historyNote.textContent = down ? `History unavailable (${down.message}): the numbers cover only what this page has seen.` : '';
  }

  function render() {
    renderHealth();
    renderAlerts();
    renderFunctions();
  }
  const unsubscribe = subscribe(render);

  const el = h(
    'section',
    { class: 'overview-page', 'aria-labelledby': 'overview-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'overview-title', tabindex: '-1' }, 'Overview'), windows.el),
    h('h2', {}, 'Stack'),
    health,
    h('section', { class: 'card', 'aria-labelledby': 'alerts-title' }, h('h2', { id: 'alerts-title' }, 'Firing alerts'), alerts),
    h('h2', {}, 'Functions'),
    historyNote,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'functions overview-functions' },
        h('caption', { class: 'visually-hidden' }, 'Every function over the chosen window'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Function'),
            h('th', { scope: 'col' }, 'Rate and replicas'),
            COLUMN_LABELS.map((c) => h('th', { scope: 'col', class: 'num' }, c)),
          ),
        ),
        tbody,
      ),
    ),
  );
  render();
  return {
    el,
    dispose() {
      unsubscribe();
      status.stop();
      history.stop();
    },
  };
}
