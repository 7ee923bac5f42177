// @ts-check
// The "API" panel of a function's page, for a function that publishes its
// own OpenAPI document (annotation com.openfaas.openapi: a path it serves,
// e.g. /openapi.json): its operations, each with a try-it form that invokes
// the function at that path. A document that is missing or is not one: the
// panel says so; nothing else on the page depends on it.
import { h, replaceChildren } from '../dom.js';
import { functionOpenApi } from '../api.js';

/** The annotation naming the path of a function's OpenAPI document. */
export const OPENAPI_ANNOTATION = 'com.openfaas.openapi';

/** @typedef {import('../types.js').FunctionStatus} FunctionStatus */

/** @param {string} name */
export function functionApiPanel(name) {
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'function-api-status' });
  const list = h('div', { class: 'operations' });
  const reload = h('button', { type: 'button', class: 'small' }, 'Read again');
  const el = h('section', { class: 'card', 'aria-labelledby': 'function-api-title', hidden: true }, h('div', { class: 'card-head' }, h('h2', { id: 'function-api-title' }, 'API'), reload), status, list);
  /** @type {string | undefined} */
  let shownPath;
  let generation = 0;

  /** @param {string} path */
  async function load(path) {
    const mine = ++generation;
    status.className = 'muted small';
    status.textContent = `Reading ${path} from ${name}…`;
    replaceChildren(list);
    try {
      // Loaded when a function names a document: most have none.
      const [doc, { groupOperations, operationsOf }, { operationItem }] = await Promise.all([functionOpenApi(name, path), import('../openapi.js'), import('./operation.js')]);
      const groups = groupOperations(operationsOf(doc));
      if (mine !== generation) return;
      const title = /** @type {{info?: {title?: unknown, version?: unknown}}} */ (doc).info;
      const words = [typeof title?.title === 'string' ? title.title.slice(0, 200) : '', typeof title?.version === 'string' ? title.version.slice(0, 50) : ''].filter(Boolean).join(' ');
      status.textContent = `${groups.reduce((n, g) => n + g.methods.length, 0)} operations from ${path}${words ? ` (${words})` : ''}.`;
      replaceChildren(list, groups.map((g) => operationItem(g, { base: `/function/${encodeURIComponent(name)}`, label: name })));
    } catch (err) {
      if (mine !== generation) return;
      status.className = 'notice notice-warn';
      status.textContent = `${name} names ${path} as its OpenAPI document (${OPENAPI_ANNOTATION}), but ${err instanceof Error ? err.message : err}.`;
    }
  }
  reload.addEventListener('click', () => shownPath && load(shownPath));

  /** @param {FunctionStatus} fn */
  function update(fn) {
    const path = fn.annotations?.[OPENAPI_ANNOTATION]?.trim();
    el.hidden = !path;
    if (!path || path === shownPath) return;
    shownPath = path;
    void load(path);
  }

  return {
    el,
    update,
    dispose() {
      generation++;
    },
  };
}
