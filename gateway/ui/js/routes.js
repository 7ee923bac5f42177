// Hash routes: the gateway serves only static files, the page does the rest.
//   #/            functions list
//   #/fn/<name>   one function
//   #/deploy      deploy form

export const fnHref = (name) => `#/fn/${encodeURIComponent(name)}`;

/** @returns {{view: 'list'} | {view: 'function', name: string} | {view: 'deploy'}} */
export function parseRoute(hash) {
  const path = hash.replace(/^#/, '');
  const fn = /^\/fn\/(.+)$/.exec(path);
  if (fn) {
    try {
      return { view: 'function', name: decodeURIComponent(fn[1]) };
    } catch {
      return { view: 'list' };
    }
  }
  if (path === '/deploy') return { view: 'deploy' };
  return { view: 'list' };
}
