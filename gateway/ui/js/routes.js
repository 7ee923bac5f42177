// @ts-check
// Hash routes: the gateway serves only static files, the page does the rest.
//   #/            functions list
//   #/fn/<name>   one function
//   #/overview    every function, the stack's health and the firing alerts
//   #/deploy      deploy form
//   #/secrets     the secrets functions may use
//   #/async       the queues of asynchronous calls and the dead letters
//   #/store       the function store: a catalog to deploy from
//   #/api         the gateway's API (its OpenAPI document), with try-it forms
//   #/new         write a function in the browser (its source is built and deployed)
//   #/edit/<name> open the kept source of a function written there again

/** @param {string} name */
export const fnHref = (name) => `#/fn/${encodeURIComponent(name)}`;

/** @param {string} name */
export const editHref = (name) => `#/edit/${encodeURIComponent(name)}`;

/**
 * @param {string} hash
 * @returns {{view: 'list'} | {view: 'function', name: string} | {view: 'deploy'} | {view: 'overview'} | {view: 'secrets'} | {view: 'async'} | {view: 'store'} | {view: 'api'} | {view: 'new'} | {view: 'edit', name: string}}
 */
export function parseRoute(hash) {
  const path = hash.replace(/^#/, '');
  const fn = nameAfter(path, '/fn/');
  if (fn !== undefined) return fn === null ? { view: 'list' } : { view: 'function', name: fn };
  const edit = nameAfter(path, '/edit/');
  if (edit !== undefined) return edit === null ? { view: 'list' } : { view: 'edit', name: edit };
  if (path === '/new') return { view: 'new' };
  if (path === '/deploy') return { view: 'deploy' };
  if (path === '/overview') return { view: 'overview' };
  if (path === '/secrets') return { view: 'secrets' };
  if (path === '/async') return { view: 'async' };
  if (path === '/store') return { view: 'store' };
  if (path === '/api') return { view: 'api' };
  return { view: 'list' };
}

/**
 * The name in a route `<prefix><name>`: undefined when the path is not such a
 * route, null when its name is not valid percent-encoding (the list opens).
 * @param {string} path
 * @param {string} prefix
 * @returns {string | null | undefined}
 */
function nameAfter(path, prefix) {
  if (!path.startsWith(prefix) || path.length === prefix.length) return undefined;
  try {
    return decodeURIComponent(path.slice(prefix.length));
  } catch {
    return null;
  }
}
