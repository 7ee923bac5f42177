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
  const fn = /^\/fn\/(.+)$/.exec(path);
  if (fn) {
    try {
      return { view: 'function', name: decodeURIComponent(/** @type {string} */ (fn[1])) };
    } catch {
      return { view: 'list' };
    }
  }
  const edit = /^\/edit\/(.+)$/.exec(path);
  if (edit) {
    try {
      return { view: 'edit', name: decodeURIComponent(/** @type {string} */ (edit[1])) };
    } catch {
      return { view: 'list' };
    }
  }
  if (path === '/new') return { view: 'new' };
  if (path === '/deploy') return { view: 'deploy' };
  if (path === '/overview') return { view: 'overview' };
  if (path === '/secrets') return { view: 'secrets' };
  if (path === '/async') return { view: 'async' };
  if (path === '/store') return { view: 'store' };
  if (path === '/api') return { view: 'api' };
  return { view: 'list' };
}
