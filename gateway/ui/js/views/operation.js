// @ts-check
// One operation of an OpenAPI document, as the API page and a function's
// own API panel show it: method(s), path and summary; opened, its
// description, parameters and answers, and a try-it form that sends the
// request with the page's credentials (to the gateway's own origin only).
// Every word comes from a document and goes on the page as text.
import { h, uid, replaceChildren } from '../dom.js';
import { formatBytes, formatSeconds } from '../format.js';
import { sendRequest } from '../api.js';
import { requestOf } from '../openapi.js';

/**
 * @typedef {import('../openapi.js').OperationGroup} OperationGroup
 * @typedef {Awaited<ReturnType<typeof sendRequest>>} Answer
 */

/**
 * @param {OperationGroup} group
 * @param {{base: string, label: string}} options base: what the paths are under ("" for the gateway, "/function/<name>" for a function); label: whose API it is, for screen readers
 */
export function operationItem(group, { base, label }) {
  const op = group.operation;
  const ids = { method: uid('op-method'), type: uid('op-type'), body: uid('op-body') };
  /** @type {Map<string, HTMLInputElement>} */
  const inputs = new Map();
  const method = h('select', { id: ids.method }, group.methods.map((m) => h('option', { value: m }, m)));
  const contentType = h('input', { id: ids.type, value: op.body?.contentType ?? 'application/json', autocomplete: 'off', spellcheck: 'false' });
  const body = h('textarea', { id: ids.body, rows: 6, spellcheck: 'false', value: op.body?.example ?? '' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const error = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  const result = h('div', { class: 'try-result', 'aria-live': 'polite' });

  const paramFields = op.parameters.map((p) => {
    const id = uid('op-param');
    const input = h('input', { id, value: p.example, autocomplete: 'off', spellcheck: 'false', 'data-param': `${p.in}:${p.name}`, required: p.required });
    inputs.set(`${p.in}:${p.name}`, input);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, `${p.name} `, h('span', { class: 'muted small' }, `(${p.in}${p.required ? ', required' : ''})`)),
      input,
      p.description ? h('p', { class: 'hint' }, p.description) : null,
    );
  });
  const noBody = () => method.value === 'GET' || method.value === 'HEAD' || method.value === 'OPTIONS' || method.value === 'TRACE';
  const syncBody = () => {
    body.disabled = noBody();
    contentType.disabled = noBody();
  };
  method.addEventListener('change', syncBody);
  syncBody();

  /** @param {SubmitEvent} event */
  async function submit(event) {
    event.preventDefault();
    error.hidden = true;
    /** @type {Record<string, string>} */
    const values = {};
    for (const [key, input] of inputs) values[key] = input.value.trim();
    let request;
    try {
      request = requestOf(base, op, values);
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
      error.hidden = false;
      return;
    }
    send.disabled = true;
    replaceChildren(result, h('p', { class: 'muted' }, `Sending ${method.value} ${request.url}…`));
    try {
      const answer = await sendRequest({
        method: method.value,
        url: request.url,
        headers: request.headers,
        ...(noBody() ? {} : { contentType: contentType.value.trim(), body: body.value }),
      });
      replaceChildren(result, renderAnswer(method.value, request.url, answer));
    } catch (err) {
      replaceChildren(result, h('p', { class: 'error', role: 'alert' }, `The request failed: ${err instanceof Error ? err.message : err}`));
    } finally {
      send.disabled = false;
    }
  }

  const summary = h(
    'summary',
    {},
    h('span', { class: 'methods' }, group.methods.length > 3 ? h('span', { class: 'method method-any' }, 'ANY') : group.methods.map((m) => h('span', { class: `method method-${m.toLowerCase()}` }, m))),
    ' ',
    h('code', { class: 'op-path' }, `${base}${op.path}`),
    op.summary ? h('span', { class: 'op-summary' }, op.summary) : null,
    op.auth ? h('span', { class: 'op-auth', title: 'needs the gateway credentials' }, 'auth') : null,
  );
  const form = h(
    'form',
    { class: 'try-it', onsubmit: submit, 'aria-label': `Try ${group.methods.join(' or ')} ${op.path} of ${label}` },
    h('h4', {}, 'Try it'),
    group.methods.length > 1 ? h('div', { class: 'field narrow' }, h('label', { for: ids.method }, 'Method'), method) : null,
    paramFields,
    op.body || group.methods.some((m) => !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(m))
      ? h('div', {}, h('div', { class: 'field' }, h('label', { for: ids.type }, 'Content type'), contentType), h('div', { class: 'field' }, h('label', { for: ids.body }, 'Body'), body))
      : null,
    error,
    h('div', { class: 'actions' }, send),
  );
  return h(
    'details',
    { class: 'operation', 'data-operations': group.methods.map((m) => `${m} ${op.path}`).join('\n') },
    summary,
    h(
      'div',
      { class: 'op-body' },
      op.description ? h('p', { class: 'op-description' }, op.description) : null,
      op.responses.length > 0
        ? h(
            'dl',
            { class: 'op-responses', 'aria-label': 'Answers' },
            op.responses.map((r) => h('div', {}, h('dt', { class: 'mono' }, r.status), h('dd', {}, r.description || '–'))),
          )
        : null,
      form,
      result,
    ),
  );
}

/**
 * @param {string} method
 * @param {string} url
 * @param {Answer} answer
 */
function renderAnswer(method, url, answer) {
  const ok = answer.status >= 200 && answer.status < 400;
  /** @type {string} */
  let shown = answer.text;
  if (/json/i.test(answer.contentType)) {
    try {
      shown = JSON.stringify(JSON.parse(answer.text), null, 2);
    } catch {
      shown = answer.text;
    }
  }
  const headers = answer.headers.sort(([a], [b]) => a.localeCompare(b));
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, 'Request'), h('dd', { class: 'mono' }, `${method} ${url}`)),
      h('div', {}, h('dt', {}, 'Status'), h('dd', { class: ok ? 'status ok' : 'status bad', 'data-testid': 'try-status' }, `${answer.status} ${answer.statusText}`.trim())),
      h('div', {}, h('dt', {}, 'Round trip'), h('dd', {}, formatSeconds(answer.roundTrip))),
      h('div', {}, h('dt', {}, 'Size'), h('dd', {}, `${formatBytes(answer.size)}${answer.truncated ? ' (cut: only the first 1 MB is read)' : ''}`)),
    ),
    h('details', { class: 'headers' }, h('summary', {}, `Response headers (${headers.length})`), h('table', {}, h('tbody', {}, headers.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))))),
    h('pre', { class: 'response-body', tabindex: '0', 'aria-label': 'Answer body', 'data-testid': 'try-body' }, shown === '' ? h('span', { class: 'muted' }, '(empty body)') : shown),
  );
}
