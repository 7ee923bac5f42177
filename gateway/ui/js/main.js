// @ts-check
// Entry point: hash router, the connection indicator in the header and the
// gateway version in the footer.
import { replaceChildren, h } from './dom.js';
import { formatAgo } from './format.js';
import { systemInfo } from './api.js';
import { monitor, subscribe } from './monitor.js';
import { parseRoute } from './routes.js';
import { listView } from './views/list.js';
import { functionView } from './views/function.js';
import { deployView } from './views/deploy.js';
import { overviewView } from './views/overview.js';
import { secretsView } from './views/secrets.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
/** @type {{el?: HTMLElement, dispose: () => void}} */
let current = { dispose() {} };
let firstRoute = true;

/**
 * The view of a route. The pages fewer visits need are loaded when first
 * opened (the first load stays small).
 * @param {ReturnType<typeof parseRoute>} target
 * @returns {import('./types.js').View | Promise<import('./types.js').View>}
 */
function viewOf(target) {
  switch (target.view) {
    case 'function':
      return functionView(target.name);
    case 'deploy':
      return deployView();
    case 'overview':
      return overviewView();
    case 'secrets':
      return secretsView();
    case 'async':
      return import('./views/async.js').then((m) => m.asyncView());
    case 'store':
      return import('./views/store.js').then((m) => m.storePage());
    case 'new':
      return import('./views/editor.js').then((m) => m.editorPage());
    case 'edit':
      return import('./views/editor.js').then((m) => m.editorPage(target.name));
    case 'api':
      return import('./views/api.js').then((m) => m.apiView());
    default:
      return listView();
  }
}

let routing = 0;

async function route() {
  const target = parseRoute(location.hash);
  const mine = ++routing;
  current.dispose();
  current = { dispose() {} };
  /** @type {import('./types.js').View} */
  let view;
  try {
    view = await viewOf(target);
  } catch (error) {
    // A page's module that did not arrive (see boot.js): say so, keep the rest of the app.
    view = {
      el: h('p', { class: 'error', role: 'alert' }, `This page's script did not load (${error instanceof Error ? error.message : String(error)}). Reload the page to try again.`),
      dispose() {},
    };
  }
  if (mine !== routing) {
    view.dispose(); // another route was asked for meanwhile
    return;
  }
  current = view;
  replaceChildren(main, view.el);
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    const active = link.getAttribute('data-view') === (target.view === 'edit' ? 'new' : target.view);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = /** @type {HTMLElement | null} */ (main.querySelector('h1'));
  document.title = `${heading?.textContent ?? 'Functions'} · SwarmFaaS`;
  // Moving focus to the new heading tells keyboard and screen-reader users the page changed.
  if (!firstRoute) heading?.focus();
  firstRoute = false;
  window.scrollTo(0, 0);
}

const live = /** @type {HTMLElement} */ (document.getElementById('live'));
function showConnection() {
  const { state } = monitor;
  if (state.error) {
    live.className = 'live live-error';
    live.textContent = state.error.message;
  } else if (state.loaded) {
    live.className = 'live live-ok';
    live.textContent = `Live · updated ${formatAgo(Date.now() - state.updatedAt)}`;
  }
}
subscribe(showConnection);
setInterval(showConnection, 1000);

systemInfo()
  .then((info) => {
    const text = (/** @type {unknown} */ v) => (typeof v === 'string' ? v : '');
    const version = text(info?.version?.release);
    const provider = [text(info?.provider?.provider), text(info?.provider?.orchestration)].filter(Boolean).join(' on ');
    const footer = document.getElementById('gateway-info');
    if (footer && (version || provider)) replaceChildren(footer, h('span', {}, [`Gateway ${version}`, provider].filter(Boolean).join(' · ')));
  })
  .catch(() => {});

window.addEventListener('hashchange', () => void route());
void route();
