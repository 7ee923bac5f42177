// @ts-check
// The "Logs" panel of a function's page: the last lines its replicas wrote,
// read on demand or every 5 s while "Auto-refresh" is on.
import { h, uid, replaceChildren } from '../dom.js';
import { formatClock } from '../format.js';
import { readLogs } from '../api.js';

const AUTO_MS = 5000;

/** @param {string} name */
export function logsPanel(name) {
  const ids = { tail: uid('tail'), auto: uid('auto') };
  const tail = h('select', { id: ids.tail }, [50, 100, 500].map((n) => h('option', { value: n, selected: n === 100 }, `${n} lines`)));
  const auto = h('input', { type: 'checkbox', id: ids.auto });
  const reload = h('button', { type: 'button' }, 'Refresh');
  const status = h('p', { class: 'muted small', role: 'status' });
  const output = h('div', { class: 'logs', role: 'log', tabindex: '0', 'aria-label': `Recent logs of ${name}` });
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  let loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    reload.disabled = true;
    status.textContent = 'Loading logs…';
    try {
      const entries = await readLogs(name, { tail: Number(tail.value) });
      const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
      replaceChildren(
        output,
        entries.length === 0
          ? h('p', { class: 'muted' }, 'No log lines yet.')
          : entries.map((e) =>
              h(
                'div',
                { class: 'log-line' },
                e.timestamp ? h('time', { datetime: e.timestamp }, formatClock(e.timestamp)) : null,
                e.instance ? h('span', { class: 'instance', title: e.instance }, String(e.instance).slice(0, 12)) : null,
                h('span', { class: 'text' }, e.text),
              ),
            ),
      );
      if (atBottom) output.scrollTop = output.scrollHeight;
      status.textContent = `${entries.length} line${entries.length === 1 ? '' : 's'}, read at ${formatClock(Date.now())}`;
    } catch (err) {
      status.textContent = `Could not read the logs: ${err instanceof Error ? err.message : err}`;
    } finally {
      loading = false;
      reload.disabled = false;
    }
  }

  const schedule = () => {
    clearInterval(timer);
    if (auto.checked) timer = setInterval(load, AUTO_MS);
  };
  reload.addEventListener('click', load);
  tail.addEventListener('change', load);
  auto.addEventListener('change', () => {
    schedule();
    if (auto.checked) load();
  });

  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'logs-title' },
    h('h2', { id: 'logs-title' }, 'Logs'),
    h('div', { class: 'toolbar' }, h('label', { for: ids.tail, class: 'visually-hidden' }, 'How many lines'), tail, reload, h('label', { class: 'check' }, auto, ' Auto-refresh')),
    status,
    output,
  );
  load();
  return { el, dispose: () => clearInterval(timer) };
}
