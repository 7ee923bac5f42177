// @ts-check
// Loads a page's modules (named by this script's data-module). A module that
// fails to arrive leaves an ES-module page blank for good: the browser does
// not fetch it again until the page is reloaded. That happens for real on the
// machine that runs the engine: Docker adds and removes a network interface
// for every task it starts or stops, and Chromium answers each change by
// aborting the requests in flight (net::ERR_NETWORK_CHANGED). So a failed
// load reloads the page, a few times, then says what went wrong.
// A classic script (not a module), so that it can see its own element.

const RELOADS_KEY = 'swarmfaas-ui-reloads';
const MAX_RELOADS = 3;

const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
const entry = new URL(script?.dataset.module ?? './main.js', script?.src ?? location.href).href;

/** @param {unknown} error */
function failed(error) {
  const reloads = Number(sessionStorage.getItem(RELOADS_KEY) ?? '0');
  if (reloads < MAX_RELOADS) {
    sessionStorage.setItem(RELOADS_KEY, String(reloads + 1));
    setTimeout(() => location.reload(), 300 * (reloads + 1));
    return;
  }
  sessionStorage.removeItem(RELOADS_KEY);
  const main = document.getElementById('main') ?? document.body;
  const message = document.createElement('p');
  message.className = 'error';
  message.setAttribute('role', 'alert');
  message.textContent = `The UI's scripts did not load (${error instanceof Error ? error.message : String(error)}). Reload the page to try again.`;
  main.replaceChildren(message);
}

import(entry).then(() => sessionStorage.removeItem(RELOADS_KEY), failed);
