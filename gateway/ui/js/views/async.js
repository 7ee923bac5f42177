// @ts-check
// #/async : the asynchronous calls. Each function's queue (calls waiting or
// being worked on, and dead letters) and the dead letters themselves, read
// every 2 s from /system/async/*; a dead letter can be replayed (its call
// queued again) or deleted.
import { h, replaceChildren, toast } from '../dom.js';
import { formatCount } from '../format.js';
import { asyncQueues, deadLetters, deleteDeadLetter, replayDeadLetter } from '../api.js';
import { createFeed } from '../feed.js';
import { fnHref } from '../routes.js';
import { monitor } from '../monitor.js';

/**
 * @typedef {import('../types.js').AsyncQueue} AsyncQueue
 * @typedef {import('../types.js').DeadLetter} DeadLetter
 */

const EVERY_MS = 2_000;
const LETTERS_SHOWN = 100;

/**
 * @param {string} caption
 * @param {string[]} columns headers; those ending in "#" are numbers
 * @param {string} id
 */
function table(caption, columns, id) {
  const body = h('tbody');
  const el = h(
    'table',
    { class: 'functions', id },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.endsWith('#') ? 'num' : false }, c.replace(/#$/, ''))))),
    body,
  );
  return { el, body, columns: columns.length };
}

/** @returns {import('../types.js').View} */
export function asyncView() {
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'async-status' });
  const queues = table('Calls waiting or being worked on, and dead letters, per function', ['Function', 'Namespace', 'Queued#', 'Dead letters#'], 'queues');
  const letters = table('Calls that failed every attempt, oldest first', ['Id#', 'Function', 'Call id', 'Status#', 'Attempts#', 'Reason', 'Failed at', 'Actions'], 'dead-letters');

  const feed = createFeed(() => Promise.all([asyncQueues(), deadLetters(LETTERS_SHOWN)]), EVERY_MS, () => render());

  /** @param {{body: HTMLElement, columns: number}} t @param {string} text */
  const emptyRow = (t, text) => h('tr', {}, h('td', { colspan: t.columns, class: 'empty' }, text));

  /** @param {DeadLetter} letter */
  function letterRow(letter) {
    const replay = h('button', { type: 'button', class: 'small' }, 'Replay');
    const remove = h('button', { type: 'button', class: 'small danger' }, 'Delete');
    replay.addEventListener('click', async () => {
      replay.disabled = true;
      try {
        const answer = await replayDeadLetter(letter.id);
        toast(`Queued call ${answer.callId} of ${answer.function} again`);
        feed.reload();
      } catch (err) {
        toast(`Could not replay dead letter ${letter.id}: ${err instanceof Error ? err.message : err}`, 'error');
        replay.disabled = false;
      }
    });
    remove.addEventListener('click', async () => {
      if (!confirm(`Forget dead letter ${letter.id} (call ${letter.callId})?`)) return;
      remove.disabled = true;
      try {
        await deleteDeadLetter(letter.id);
        feed.reload();
      } catch (err) {
        toast(`Could not delete dead letter ${letter.id}: ${err instanceof Error ? err.message : err}`, 'error');
        remove.disabled = false;
      }
    });
    return h(
      'tr',
      { 'data-dead-letter': letter.id },
      h('td', { class: 'num', 'data-label': 'Id' }, String(letter.id)),
      h('th', { scope: 'row', 'data-label': 'Function' }, letter.function),
      h('td', { class: 'mono', 'data-label': 'Call id' }, letter.callId),
      h('td', { class: 'num', 'data-label': 'Status' }, String(letter.status)),
      h('td', { class: 'num', 'data-label': 'Attempts' }, String(letter.attempts)),
      h('td', { 'data-label': 'Reason' }, letter.reason),
      h('td', { 'data-label': 'Failed at' }, h('time', { datetime: letter.failedAt }, new Date(letter.failedAt).toLocaleString())),
      h('td', { 'data-label': 'Actions' }, h('span', { class: 'actions' }, replay, remove)),
    );
  }

  function render() {
    const { value, error, loaded } = feed.state;
    if (error) status.textContent = `Cannot read the queue: ${error.message}`;
    else if (loaded) status.textContent = `Read every ${EVERY_MS / 1000} s, last at ${new Date(feed.state.receivedAt).toLocaleTimeString()}`;
    if (!value) return;
    const [queueRows, letterRows] = value;
    replaceChildren(
      queues.body,
      queueRows.length === 0
        ? emptyRow(queues, 'No functions.')
        : queueRows.map((q) =>
            h(
              'tr',
              { 'data-function': q.name },
              // The list (and so a function's page) shows the default namespace's functions.
              h('th', { scope: 'row', 'data-label': 'Function' }, monitor.get(q.name)?.namespace === q.namespace ? h('a', { href: fnHref(q.name) }, q.name) : q.name),
              h('td', { 'data-label': 'Namespace' }, q.namespace),
              h('td', { class: 'num', 'data-label': 'Queued' }, formatCount(q.queued)),
              h('td', { class: q.deadLetters > 0 ? 'num warn' : 'num', 'data-label': 'Dead letters' }, formatCount(q.deadLetters)),
            ),
          ),
    );
    replaceChildren(letters.body, letterRows.length === 0 ? emptyRow(letters, 'No dead letters.') : letterRows.map(letterRow));
  }

  const el = h(
    'section',
    { class: 'async-page', 'aria-labelledby': 'async-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'async-title', tabindex: '-1' }, 'Asynchronous calls'), status),
    h(
      'p',
      { class: 'hint' },
      'Calls queued with ',
      h('code', {}, 'POST /async-function/…'),
      ` and durable event messages that failed every attempt. A replay queues the call again; the first ${LETTERS_SHOWN} dead letters are shown.`,
    ),
    h('h2', {}, 'Queues'),
    h('div', { class: 'table-wrap' }, queues.el),
    h('h2', {}, 'Dead letters'),
    h('div', { class: 'table-wrap' }, letters.el),
  );
  return { el, dispose: () => feed.stop() };
}
