// @ts-check
// #/fn/<name> : one function. The chart of its rate (by status code), mean
// duration and replicas over the chosen window, from Prometheus and then
// live, with the scale events; its tasks (node, state, errors); invoke
// panel, manual scale, logs, delete.
import { h, uid, replaceChildren, toast, segmented } from '../dom.js';
import { formatClock, formatCount, formatRate, formatSeconds } from '../format.js';
import { deleteFunction, functionHistory, getFunction, scaleFunction } from '../api.js';
import { monitor, subscribe, refresh } from '../monitor.js';
import { createChart } from '../chart.js';
import { chartData } from '../chart-data.js';
import { createFeed } from '../feed.js';
import { DEFAULT_WINDOW, WINDOWS, statsOf, windowOf } from '../history.js';
import { instanceRows, nodeSummary, unavailableReasonOf } from '../instances.js';
import { invokePanel } from './invoke.js';
import { logsPanel } from './logs.js';
import { eventsPanel } from './events-panel.js';

/**
 * @typedef {import('../types.js').FunctionStatus} FunctionStatus
 * @typedef {import('../types.js').ChartEvent} ChartEvent
 */

/** The history is read again this often while the page is open (the live polls fill the seconds between). */
const HISTORY_EVERY_MS = 15_000;
/** The task list (GET /system/function/{name}) is read this often. */
const TASKS_EVERY_MS = 5_000;

/** The window the user chose last, kept while they move between pages. */
let chosenWindow = DEFAULT_WINDOW;

/**
 * The autoscaling bounds a function's labels ask for (both label families of the design).
 * @param {Record<string, string>} [labels]
 */
export function scalingOf(labels = {}) {
  /** @param {string | undefined} v */
  const int = (v) => (v !== undefined && /^\d+$/.test(String(v).trim()) ? Number(v) : undefined);
  return {
    min: int(labels['com.openfaas.scale.min']) ?? 1,
    max: int(labels['com.openfaas.scale.max']) ?? int(labels['com.faas.max_replicas']) ?? 20,
    factor: labels['com.openfaas.scale.factor'],
    zero: String(labels['com.openfaas.scale.zero'] ?? '').toLowerCase() === 'true',
  };
}

/**
 * What the replicas are doing right now, in words.
 * @param {FunctionStatus} fn
 * @param {ReturnType<typeof scalingOf>} scaling
 * @returns {{text: string, cls: string}}
 */
export function scalingState(fn, scaling) {
  const available = fn.availableReplicas ?? fn.replicas;
  if (fn.replicas === 0) return { text: 'Scaled to zero: the next request wakes it', cls: 'idle' };
  if (available < fn.replicas) return { text: `Starting replicas: ${available} of ${fn.replicas} ready`, cls: 'busy' };
  if (available > fn.replicas) return { text: `Stopping replicas: ${available} running, ${fn.replicas} wanted`, cls: 'busy' };
  if (fn.replicas >= scaling.max) return { text: `At the maximum (${scaling.max} replicas)`, cls: 'max' };
  return { text: 'Steady', cls: 'ok' };
}

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
 * @returns {import('../types.js').View}
 */
export function functionView(name) {
  /** @type {Array<() => void>} */
  const disposers = [];
  const opened = Date.now();
  const title = h('h1', { id: 'fn-title', tabindex: '-1' }, name);
  const facts = h('dl', { class: 'facts' });
  const labelList = h('ul', { class: 'chips', 'aria-label': 'Labels' });
  const missing = h('p', { class: 'muted', hidden: true });
  const reasonBanner = h('p', { class: 'banner banner-warn', hidden: true, 'data-testid': 'unavailable-reason' });

  // Chart ----------------------------------------------------------------------
  const captionId = uid('chart-caption');
  const chart = createChart({ labelledBy: captionId });
  disposers.push(chart.dispose);
  const caption = h('p', { id: captionId, class: 'legend' });
  const stateLine = h('p', { class: 'scaling-state', 'data-testid': 'scaling-state' });
  const historyStatus = h('p', { class: 'notice', hidden: true, role: 'status', 'data-testid': 'history-status' });
  const events = h('ol', { class: 'events', 'aria-label': 'Replica changes in the window' });
  const history = createFeed(() => functionHistory(name, chosenWindow), HISTORY_EVERY_MS, () => render());
  disposers.push(() => history.stop());
  const windows = segmented({
    label: 'Chart window',
    choices: WINDOWS.map((w) => ({ value: w.name, label: w.label })),
    value: chosenWindow,
    onChange(value) {
      chosenWindow = value;
      render();
      history.reload();
      eventsCard.reload();
    },
  });

  // Tasks ----------------------------------------------------------------------
  const tasksBody = h('tbody');
  const tasksSummary = h('p', { class: 'muted small' });
  const tasksCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'tasks-title', hidden: true },
    h('h2', { id: 'tasks-title' }, 'Tasks'),
    tasksSummary,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'tasks' },
        h('thead', {}, h('tr', {}, ['Task', 'Node', 'State', 'Traffic', 'Since', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
        tasksBody,
      ),
    ),
  );
  const details = createFeed(() => getFunction(name), TASKS_EVERY_MS, () => render());
  disposers.push(() => details.stop());

  // Manual scale -------------------------------------------------------------
  const scaleId = uid('replicas');
  const scaleInput = h('input', { id: scaleId, type: 'number', min: 0, max: 1000, step: 1, required: true, inputmode: 'numeric' });
  const scaleButton = h('button', { type: 'submit' }, 'Scale');
  const scaleError = h('p', { class: 'field-error', id: uid('scale-error'), hidden: true });
  scaleInput.setAttribute('aria-describedby', scaleError.id);
  let scaleTouched = false;
  scaleInput.addEventListener('input', () => (scaleTouched = true));
  const scaleForm = h(
    'form',
    {
      class: 'row',
      'aria-label': `Scale ${name}`,
      /** @param {SubmitEvent} e */
      async onsubmit(e) {
        e.preventDefault();
        const replicas = Number(scaleInput.value);
        if (!Number.isInteger(replicas) || replicas < 0) {
          scaleError.textContent = 'Enter a whole number of replicas, 0 or more.';
          scaleError.hidden = false;
          scaleInput.setAttribute('aria-invalid', 'true');
          scaleInput.focus();
          return;
        }
        scaleError.hidden = true;
        scaleInput.removeAttribute('aria-invalid');
        scaleButton.disabled = true;
        try {
          await scaleFunction(name, replicas);
          scaleTouched = false;
          toast(`Scaling ${name} to ${replicas} replica${replicas === 1 ? '' : 's'}`);
          await refresh();
        } catch (err) {
          scaleError.textContent = err instanceof Error ? err.message : String(err);
          scaleError.hidden = false;
          scaleInput.setAttribute('aria-invalid', 'true');
        } finally {
          scaleButton.disabled = false;
        }
      },
    },
    h('div', { class: 'field narrow' }, h('label', { for: scaleId }, 'Desired replicas'), scaleInput),
    h('div', { class: 'field actions-inline' }, scaleButton),
  );
  const scalingNote = h('p', { class: 'hint' });

  // Delete -------------------------------------------------------------------
  const dialogTitle = uid('dialog-title');
  const confirmDelete = h('button', { type: 'button', class: 'danger' }, `Delete ${name}`);
  const cancelDelete = h('button', { type: 'button' }, 'Cancel');
  const dialogError = h('p', { class: 'error', hidden: true, role: 'alert' });
  const dialog = h(
    'dialog',
    { 'aria-labelledby': dialogTitle },
    h('h2', { id: dialogTitle }, `Delete ${name}?`),
    h('p', {}, 'This removes the service and all its replicas. Calls to it will fail until it is deployed again.'),
    dialogError,
    h('div', { class: 'actions' }, cancelDelete, confirmDelete),
  );
  cancelDelete.addEventListener('click', () => dialog.close());
  confirmDelete.addEventListener('click', async () => {
    confirmDelete.disabled = true;
    dialogError.hidden = true;
    try {
      await deleteFunction(name);
      dialog.close();
      toast(`Deleted ${name}`);
      await refresh();
      location.hash = '#/';
    } catch (err) {
      dialogError.textContent = err instanceof Error ? err.message : String(err);
      dialogError.hidden = false;
    } finally {
      confirmDelete.disabled = false;
    }
  });
  const openDelete = h('button', { type: 'button', class: 'danger' }, 'Delete…');
  openDelete.addEventListener('click', () => {
    dialogError.hidden = true;
    dialog.showModal();
    cancelDelete.focus(); // the safe choice is the default one
  });

  const logs = logsPanel(name);
  disposers.push(logs.dispose);
  // Topics, schedule, runs by events, and the queue depth drawn on the chart.
  const eventsCard = eventsPanel(name, () => chosenWindow, () => render());
  disposers.push(eventsCard.dispose);

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

  /** @param {FunctionStatus} fn */
  function renderTasks(fn) {
    const rows = instanceRows(details.state.value?.instances, Date.now(), details.state.value?.concurrency?.limit);
    tasksCard.hidden = rows === null;
    if (rows === null) return null;
    tasksSummary.textContent = `${nodeSummary(rows)} (${fn.availableReplicas ?? fn.replicas} of ${fn.replicas} wanted ready)`;
    replaceChildren(
      tasksBody,
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No tasks.'))
        : rows.map((r) =>
            h(
              'tr',
              { class: `task task-${r.tone}`, 'data-task': r.fullId },
              h('td', { class: 'mono', 'data-label': 'Task', title: r.fullId }, r.id),
              h('td', { 'data-label': 'Node', 'data-testid': 'task-node' }, r.node),
              h('td', { 'data-label': 'State' }, r.state),
              h('td', { 'data-label': 'Traffic' }, r.traffic),
              h('td', { 'data-label': 'Since' }, r.sinceIso ? h('time', { datetime: r.sinceIso }, r.since) : '–'),
              h('td', { 'data-label': 'Error', class: r.error ? 'error' : 'muted' }, r.error || '–'),
            ),
          ),
    );
    return rows;
  }

  function render() {
    const fn = monitor.get(name);
    renderHistoryStatus();
    if (!fn) {
      if (!monitor.state.loaded) return;
      // Just deployed functions can take a poll or two to be listed.
      const waiting = Date.now() - opened < 10_000;
      missing.textContent = waiting ? `Looking for ${name}…` : `There is no function named “${name}” (any more).`;
      missing.className = waiting ? 'muted' : 'error';
      if (waiting) missing.removeAttribute('role');
      else missing.setAttribute('role', 'alert');
      missing.hidden = false;
      return;
    }
    missing.hidden = true;
    // The task list and the reason come with GET /system/function/{name}; the list may carry the reason too.
    const detailed = details.state.value ? { ...details.state.value, ...fn, instances: details.state.value.instances, unavailableReason: fn.unavailableReason ?? details.state.value.unavailableReason } : fn;
    const reason = unavailableReasonOf(detailed);
    reasonBanner.hidden = !reason;
    reasonBanner.textContent = reason ? `Fewer tasks than wanted: ${reason}` : '';
    const tasks = renderTasks(fn);

    const available = fn.availableReplicas ?? fn.replicas;
    const rate = monitor.rate(name);
    const scaling = scalingOf(fn.labels);
    replaceChildren(
      facts,
      h('div', {}, h('dt', {}, 'Image'), h('dd', { class: 'mono' }, fn.image)),
      h('div', {}, h('dt', {}, 'Replicas'), h('dd', { 'data-testid': 'replicas' }, `${available} / ${fn.replicas}`)),
      h('div', {}, h('dt', {}, 'Invocations'), h('dd', { 'data-testid': 'invocations' }, formatCount(fn.invocationCount))),
      h('div', {}, h('dt', {}, 'Rate'), h('dd', {}, `${formatRate(rate)} req/s`)),
      concurrencyFact(details.state.value?.concurrency),
      tasks && tasks.length > 0 ? h('div', {}, h('dt', {}, 'Nodes'), h('dd', { 'data-testid': 'nodes' }, nodeSummary(tasks))) : null,
      fn.envProcess ? h('div', {}, h('dt', {}, 'fprocess'), h('dd', { class: 'mono' }, fn.envProcess)) : null,
    );
    const labels = Object.entries(fn.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
    replaceChildren(labelList, labels.map(([k, v]) => h('li', { class: 'chip mono' }, `${k}=${v}`)));
    labelList.hidden = labels.length === 0;

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
    const queue = eventsCard.queue(window.ms, Date.now());
    data.queue = queue;
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
    if (queue.some((p) => (p.v ?? 0) > 0)) caption.append(h('span', { class: 'key key-queue' }, `Pending messages ${queue.at(-1)?.v ?? 0}`));
    const state = scalingState(fn, scaling);
    stateLine.textContent = state.text;
    stateLine.className = `scaling-state state-${state.cls}`;
    const seen = data.events.slice(-8).reverse();
    replaceChildren(
      events,
      seen.length === 0
        ? h('li', { class: 'muted' }, `No replica changes in the last ${window.label}.`)
        : seen.map((e) => h('li', { 'data-kind': e.kind }, h('time', { datetime: new Date(e.t).toISOString() }, formatClock(e.t)), ` ${describeEvent(e)}`)),
    );
    if (!scaleTouched && document.activeElement !== scaleInput) scaleInput.value = String(fn.replicas);
    scalingNote.textContent = `Autoscaling keeps it between ${scaling.min} and ${scaling.max} replicas${scaling.factor ? ` (factor ${scaling.factor})` : ''}; scale to zero when idle: ${scaling.zero ? 'on' : 'off'}. A manual scale holds until the next alert.`;
  }
  disposers.push(subscribe(render));

  const el = h(
    'article',
    { class: 'function-page', 'aria-labelledby': 'fn-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All functions')),
    h('div', { class: 'page-head' }, title, openDelete),
    missing,
    reasonBanner,
    facts,
    labelList,
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        { class: 'col' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'chart-title' },
          h('div', { class: 'card-head' }, h('h2', { id: 'chart-title' }, 'Rate and replicas'), windows.el),
          stateLine,
          historyStatus,
          h('figure', { class: 'chart-box' }, chart.el, h('figcaption', {}, caption)),
          h('h3', {}, 'Replica changes'),
          events,
        ),
        tasksCard,
        h('section', { class: 'card', 'aria-labelledby': 'scale-title' }, h('h2', { id: 'scale-title' }, 'Scale'), scaleForm, scaleError, scalingNote),
      ),
      h('div', { class: 'col' }, eventsCard.el, invokePanel(name), logs.el),
    ),
    dialog,
  );
  render();
  return {
    el,
    dispose() {
      for (const d of disposers) d();
      if (dialog.open) dialog.close();
    },
  };
}

/**
 * "5 in flight, 3 waiting (2 per replica at most)": over every gateway, queue worker and connector.
 * @param {FunctionStatus['concurrency']} concurrency
 */
function concurrencyFact(concurrency) {
  if (!concurrency) return null;
  const limit = concurrency.limit !== undefined ? ` (${concurrency.limit} per replica at most)` : '';
  return h('div', {}, h('dt', {}, 'In flight'), h('dd', { 'data-testid': 'inflight' }, `${concurrency.inflight} in flight, ${concurrency.waiting} waiting${limit}`));
}
