// @ts-check
// #/store : the function store. A catalog in OpenFaaS's store format (the
// built-in one, or the one an admin chose / STORE_URL, read by the gateway),
// filterable, each entry deployable in one click with the catalog's
// settings and the image for this gateway's architecture. A catalog that
// cannot be used: the page says why and shows the built-in one. Everything
// a catalog says is shown as text; its icons are not loaded (the page loads
// nothing from elsewhere).
import { h, replaceChildren, toast, uid } from '../dom.js';
import { chooseStore, deployFunction, storeView } from '../api.js';
import { refresh } from '../monitor.js';
import { fnHref } from '../routes.js';
import { deploymentOf, matches, safeLink } from '../store.js';

/**
 * @typedef {import('../types.js').StoreView} StoreView
 * @typedef {import('../types.js').StoreFunction} StoreFunction
 */

/** @returns {import('../types.js').View} */
export function storePage() {
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'store-source' }, 'Reading the catalog…');
  const problem = h('p', { class: 'notice notice-warn', hidden: true, role: 'alert', 'data-testid': 'store-error' });
  const filter = h('input', { type: 'search', placeholder: 'Filter by name, description or author', 'aria-label': 'Filter the catalog', autocomplete: 'off' });
  const grid = h('ul', { class: 'store-grid', 'aria-label': 'Catalog' });
  const empty = h('p', { class: 'empty', hidden: true });
  const urlId = uid('store-url');
  const urlInput = h('input', { id: urlId, type: 'url', placeholder: 'https://raw.githubusercontent.com/openfaas/store/master/functions.json', autocomplete: 'off', spellcheck: 'false' });
  const chooseError = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  const chosenLine = h('p', { class: 'hint', 'data-testid': 'store-choice' });
  /** @type {StoreView | null} */
  let current = null;
  /** @type {Array<{entry: StoreFunction, el: HTMLElement}>} */
  let cards = [];
  let disposed = false;

  function applyFilter() {
    let shown = 0;
    for (const card of cards) {
      card.el.hidden = !matches(card.entry, filter.value);
      if (!card.el.hidden) shown++;
    }
    empty.hidden = shown > 0 || !current;
    empty.textContent = cards.length === 0 ? 'The catalog lists no functions.' : 'No function matches the filter.';
  }
  filter.addEventListener('input', applyFilter);

  /** @param {StoreFunction} entry @param {StoreView['platform']} platform */
  function card(entry, platform) {
    const deployment = deploymentOf(entry, platform);
    const outcome = h('p', { class: 'store-outcome', role: 'status' });
    // The catalog's name by default; another one deploys the entry twice, or beside a function of that name.
    const name = h('input', { value: entry.name, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', 'aria-label': `Name to deploy ${entry.name} as`, disabled: !deployment.ok });
    const deploy = h('button', { type: 'button', class: 'primary', disabled: !deployment.ok, 'aria-label': `Deploy ${entry.name}` }, 'Deploy');
    deploy.addEventListener('click', async () => {
      const chosen = deploymentOf(entry, platform, name.value);
      if (!chosen.ok) return;
      const service = String(chosen.spec.service);
      deploy.disabled = true;
      outcome.className = 'store-outcome muted';
      outcome.textContent = `Deploying ${service}…`;
      try {
        await deployFunction(chosen.spec);
        toast(`Deployed ${service} from the store`);
        await refresh();
        location.hash = fnHref(service);
      } catch (err) {
        outcome.className = 'store-outcome error';
        outcome.replaceChildren(`Not deployed: ${err instanceof Error ? err.message : err}`);
        if (err && typeof err === 'object' && 'status' in err && err.status === 409) outcome.append(' ', h('a', { href: fnHref(service) }, `Open ${service}`));
        deploy.disabled = false;
      }
    });
    const link = safeLink(entry.repo_url);
    const chips = [...Object.entries(entry.labels ?? {}), ...Object.entries(entry.annotations ?? {})].slice(0, 8);
    return h(
      'li',
      { class: `card store-card${deployment.ok ? '' : ' not-deployable'}`, 'data-store-function': entry.name },
      h('div', { class: 'store-head' }, h('span', { class: 'store-initial', 'aria-hidden': 'true' }, (entry.title || entry.name).trim().charAt(0).toUpperCase() || '?'), h('div', {}, h('h2', {}, entry.title || entry.name), h('p', { class: 'mono small muted' }, entry.name))),
      entry.description ? h('p', { class: 'store-description' }, entry.description) : null,
      h(
        'dl',
        { class: 'facts small' },
        entry.author ? h('div', {}, h('dt', {}, 'Author'), h('dd', {}, entry.author)) : null,
        h('div', {}, h('dt', {}, 'Image'), h('dd', { class: 'mono', 'data-testid': 'store-image' }, deployment.ok ? deployment.image : '–')),
        entry.fprocess ? h('div', {}, h('dt', {}, 'fprocess'), h('dd', { class: 'mono' }, entry.fprocess)) : null,
        entry.repo_url ? h('div', {}, h('dt', {}, 'Source'), h('dd', {}, link ? h('a', { href: link, rel: 'noopener noreferrer', target: '_blank' }, entry.repo_url) : entry.repo_url)) : null,
      ),
      chips.length > 0 ? h('ul', { class: 'chips', 'aria-label': 'Labels and annotations' }, chips.map(([k, v]) => h('li', { class: 'chip mono' }, `${k}=${v}`))) : null,
      deployment.ok ? null : h('p', { class: 'warn-text', 'data-testid': 'not-deployable' }, deployment.reason),
      h('div', { class: 'actions store-deploy' }, name, deploy),
      outcome,
    );
  }

  /** @param {StoreView} view */
  function render(view) {
    current = view;
    const origin = location.origin;
    if (view.source === 'remote') status.textContent = `${view.catalog.functions.length} functions from ${view.url}${view.skipped > 0 ? ` (${view.skipped} entries left out: not store entries)` : ''}.`;
    else status.textContent = `The built-in catalog: ${view.catalog.functions.length} functions, also at ${origin}${view.builtInPath} for faas-cli store list --url.`;
    problem.hidden = !view.error;
    problem.textContent = view.error ? `${view.error} Showing the built-in catalog.` : '';
    chosenLine.textContent = view.chosen === 'built-in' ? 'Chosen: the built-in catalog.' : view.chosen ? `Chosen: ${view.chosen}.` : view.setting ? `STORE_URL: ${view.setting}.` : 'No catalog chosen and no STORE_URL: the built-in catalog.';
    if (document.activeElement !== urlInput) urlInput.value = view.chosen && view.chosen !== 'built-in' ? view.chosen : (view.setting ?? '');
    cards = view.catalog.functions.map((entry) => ({ entry, el: card(entry, view.platform) }));
    replaceChildren(
      grid,
      cards.map((c) => c.el),
    );
    applyFilter();
  }

  /** @param {Promise<StoreView>} loading */
  async function show(loading) {
    try {
      const view = await loading;
      if (!disposed) render(view);
    } catch (err) {
      if (disposed) return;
      status.className = 'error';
      status.textContent = `The catalog could not be read: ${err instanceof Error ? err.message : err}`;
    }
  }

  /** @param {string | null} url */
  async function choose(url) {
    chooseError.hidden = true;
    try {
      const view = await chooseStore(url);
      if (!disposed) render(view);
      toast(view.error ? 'Catalog chosen, but it cannot be used now' : 'Catalog chosen');
    } catch (err) {
      chooseError.textContent = err instanceof Error ? err.message : String(err);
      chooseError.hidden = false;
    }
  }
  const chooseForm = h(
    'form',
    {
      class: 'store-choice',
      'aria-label': 'Choose the catalog',
      /** @param {SubmitEvent} e */
      onsubmit(e) {
        e.preventDefault();
        void choose(urlInput.value.trim() || null);
      },
    },
    h('div', { class: 'field grow' }, h('label', { for: urlId }, 'Catalog URL (OpenFaaS store format)'), urlInput, chosenLine, chooseError),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Use this catalog'),
      h('button', { type: 'button', onclick: () => void choose('') }, 'Use the built-in catalog'),
      h('button', { type: 'button', onclick: () => void choose(null) }, 'Back to STORE_URL'),
    ),
  );
  // The choice is kept for every gateway; the gateway reads the catalog, not this page.
  const settings = h('details', { class: 'card store-settings' }, h('summary', {}, 'Catalog'), h('p', { class: 'hint' }, 'The gateway reads the catalog (5 s and 4 MB at most) and keeps the choice for every gateway of the stack.'), chooseForm);

  void show(storeView());
  const el = h(
    'section',
    { class: 'store-page', 'aria-labelledby': 'store-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'store-title', tabindex: '-1' }, 'Store'), h('a', { class: 'button', href: '/store/functions.json' }, 'functions.json')),
    status,
    problem,
    settings,
    h('div', { class: 'toolbar' }, filter),
    grid,
    empty,
  );
  return {
    el,
    dispose() {
      disposed = true;
    },
  };
}
