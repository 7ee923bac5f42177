// @ts-check
// #/api : the gateway's API, from its own OpenAPI document
// (/system/openapi.json): every route by tag, what it takes and answers, and
// a try-it form that sends the request with the page's credentials.
import { h, replaceChildren } from '../dom.js';
import { gatewayOpenApi } from '../api.js';
import { groupOperations, operationsOf } from '../openapi.js';
import { operationItem } from './operation.js';

/** @returns {import('../types.js').View} */
export function apiView() {
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'api-status' }, 'Reading /system/openapi.json…');
  const filter = h('input', { type: 'search', placeholder: 'Filter by path, method or words', 'aria-label': 'Filter the operations', autocomplete: 'off' });
  const list = h('div', { class: 'operations' });
  /** @type {Array<{el: HTMLElement, text: string, section: HTMLElement}>} */
  let items = [];
  let disposed = false;

  function applyFilter() {
    const query = filter.value.trim().toLowerCase();
    const shownSections = new Set();
    for (const item of items) {
      const show = !query || item.text.includes(query);
      item.el.hidden = !show;
      if (show) shownSections.add(item.section);
    }
    for (const section of list.children) /** @type {HTMLElement} */ (section).hidden = !shownSections.has(section);
  }
  filter.addEventListener('input', applyFilter);

  gatewayOpenApi()
    .then((doc) => {
      if (disposed) return;
      const groups = groupOperations(operationsOf(doc));
      // The document's order of tags, then any it does not list.
      const listed = Array.isArray(/** @type {{tags?: unknown}} */ (doc).tags) ? /** @type {Array<{name?: unknown}>} */ (/** @type {{tags: unknown[]}} */ (doc).tags).map((t) => (typeof t?.name === 'string' ? t.name : '')) : [];
      const tags = [...new Set([...listed.filter((t) => groups.some((g) => g.operation.tag === t)), ...groups.map((g) => g.operation.tag)])];
      items = [];
      replaceChildren(
        list,
        tags.map((tag) => {
          const section = h('section', { class: 'card', 'aria-label': tag }, h('h2', {}, tag));
          for (const group of groups.filter((g) => g.operation.tag === tag)) {
            const el = operationItem(group, { base: '', label: 'the gateway' });
            items.push({ el, section, text: `${group.methods.join(' ')} ${group.operation.path} ${group.operation.summary} ${group.operation.description}`.toLowerCase() });
            section.append(el);
          }
          return section;
        }),
      );
      const count = groups.reduce((n, g) => n + g.methods.length, 0);
      const info = /** @type {{info?: {version?: unknown}}} */ (doc).info;
      status.textContent = `${count} operations on ${new Set(groups.map((g) => g.operation.path)).size} paths, gateway ${typeof info?.version === 'string' ? info.version : ''}. /system/* needs the credentials you signed in with; the forms send them.`;
      applyFilter();
    })
    .catch((/** @type {unknown} */ err) => {
      status.className = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = `The API document could not be read: ${err instanceof Error ? err.message : err}`;
    });

  const el = h(
    'section',
    { class: 'api-page', 'aria-labelledby': 'api-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'api-title', tabindex: '-1' }, 'API'), h('a', { href: '/system/openapi.json', class: 'button', download: 'openapi.json' }, 'openapi.json')),
    status,
    h('div', { class: 'toolbar' }, filter),
    list,
  );
  return {
    el,
    dispose() {
      disposed = true;
    },
  };
}
