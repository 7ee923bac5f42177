// @ts-check
// #/secrets : the secrets functions of the default namespace may name (names
// only: the gateway never answers a value), a form to create one, and for
// each a way to give it a new value (every function using it rolls onto it)
// or to delete it (refused while functions use it: the gateway says which).
import { h, replaceChildren, uid, announce, toast } from '../dom.js';
import { ApiError, deleteSecret, listSecrets, writeSecret } from '../api.js';

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

export function secretsView() {
  const list = h('div', { class: 'secrets-list', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const nameId = uid('secret-name');
  const valueId = uid('secret-value');
  const name = h('input', { id: nameId, name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'api-key' });
  const value = h('textarea', { id: valueId, name: 'value', required: true, rows: 3, spellcheck: 'false', autocomplete: 'off' });
  const error = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  const form = h(
    'form',
    { class: 'secret-form', 'aria-label': 'New secret' },
    h('div', { class: 'field' }, h('label', { for: nameId }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: valueId }, 'Value'), value, h('p', { class: 'hint' }, 'Functions read it at /var/openfaas/secrets/<name>. It is never shown again.')),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Create secret'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await writeSecret('create', name.value.trim(), value.value);
      toast(`Secret ${name.value.trim()} created`, 'info');
      announce(`Secret ${name.value.trim()} created`);
      form.reset();
      await load();
    } catch (err) {
      error.textContent = messageOf(err);
      error.hidden = false;
    }
  });

  /** The row of one secret: a new value, or delete. */
  const row = (/** @type {{name: string}} */ secret) => {
    const inputId = uid('secret-new');
    const input = h('input', { id: inputId, type: 'password', autocomplete: 'new-password', placeholder: 'new value' });
    const status = h('span', { class: 'muted', 'aria-live': 'polite' });
    const change = h('button', {
      type: 'button',
      class: 'small',
      onclick: async () => {
        if (!input.value) return input.focus();
        try {
          await writeSecret('change', secret.name, input.value);
          input.value = '';
          status.textContent = 'changed: its functions roll onto the new value';
        } catch (err) {
          status.textContent = messageOf(err);
        }
      },
    }, 'Change');
    const remove = h('button', {
      type: 'button',
      class: 'small danger',
      onclick: async () => {
        if (!window.confirm(`Delete the secret ${secret.name}?`)) return;
        try {
          await deleteSecret(secret.name);
          toast(`Secret ${secret.name} deleted`, 'info');
          await load();
        } catch (err) {
          // 409: functions still use it (the gateway names them).
          status.textContent = err instanceof ApiError && err.status === 409 ? err.message : `Not deleted: ${messageOf(err)}`;
        }
      },
    }, 'Delete');
    return h(
      'li',
      { class: 'secret', 'data-secret': secret.name },
      h('code', {}, secret.name),
      h('label', { for: inputId, class: 'visually-hidden' }, `New value of ${secret.name}`),
      input,
      change,
      remove,
      status,
    );
  };

  async function load() {
    try {
      const secrets = await listSecrets();
      replaceChildren(list, secrets.length === 0 ? h('p', { class: 'muted' }, 'No secrets yet.') : h('ul', { class: 'secrets' }, secrets.map(row)));
    } catch (err) {
      replaceChildren(list, h('p', { class: 'field-error', role: 'alert' }, `Could not list the secrets: ${messageOf(err)}`));
    }
  }
  void load();

  const el = h('section', { class: 'view secrets-view' }, h('h1', { tabindex: -1 }, 'Secrets'), list, h('h2', {}, 'New secret'), form);
  return { el, dispose() {} };
}
