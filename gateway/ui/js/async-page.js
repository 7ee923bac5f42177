// @ts-check
// The asynchronous calls page (ui/async.html): each function's queue and the
// dead letters, read from /system/async/* every 2 s. Read-only; text goes in
// as textContent only. URLs are built on the page's origin (apiUrl), so a
// link with credentials in it works here too.
import { apiUrl } from './api.js';

const EVERY_MS = 2000;

/**
 * @typedef {{name: string, namespace: string, queued: number, deadLetters: number}} Queue
 * @typedef {{id: number | string, function: string, callId: string, status: number, attempts: number, reason: string, failedAt: string | number}} DeadLetter
 */

/**
 * @param {'td' | 'th'} tag
 * @param {string} text
 * @param {string} [className]
 */
function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

/**
 * @param {string} id the table's id
 * @param {HTMLElement[][]} rows
 * @param {number} columns
 * @param {string} emptyText
 */
function fill(id, rows, columns, emptyText) {
  const table = /** @type {HTMLTableElement | null} */ (document.getElementById(id));
  const body = table?.tBodies[0];
  if (!body) return;
  const fresh = document.createElement('tbody');
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('td', emptyText, 'empty');
    td.colSpan = columns;
    tr.append(td);
    fresh.append(tr);
  }
  for (const cells of rows) {
    const tr = document.createElement('tr');
    tr.append(...cells);
    fresh.append(tr);
  }
  body.replaceWith(fresh);
}

/**
 * @param {string} path
 * @returns {Promise<any>}
 */
async function getJson(path) {
  const res = await fetch(apiUrl(path), { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function refresh() {
  const live = document.getElementById('live');
  try {
    const [queues, letters] = /** @type {[Queue[], DeadLetter[]]} */ (await Promise.all([getJson('/system/async/queues'), getJson('/system/async/dead-letters?limit=100')]));
    fill(
      'queues',
      queues.map((q) => [cell('th', q.name), cell('td', q.namespace), cell('td', String(q.queued), 'num'), cell('td', String(q.deadLetters), q.deadLetters > 0 ? 'num warn' : 'num')]),
      4,
      'No functions.',
    );
    fill(
      'dead-letters',
      letters.map((l) => [
        cell('td', String(l.id), 'num'),
        cell('th', l.function),
        cell('td', l.callId),
        cell('td', String(l.status), 'num'),
        cell('td', String(l.attempts), 'num'),
        cell('td', l.reason),
        cell('td', new Date(l.failedAt).toLocaleString()),
      ]),
      7,
      'No dead letters.',
    );
    if (live) live.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (live) live.textContent = `Cannot read the queue: ${error instanceof Error ? error.message : String(error)}`;
  }
}

void refresh();
setInterval(refresh, EVERY_MS);
