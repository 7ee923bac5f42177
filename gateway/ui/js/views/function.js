// @ts-check
// #/fn/<name> : one function, in panels: the chart of its rate and replicas
// (chart-panel.js), its tasks (tasks-panel.js), manual scale and its
// autoscaling limits (scale-panel.js), its events (events-panel.js), its own
// API when it publishes one (function-api-panel.js), invoke (invoke.js),
// logs (logs.js), and delete (delete-dialog.js). This module
// lays them out and keeps the facts at the top current.
import { h, replaceChildren } from '../dom.js';
import { formatCount, formatRate } from '../format.js';
import { getFunction } from '../api.js';
import { monitor, subscribe } from '../monitor.js';
import { createFeed } from '../feed.js';
import { nodeSummary, unavailableReasonOf } from '../instances.js';
import { chartPanel } from './chart-panel.js';
import { tasksPanel } from './tasks-panel.js';
import { scalePanel } from './scale-panel.js';
import { deleteDialog } from './delete-dialog.js';
import { invokePanel } from './invoke.js';
import { logsPanel } from './logs.js';
import { eventsPanel } from './events-panel.js';
import { functionApiPanel } from './function-api-panel.js';
import { editHref } from '../routes.js';

/** @typedef {import('../types.js').FunctionStatus} FunctionStatus */

/** The task list (GET /system/function/{name}) is read this often. */
const TASKS_EVERY_MS = 5_000;

/**
 * @param {string} name
 * @returns {import('../types.js').View}
 */
export function functionView(name) {
  const opened = Date.now();
  const title = h('h1', { id: 'fn-title', tabindex: '-1' }, name);
  const facts = h('dl', { class: 'facts' });
  const labelList = h('ul', { class: 'chips', 'aria-label': 'Labels' });
  const missing = h('p', { class: 'muted', hidden: true });
  // Functions written on the New function page: their kept source opens there again.
  const editLink = h('a', { class: 'button', href: editHref(name), hidden: true, 'data-testid': 'edit-source' }, 'Edit source');
  const reasonBanner = h('p', { class: 'banner banner-warn', hidden: true, 'data-testid': 'unavailable-reason' });

  // The events panel draws the queue depth on the chart over the chart's window.
  /** @type {ReturnType<typeof eventsPanel> | undefined} */
  let eventsCard;
  const chart = chartPanel(name, { queue: (ms, now) => eventsCard?.queue(ms, now) ?? [], onWindow: () => eventsCard?.reload() });
  eventsCard = eventsPanel(name, chart.window, () => chart.update());
  const tasks = tasksPanel();
  const scale = scalePanel(name);
  const removal = deleteDialog(name);
  const logs = logsPanel(name);
  const ownApi = functionApiPanel(name);
  const details = createFeed(() => getFunction(name), TASKS_EVERY_MS, () => render());

  /** @param {FunctionStatus} fn @param {ReturnType<typeof tasks.update>} rows */
  function renderFacts(fn, rows) {
    const available = fn.availableReplicas ?? fn.replicas;
    replaceChildren(
      facts,
      h('div', {}, h('dt', {}, 'Image'), h('dd', { class: 'mono' }, fn.image)),
      h('div', {}, h('dt', {}, 'Replicas'), h('dd', { 'data-testid': 'replicas' }, `${available} / ${fn.replicas}`)),
      h('div', {}, h('dt', {}, 'Invocations'), h('dd', { 'data-testid': 'invocations' }, formatCount(fn.invocationCount))),
      h('div', {}, h('dt', {}, 'Rate'), h('dd', {}, `${formatRate(monitor.rate(name))} req/s`)),
      concurrencyFact(details.state.value?.concurrency),
      rows && rows.length > 0 ? h('div', {}, h('dt', {}, 'Nodes'), h('dd', { 'data-testid': 'nodes' }, nodeSummary(rows))) : null,
      fn.envProcess ? h('div', {}, h('dt', {}, 'fprocess'), h('dd', { class: 'mono' }, fn.envProcess)) : null,
    );
    const labels = Object.entries(fn.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
    replaceChildren(labelList, labels.map(([k, v]) => h('li', { class: 'chip mono' }, `${k}=${v}`)));
    labelList.hidden = labels.length === 0;
  }

  function render() {
    const fn = monitor.get(name);
    chart.update();
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
    editLink.hidden = !(/** @type {{annotations?: Record<string, string>}} */ (fn).annotations?.['com.swarmfaas.source']);
    // The task list and the reason come with GET /system/function/{name}; the list may carry the reason too.
    const detail = details.state.value;
    const reason = unavailableReasonOf(detail ? { ...detail, ...fn, instances: detail.instances, unavailableReason: fn.unavailableReason ?? detail.unavailableReason } : fn);
    reasonBanner.hidden = !reason;
    reasonBanner.textContent = reason ? `Fewer tasks than wanted: ${reason}` : '';
    renderFacts(fn, tasks.update(fn, detail));
    scale.update(fn);
    ownApi.update(fn);
  }
  const unsubscribe = subscribe(render);

  const el = h(
    'article',
    { class: 'function-page', 'aria-labelledby': 'fn-title' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All functions')),
    h('div', { class: 'page-head' }, title, h('div', { class: 'head-actions' }, editLink, removal.button)),
    missing,
    reasonBanner,
    facts,
    labelList,
    h('div', { class: 'columns' }, h('div', { class: 'col' }, chart.el, tasks.el, scale.el), h('div', { class: 'col' }, eventsCard.el, ownApi.el, invokePanel(name), logs.el)),
    removal.dialog,
  );
  render();
  return {
    el,
    dispose() {
      unsubscribe();
      details.stop();
      chart.dispose();
      eventsCard?.dispose();
      logs.dispose();
      ownApi.dispose();
      removal.dispose();
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
