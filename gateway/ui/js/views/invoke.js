// @ts-check
// The "Invoke" panel of a function's page: method, content type and body in;
// status, durations, response headers and the body (text, pretty JSON, or
// HTML rendered in a sandboxed frame) out.
import { h, uid, replaceChildren, announce } from '../dom.js';
import { formatBytes, formatSeconds } from '../format.js';
import { invokeFunction } from '../api.js';
import { refresh } from '../monitor.js';

const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'];
const CONTENT_TYPES = ['text/plain', 'application/json', 'text/markdown', 'text/html', 'application/x-www-form-urlencoded', 'application/octet-stream'];

/**
 * @typedef {'text' | 'json' | 'html'} BodyView
 * @typedef {Awaited<ReturnType<typeof invokeFunction>>} Answer
 */

/**
 * Which renderings suit a response: JSON when it parses, HTML when it says or looks so.
 * @param {string} contentType
 * @param {string} text
 * @returns {{views: BodyView[], preferred: BodyView, json: unknown}}
 */
export function bodyViews(contentType, text) {
  /** @type {BodyView[]} */
  const views = ['text'];
  /** @type {unknown} */
  let json;
  try {
    if (/json/i.test(contentType) || /^\s*[[{]/.test(text)) json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json !== undefined) views.push('json');
  if (/html/i.test(contentType) || /^\s*<(!doctype|html|[a-z][a-z0-9]*[\s>])/i.test(text)) views.push('html');
  const preferred = views.includes('html') && /html/i.test(contentType) ? 'html' : views.includes('json') ? 'json' : views.includes('html') ? 'html' : 'text';
  return { views, preferred, json };
}

/**
 * Remembers the last request per function for the session, so coming back keeps it.
 * @type {Map<string, {method: string, contentType: string, body: string}>}
 */
const drafts = new Map();

/** @param {string} name */
export function invokePanel(name) {
  const draft = drafts.get(name) ?? { method: 'POST', contentType: 'text/plain', body: '' };
  const ids = { method: uid('method'), type: uid('ctype'), body: uid('body'), types: uid('types'), bodyHint: uid('hint') };

  const method = h('select', { id: ids.method }, METHODS.map((m) => h('option', { value: m, selected: m === draft.method }, m)));
  const contentType = h('input', { id: ids.type, list: ids.types, value: draft.contentType, autocomplete: 'off', spellcheck: 'false' });
  const body = h('textarea', { id: ids.body, rows: 6, spellcheck: 'false', 'aria-describedby': ids.bodyHint, value: draft.body, placeholder: 'Request body (Ctrl+Enter sends)' });
  const hint = h('p', { id: ids.bodyHint, class: 'hint' }, 'Ctrl+Enter sends the request.');
  const send = h('button', { type: 'submit', class: 'primary' }, 'Invoke');
  const cancel = h('button', { type: 'button', hidden: true }, 'Cancel');
  const result = h('div', { class: 'invoke-result', 'aria-live': 'polite', 'aria-busy': 'false' });
  /** @type {AbortController | null} */
  let controller = null;

  const saveDraft = () => drafts.set(name, { method: method.value, contentType: contentType.value, body: body.value });
  const syncBody = () => {
    const noBody = method.value === 'GET' || method.value === 'HEAD';
    body.disabled = noBody;
    contentType.disabled = noBody;
    hint.textContent = noBody ? `${method.value} requests carry no body.` : 'Ctrl+Enter sends the request.';
  };
  method.addEventListener('change', () => {
    syncBody();
    saveDraft();
  });
  contentType.addEventListener('input', saveDraft);
  body.addEventListener('input', saveDraft);
  body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  cancel.addEventListener('click', () => controller?.abort());

  /** @param {SubmitEvent} event */
  async function submit(event) {
    event.preventDefault();
    controller?.abort();
    controller = new AbortController();
    const warning = /json/i.test(contentType.value) && !body.disabled && !isJson(body.value) ? 'The body is not valid JSON; it was sent as typed.' : null;
    send.disabled = true;
    cancel.hidden = false;
    result.setAttribute('aria-busy', 'true');
    replaceChildren(result, h('p', { class: 'muted' }, `Invoking ${name}…`));
    try {
      const answer = await invokeFunction(name, { method: method.value, contentType: contentType.value.trim(), body: body.value, signal: controller.signal });
      replaceChildren(result, renderAnswer(answer, warning));
      announce(`${name} answered ${answer.status} ${answer.statusText} in ${formatSeconds(answer.roundTrip)}`);
    } catch (err) {
      const aborted = err instanceof DOMException && err.name === 'AbortError';
      replaceChildren(result, h('p', { class: 'error', role: 'alert' }, aborted ? 'Cancelled.' : `The request failed: ${err instanceof Error ? err.message : err}`));
    } finally {
      send.disabled = false;
      cancel.hidden = true;
      result.setAttribute('aria-busy', 'false');
      controller = null;
      refresh();
    }
  }

  const form = h(
    'form',
    { class: 'invoke', onsubmit: submit, 'aria-label': `Invoke ${name}` },
    h('div', { class: 'row' }, h('div', { class: 'field narrow' }, h('label', { for: ids.method }, 'Method'), method), h('div', { class: 'field grow' }, h('label', { for: ids.type }, 'Content type'), contentType, h('datalist', { id: ids.types }, CONTENT_TYPES.map((t) => h('option', { value: t }))))),
    h('div', { class: 'field' }, h('label', { for: ids.body }, 'Body'), body, hint),
    h('div', { class: 'actions' }, send, cancel),
  );
  syncBody();

  return h('section', { class: 'card', 'aria-labelledby': 'invoke-title' }, h('h2', { id: 'invoke-title' }, 'Invoke'), form, result);
}

/** @param {string} text */
function isJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {Answer} answer
 * @param {string | null} warning
 */
function renderAnswer(answer, warning) {
  const ok = answer.status >= 200 && answer.status < 300;
  const { views, preferred, json } = bodyViews(answer.contentType, answer.text);
  const output = h('div', { class: 'body-view' });
  const tabs = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Show the body as' });
  const labels = { text: 'Text', json: 'JSON', html: 'HTML' };

  /** @param {BodyView} view */
  const show = (view) => {
    for (const button of tabs.querySelectorAll('button')) button.setAttribute('aria-checked', String(button.dataset.view === view));
    if (view === 'json') replaceChildren(output, h('pre', { class: 'response-body json', tabindex: '0', 'aria-label': 'Response body as JSON' }, JSON.stringify(json, null, 2)));
    else if (view === 'html') {
      // No scripts, no same-origin access: the function's HTML cannot reach the gateway with the user's credentials.
      replaceChildren(output, h('iframe', { class: 'response-html', sandbox: '', srcdoc: answer.text, title: 'Response body rendered as HTML' }));
    } else replaceChildren(output, h('pre', { class: 'response-body', tabindex: '0', 'aria-label': 'Response body' }, answer.text === '' ? h('span', { class: 'muted' }, '(empty body)') : answer.text));
  };
  for (const view of views) {
    const button = h('button', { type: 'button', role: 'radio', 'data-view': view, 'aria-checked': 'false' }, labels[view]);
    button.addEventListener('click', () => show(view));
    tabs.append(button);
  }
  // Arrow keys move between the renderings, as in any radio group.
  tabs.addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
    const buttons = [...tabs.querySelectorAll('button')];
    const current = buttons.indexOf(/** @type {any} */ (document.activeElement));
    const next = buttons[(current + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    next?.focus();
    next?.click();
  });
  show(preferred);

  const headers = answer.headers.sort(([a], [b]) => a.localeCompare(b));
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, 'Status'), h('dd', { class: ok ? 'status ok' : 'status bad', 'data-testid': 'status' }, `${answer.status} ${answer.statusText}`.trim())),
      h('div', {}, h('dt', {}, 'Duration'), h('dd', { title: 'X-Duration-Seconds: time the function took in the watchdog' }, Number.isFinite(answer.duration) ? formatSeconds(answer.duration) : '–')),
      h('div', {}, h('dt', {}, 'Round trip'), h('dd', {}, formatSeconds(answer.roundTrip))),
      h('div', {}, h('dt', {}, 'Size'), h('dd', {}, formatBytes(answer.size))),
    ),
    warning ? h('p', { class: 'warn-text' }, warning) : null,
    h('details', { class: 'headers' }, h('summary', {}, `Response headers (${headers.length})`), h('table', {}, h('tbody', {}, headers.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))))),
    h('div', { class: 'body-head' }, h('h3', {}, 'Body'), views.length > 1 ? tabs : null),
    output,
  );
}
