// #/fn/<name> : one function. Live chart of rate and replicas with the
// scaling it saw, invoke panel, manual scale, logs, delete.
import { h, uid, replaceChildren, announce, toast } from '../dom.js';
import { formatClock, formatCount, formatRate } from '../format.js';
import { deleteFunction, scaleFunction } from '../api.js';
import { monitor, subscribe, refresh, WINDOW_MS } from '../monitor.js';
import { createChart } from '../chart.js';
import { invokePanel } from './invoke.js';
import { logsPanel } from './logs.js';

/** The autoscaling bounds a function's labels ask for (both label families of the design). */
export function scalingOf(labels = {}) {
  const int = (v) => (v !== undefined && /^\d+$/.test(String(v).trim()) ? Number(v) : undefined);
  return {
    min: int(labels['com.openfaas.scale.min']) ?? 1,
    max: int(labels['com.openfaas.scale.max']) ?? int(labels['com.faas.max_replicas']) ?? 20,
    factor: labels['com.openfaas.scale.factor'],
    zero: String(labels['com.openfaas.scale.zero'] ?? '').toLowerCase() === 'true',
  };
}

/** What the replicas are doing right now, in words. */
function scalingState(fn, scaling) {
  const available = fn.availableReplicas ?? fn.replicas;
  if (fn.replicas === 0) return { text: 'Scaled to zero: the next request wakes it', cls: 'idle' };
  if (available < fn.replicas) return { text: `Starting replicas: ${available} of ${fn.replicas} ready`, cls: 'busy' };
  if (available > fn.replicas) return { text: `Stopping replicas: ${available} running, ${fn.replicas} wanted`, cls: 'busy' };
  if (fn.replicas >= scaling.max) return { text: `At the maximum (${scaling.max} replicas)`, cls: 'max' };
  return { text: 'Steady', cls: 'ok' };
}

export function functionView(name) {
  const disposers = [];
  const opened = Date.now();
  const title = h('h1', { id: 'fn-title', tabindex: '-1' }, name);
  const facts = h('dl', { class: 'facts' });
  const labelList = h('ul', { class: 'chips', 'aria-label': 'Labels' });
  const missing = h('p', { class: 'muted', hidden: true });

  // Live chart ---------------------------------------------------------------
  const captionId = uid('chart-caption');
  const chart = createChart({ labelledBy: captionId, windowMs: WINDOW_MS });
  disposers.push(chart.dispose);
  const caption = h('p', { id: captionId, class: 'legend' });
  const stateLine = h('p', { class: 'scaling-state', 'data-testid': 'scaling-state' });
  const events = h('ol', { class: 'events', 'aria-label': 'Replica changes in the last 5 minutes' });

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
  const dialog = /** @type {HTMLDialogElement} */ (
    h('dialog', { 'aria-labelledby': dialogTitle }, h('h2', { id: dialogTitle }, `Delete ${name}?`), h('p', {}, 'This removes the service and all its replicas. Calls to it will fail until it is deployed again.'), dialogError, h('div', { class: 'actions' }, cancelDelete, confirmDelete))
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

  function render() {
    const fn = monitor.get(name);
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
    const available = fn.availableReplicas ?? fn.replicas;
    const rate = monitor.rate(name);
    const scaling = scalingOf(fn.labels);
    replaceChildren(
      facts,
      h('div', {}, h('dt', {}, 'Image'), h('dd', { class: 'mono' }, fn.image)),
      h('div', {}, h('dt', {}, 'Replicas'), h('dd', { 'data-testid': 'replicas' }, `${available} / ${fn.replicas}`)),
      h('div', {}, h('dt', {}, 'Invocations'), h('dd', { 'data-testid': 'invocations' }, formatCount(fn.invocationCount))),
      h('div', {}, h('dt', {}, 'Rate'), h('dd', {}, `${formatRate(rate)} req/s`)),
      fn.envProcess ? h('div', {}, h('dt', {}, 'fprocess'), h('dd', { class: 'mono' }, fn.envProcess)) : null,
    );
    const labels = Object.entries(fn.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
    replaceChildren(labelList, labels.map(([k, v]) => h('li', { class: 'chip mono' }, `${k}=${v}`)));
    labelList.hidden = labels.length === 0;

    chart.update(monitor.history(name), monitor.events(name));
    caption.replaceChildren(
      h('span', { class: 'key key-rate' }, `Invocation rate ${formatRate(rate)} req/s`),
      h('span', { class: 'key key-desired' }, `Desired replicas ${fn.replicas}`),
      h('span', { class: 'key key-available' }, `Available replicas ${available}`),
    );
    const state = scalingState(fn, scaling);
    stateLine.textContent = state.text;
    stateLine.className = `scaling-state state-${state.cls}`;
    const seen = monitor.events(name).slice(-8).reverse();
    replaceChildren(
      events,
      seen.length === 0
        ? h('li', { class: 'muted' }, 'No replica changes seen since this page opened.')
        : seen.map((e) => h('li', {}, h('time', { datetime: new Date(e.t).toISOString() }, formatClock(e.t)), ` ${e.to > e.from ? 'Scaled up' : 'Scaled down'} ${e.from} → ${e.to}`)),
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
    facts,
    labelList,
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        { class: 'col' },
        h('section', { class: 'card', 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Live: rate and replicas'), stateLine, h('figure', { class: 'chart-box' }, chart.el, h('figcaption', {}, caption)), h('h3', {}, 'Replica changes'), events),
        h('section', { class: 'card', 'aria-labelledby': 'scale-title' }, h('h2', { id: 'scale-title' }, 'Scale'), scaleForm, scaleError, scalingNote),
      ),
      h('div', { class: 'col' }, invokePanel(name), logs.el),
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
