// @ts-check
// The "Scale" panel of a function's page: set the replicas by hand, and how
// autoscaling treats the function, in the gateway's own figures (the
// `scaling` object it sends: limits read from the labels with its defaults).
import { h, uid, toast } from '../dom.js';
import { scaleFunction } from '../api.js';
import { refresh } from '../monitor.js';
import { describeLimits } from '../scaling.js';

/** @typedef {import('../types.js').FunctionStatus} FunctionStatus */

/** @param {string} name */
export function scalePanel(name) {
  const inputId = uid('replicas');
  const input = h('input', { id: inputId, type: 'number', min: 0, max: 1000, step: 1, required: true, inputmode: 'numeric' });
  const button = h('button', { type: 'submit' }, 'Scale');
  const error = h('p', { class: 'field-error', id: uid('scale-error'), hidden: true });
  input.setAttribute('aria-describedby', error.id);
  const note = h('p', { class: 'hint', 'data-testid': 'scaling-limits' });
  const problems = h('p', { class: 'notice notice-warn', hidden: true, 'data-testid': 'scaling-problems' });
  let touched = false;
  input.addEventListener('input', () => (touched = true));

  /** @param {string} message */
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  };

  const form = h(
    'form',
    {
      class: 'row',
      'aria-label': `Scale ${name}`,
      /** @param {SubmitEvent} e */
      async onsubmit(e) {
        e.preventDefault();
        const replicas = Number(input.value);
        if (!Number.isInteger(replicas) || replicas < 0) {
          fail('Enter a whole number of replicas, 0 or more.');
          input.focus();
          return;
        }
        error.hidden = true;
        input.removeAttribute('aria-invalid');
        button.disabled = true;
        try {
          await scaleFunction(name, replicas);
          touched = false;
          toast(`Scaling ${name} to ${replicas} replica${replicas === 1 ? '' : 's'}`);
          await refresh();
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('div', { class: 'field narrow' }, h('label', { for: inputId }, 'Desired replicas'), input),
    h('div', { class: 'field actions-inline' }, button),
  );

  /** @param {FunctionStatus} fn */
  function update(fn) {
    if (!touched && document.activeElement !== input) input.value = String(fn.replicas);
    input.max = String(fn.scaling.max);
    note.textContent = describeLimits(fn.scaling);
    problems.hidden = fn.scaling.problems.length === 0;
    problems.textContent = fn.scaling.problems.length > 0 ? `Labels the gateway could not use (their defaults apply): ${fn.scaling.problems.join('; ')}` : '';
  }

  const el = h('section', { class: 'card', 'aria-labelledby': 'scale-title' }, h('h2', { id: 'scale-title' }, 'Scale'), form, error, note, problems);
  return { el, update };
}
