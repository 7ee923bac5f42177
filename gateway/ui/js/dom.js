// A tiny element builder: the UI never assigns innerHTML with data from the
// API (function names, logs and response bodies are untrusted text).

/**
 * h('button', { class: 'primary', onclick: fn, 'aria-label': 'Close' }, 'x')
 * Attributes whose value is false, null or undefined are left out; `on*`
 * attributes become event listeners; children may be strings, nodes, arrays
 * or null.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected') /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Same as h() for SVG elements (no event listeners needed there). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== false && value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces every child of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let idCounter = 0;
/** A document-unique id, for label/for and aria-describedby pairs. */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Tells screen-reader users about something that happened (the polite live region in index.html). */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node after a tick makes repeated identical messages heard again.
  setTimeout(() => (region.textContent = message), 50);
}

/** Shows a short status message at the top of the page (and announces it). */
export function toast(message, kind = 'info') {
  const area = document.getElementById('toasts');
  if (!area) return;
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  area.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 10_000 : 5_000);
}
