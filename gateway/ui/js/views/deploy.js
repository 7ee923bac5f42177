// @ts-check
// #/deploy : deploy a new function. The gateway validates; its errors are
// shown next to the field they name (see errors.js).
import { h, uid, announce, toast } from '../dom.js';
import { deployFunction } from '../api.js';
import { mapDeployError } from '../errors.js';
import { refresh } from '../monitor.js';
import { fnHref } from '../routes.js';

/**
 * @typedef {{wrap: HTMLElement, control: HTMLInputElement | HTMLTextAreaElement, error: HTMLElement}} Field
 * @typedef {{wrap: HTMLElement, error: HTMLElement, focus: () => void, values: () => Record<string, string>}} PairsEditor
 */

/**
 * A labelled input with its error slot; `key` is the field key errors map to.
 * @param {string} key
 * @param {string} label
 * @param {HTMLInputElement | HTMLTextAreaElement} control
 * @param {string} [help]
 * @returns {Field}
 */
export function field(key, label, control, help) {
  const id = control.id || uid(key);
  control.id = id;
  control.name = key;
  const helpEl = help ? h('p', { class: 'hint', id: `${id}-help` }, help) : null;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true, 'data-error-for': key });
  control.setAttribute('aria-describedby', [helpEl?.id, error.id].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field', 'data-field': key }, h('label', { for: id }, label), control, helpEl, error);
  return { wrap, control, error };
}

/**
 * Editable key/value rows (environment variables, labels).
 * @param {string} key
 * @param {string} legend
 * @param {string} noun
 * @param {string} addText
 * @param {Record<string, string>} [initial] rows to start with
 * @returns {PairsEditor}
 */
export function pairsEditor(key, legend, noun, addText, initial = {}) {
  const keyLabel = `${noun} name`;
  const valueLabel = `${noun} value`;
  const list = h('div', { class: 'pairs' });
  const error = h('p', { class: 'field-error', id: uid(`${key}-error`), hidden: true, 'data-error-for': key });
  const add = h('button', { type: 'button', class: 'small' }, addText);
  const addRow = (k = '', v = '') => {
    const kid = uid(key);
    const vid = uid(key);
    const keyInput = h('input', { id: kid, value: k, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': error.id });
    const row = h(
      'div',
      { class: 'pair' },
      h('label', { for: kid, class: 'visually-hidden' }, keyLabel),
      keyInput,
      h('span', { 'aria-hidden': 'true' }, '='),
      h('label', { for: vid, class: 'visually-hidden' }, valueLabel),
      h('input', { id: vid, value: v, autocomplete: 'off', spellcheck: 'false', placeholder: 'value' }),
      h('button', { type: 'button', class: 'small ghost', 'aria-label': `Remove this ${noun.toLowerCase()}`, onclick: () => row.remove() }, '✕'),
    );
    keyInput.placeholder = 'name';
    list.append(row);
    return keyInput;
  };
  add.addEventListener('click', () => addRow().focus());
  for (const [k, v] of Object.entries(initial)) addRow(k, v);
  const wrap = h('fieldset', { class: 'field', 'data-field': key }, h('legend', {}, legend), list, add, error);
  return {
    wrap,
    error,
    focus: () => (list.querySelector('input') ?? add).focus(),
    /** @returns {Record<string, string>} */
    values() {
      /** @type {Record<string, string>} */
      const out = {};
      for (const row of list.querySelectorAll('.pair')) {
        const [k = '', v = ''] = [...row.querySelectorAll('input')].map((i) => i.value);
        if (k.trim() !== '') out[k.trim()] = v;
      }
      return out;
    },
  };
}

export function deployView() {
  const service = field('service', 'Name', h('input', { required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' }), 'Callers invoke it at /function/<name>.');
  const image = field('image', 'Image', h('input', { required: true, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', placeholder: 'swarmfaas/echoit:0.1.0' }));
  const envProcess = field('envProcess', 'fprocess', h('input', { autocomplete: 'off', spellcheck: 'false', placeholder: 'cat' }), 'The command the watchdog runs per request; empty keeps the image’s own.');
  const envVars = pairsEditor('envVars', 'Environment variables', 'Variable', 'Add a variable');
  const labels = pairsEditor('labels', 'Labels', 'Label', 'Add a label');
  const scaleMin = field('scaleMin', 'Minimum replicas', h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', placeholder: 'gateway default' }), 'com.openfaas.scale.min; empty: the gateway’s default (its page shows it after the deploy).');
  const scaleMax = field('scaleMax', 'Maximum replicas', h('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric', placeholder: 'gateway default' }), 'com.openfaas.scale.max; empty: the gateway’s default.');
  const zeroBox = h('input', { type: 'checkbox', id: uid('zero'), name: 'scaleZero' });
  const zeroError = h('p', { class: 'field-error', id: `${zeroBox.id}-error`, hidden: true, 'data-error-for': 'scaleZero' });
  zeroBox.setAttribute('aria-describedby', zeroError.id);
  const scaleZero = { wrap: h('div', { class: 'field', 'data-field': 'scaleZero' }, h('label', { class: 'check' }, zeroBox, ' Scale to zero when idle (com.openfaas.scale.zero)'), zeroError), control: zeroBox, error: zeroError };
  const constraints = field('constraints', 'Placement constraints', h('textarea', { rows: 2, spellcheck: 'false', placeholder: 'node.role == worker' }), 'One per line.');
  const secrets = field('secrets', 'Secrets', h('input', { autocomplete: 'off', spellcheck: 'false' }), 'Names of Docker secrets, separated by commas.');
  const memory = field('limits', 'Memory limit', h('input', { autocomplete: 'off', spellcheck: 'false', placeholder: '128m' }));
  const general = h('div', { class: 'form-errors', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Deploy');

  /** @type {Record<string, Field>} */
  const simple = { service, image, envProcess, scaleMin, scaleMax, scaleZero, constraints, secrets, limits: memory };
  /** @type {Record<string, PairsEditor>} */
  const editors = { envVars, labels };

  function clearErrors() {
    general.hidden = true;
    general.replaceChildren();
    for (const f of Object.values(simple)) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.control.removeAttribute('aria-invalid');
    }
    for (const e of Object.values(editors)) {
      e.error.hidden = true;
      e.error.textContent = '';
    }
  }

  /** @param {{fields: Record<string, string>, general: string[]}} errors */
  function showErrors({ fields, general: rest }) {
    /** @type {Field | PairsEditor | null} */
    let first = null;
    for (const [key, message] of Object.entries(fields)) {
      const target = simple[key] ?? editors[key];
      if (!target) {
        rest.push(message);
        continue;
      }
      target.error.textContent = message;
      target.error.hidden = false;
      if ('control' in target) target.control.setAttribute('aria-invalid', 'true');
      first ??= target;
    }
    if (rest.length > 0) {
      general.replaceChildren(h('p', {}, 'The gateway refused the deployment:'), h('ul', {}, rest.map((m) => h('li', {}, m))));
      general.hidden = false;
    }
    if (first) ('control' in first ? first.control : first).focus();
    else if (rest.length > 0) general.focus();
    announce(`Deployment refused: ${[...Object.values(fields), ...rest].join('. ')}`);
  }

  /** The POST /system/functions body from the form. */
  function spec() {
    const labelMap = { ...labels.values() };
    if (scaleMin.control.value.trim() !== '') labelMap['com.openfaas.scale.min'] = scaleMin.control.value.trim();
    if (scaleMax.control.value.trim() !== '') labelMap['com.openfaas.scale.max'] = scaleMax.control.value.trim();
    if (zeroBox.checked) labelMap['com.openfaas.scale.zero'] = 'true';
    /** @type {Record<string, unknown>} */
    const body = { service: service.control.value.trim(), image: image.control.value.trim(), labels: labelMap, envVars: envVars.values() };
    if (envProcess.control.value.trim()) body.envProcess = envProcess.control.value.trim();
    const constraintList = constraints.control.value.split('\n').map((c) => c.trim()).filter(Boolean);
    if (constraintList.length) body.constraints = constraintList;
    const secretList = secrets.control.value.split(',').map((c) => c.trim()).filter(Boolean);
    if (secretList.length) body.secrets = secretList;
    if (memory.control.value.trim()) body.limits = { memory: memory.control.value.trim() };
    return body;
  }

  /** @param {SubmitEvent} event */
  async function onsubmit(event) {
    event.preventDefault();
    clearErrors();
    const body = spec();
    submit.disabled = true;
    submit.textContent = 'Deploying…';
    try {
      await deployFunction(body);
      toast(`Deployed ${body.service}; its replicas are starting.`);
      await refresh();
      location.hash = fnHref(String(body.service));
    } catch (err) {
      const error = /** @type {any} */ (err);
      if (error && typeof error.status === 'number' && error.status >= 400 && error.status < 500 && error.status !== 401) showErrors(mapDeployError(error));
      else showErrors({ fields: {}, general: [error instanceof Error ? error.message : String(error)] });
    } finally {
      submit.disabled = false;
      submit.textContent = 'Deploy';
    }
  }

  general.tabIndex = -1;
  const form = h(
    'form',
    { class: 'deploy', onsubmit, novalidate: true, 'aria-labelledby': 'deploy-title' },
    general,
    h('div', { class: 'grid2' }, service.wrap, image.wrap),
    envProcess.wrap,
    h('fieldset', { class: 'field' }, h('legend', {}, 'Autoscaling'), h('div', { class: 'grid2' }, scaleMin.wrap, scaleMax.wrap), scaleZero.wrap),
    envVars.wrap,
    labels.wrap,
    h('details', { class: 'more' }, h('summary', {}, 'More options'), constraints.wrap, secrets.wrap, memory.wrap),
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/' }, 'Cancel')),
  );

  const el = h('section', { class: 'deploy-page', 'aria-labelledby': 'deploy-title' }, h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All functions')), h('h1', { id: 'deploy-title', tabindex: '-1' }, 'Deploy a function'), h('div', { class: 'card' }, form));
  return { el, dispose() {} };
}
