// @ts-check
// A tiny element builder: the UI never assigns innerHTML with data from the
// API (function names, logs and response bodies are untrusted text), and
// never writes a style attribute or an inline handler (the page's
// Content-Security-Policy forbids both): `on*` attributes become listeners.

/**
 * What h() and s() take as children: text, nodes, nothing, or lists of them.
 * @typedef {string | number | Node | null | undefined | false} ChildItem
 * @typedef {ChildItem | ChildItem[] | ChildItem[][]} Child
 */

/**
 * h('button', { class: 'primary', onclick: fn, 'aria-label': 'Close' }, 'x')
 * Attributes whose value is false, null or undefined are left out; `on*`
 * attributes become event listeners; children may be strings, nodes, arrays
 * or null.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
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

/**
 * Same as h() for SVG elements (no event listeners needed there).
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElementTagNameMap[K]} */ (document.createElementNS(SVG_NS, tag));
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== false && value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces every child of `el`.
 * @param {Element} el
 * @param {...Child} children
 */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

let idCounter = 0;
/**
 * A document-unique id, for label/for and aria-describedby pairs.
 * @param {string} [prefix]
 */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Tells screen-reader users about something that happened (the polite live region in index.html).
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node after a tick makes repeated identical messages heard again.
  setTimeout(() => (region.textContent = message), 50);
}

/**
 * Shows a short status message at the top of the page (and announces it).
 * @param {string} message
 * @param {'info' | 'error'} [kind]
 */
export function toast(message, kind = 'info') {
  const area = document.getElementById('toasts');
  if (!area) return;
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  area.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 10_000 : 5_000);
}

/**
 * A radio group of buttons (role=radiogroup) for a small set of choices,
 * e.g. the chart windows. Arrow keys move between them.
 * @param {{label: string, choices: ReadonlyArray<{value: string, label: string}>, value: string, onChange: (value: string) => void}} options
 * @returns {{el: HTMLElement, set: (value: string) => void}}
 */
export function segmented({ label, choices, value, onChange }) {
  const el = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': label });
  const buttons = choices.map((choice) =>
    h('button', { type: 'button', role: 'radio', 'data-value': choice.value, onclick: () => pick(choice.value, true) }, choice.label),
  );
  /** @param {string} v @param {boolean} notify */
  const pick = (v, notify) => {
    for (const b of buttons) {
      const on = b.dataset.value === v;
      b.setAttribute('aria-checked', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    if (notify) onChange(v);
  };
  el.addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
    const current = buttons.findIndex((b) => b === document.activeElement);
    const next = buttons[(current + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    next?.focus();
    next?.click();
  });
  el.append(...buttons);
  pick(value, false);
  return { el, set: (v) => pick(v, false) };
}

/**
 * Keeps a table body's rows those of `items`, in their order, one per name:
 * the rows of names gone are removed, a new name's row is made by `makeRow`
 * (and kept in `rows`), and `fill` brings each row up to date.
 * @template {{ name: string }} T
 * @template {{ row: HTMLElement }} E
 * @param {HTMLElement} tbody
 * @param {Map<string, E>} rows
 * @param {T[]} items
 * @param {(item: T) => E} makeRow
 * @param {(item: T, entry: E) => void} fill
 */
export function syncRows(tbody, rows, items, makeRow, fill) {
  const keep = new Set(items.map((item) => item.name));
  for (const [name, entry] of rows) {
    if (!keep.has(name)) {
      entry.row.remove();
      rows.delete(name);
    }
  }
  items.forEach((item, index) => {
    let entry = rows.get(item.name);
    if (!entry) {
      entry = makeRow(item);
      rows.set(item.name, entry);
    }
    if (tbody.children[index] !== entry.row) tbody.insertBefore(entry.row, tbody.children[index] ?? null);
    fill(item, entry);
  });
}
