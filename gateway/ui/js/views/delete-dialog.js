// @ts-check
// The "Delete…" button of a function's page and its confirmation dialog
// (Cancel has the focus: the safe choice is the default one).
import { h, uid, toast } from '../dom.js';
import { deleteFunction } from '../api.js';
import { refresh } from '../monitor.js';

/** @param {string} name */
export function deleteDialog(name) {
  const titleId = uid('dialog-title');
  const confirm = h('button', { type: 'button', class: 'danger' }, `Delete ${name}`);
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const error = h('p', { class: 'error', hidden: true, role: 'alert' });
  const dialog = h(
    'dialog',
    { 'aria-labelledby': titleId },
    h('h2', { id: titleId }, `Delete ${name}?`),
    h('p', {}, 'This removes the service and all its replicas. Calls to it will fail until it is deployed again.'),
    error,
    h('div', { class: 'actions' }, cancel, confirm),
  );
  cancel.addEventListener('click', () => dialog.close());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    error.hidden = true;
    try {
      await deleteFunction(name);
      dialog.close();
      toast(`Deleted ${name}`);
      await refresh();
      location.hash = '#/';
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
      error.hidden = false;
    } finally {
      confirm.disabled = false;
    }
  });
  const button = h('button', { type: 'button', class: 'danger' }, 'Delete…');
  button.addEventListener('click', () => {
    error.hidden = true;
    dialog.showModal();
    cancel.focus();
  });
  return {
    button,
    dialog,
    dispose() {
      if (dialog.open) dialog.close();
    },
  };
}
