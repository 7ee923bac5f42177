// @ts-check
// The "Tasks" panel of a function's page: each task, the node it runs on,
// its state and the engine's error, from GET /system/function/{name}
// (hidden while the gateway sends no task list).
import { h, replaceChildren } from '../dom.js';
import { instanceRows, nodeSummary } from '../instances.js';

/** @typedef {import('../types.js').FunctionStatus} FunctionStatus */

export function tasksPanel() {
  const body = h('tbody');
  const summary = h('p', { class: 'muted small' });
  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'tasks-title', hidden: true },
    h('h2', { id: 'tasks-title' }, 'Tasks'),
    summary,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', { class: 'tasks' }, h('thead', {}, h('tr', {}, ['Task', 'Node', 'State', 'Traffic', 'Since', 'Error'].map((c) => h('th', { scope: 'col' }, c)))), body),
    ),
  );

  /**
   * @param {FunctionStatus} fn the latest status (from the list)
   * @param {FunctionStatus | null} details the latest GET /system/function/{name}, with its instances
   * @returns {ReturnType<typeof instanceRows>} the rows shown (null: no task list yet)
   */
  function update(fn, details) {
    const rows = instanceRows(details?.instances, Date.now(), details?.concurrency?.limit);
    el.hidden = rows === null;
    if (rows === null) return null;
    summary.textContent = `${nodeSummary(rows)} (${fn.availableReplicas ?? fn.replicas} of ${fn.replicas} wanted ready)`;
    replaceChildren(
      body,
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

  return { el, update };
}
