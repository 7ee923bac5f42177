// @ts-check
// The events card of a function's page: its topics, schedule and RabbitMQ
// queues (and what of its annotations could not be used, or is wrong on the
// broker), how it scales, its backlog now (each queue's depth), its last runs
// by topic, schedule or queue with their outcome, and a form to publish
// a message to a subject. It keeps GET /system/function/{name}/events fresh
// (every 2 s) and gives the page the queue depth for the chart.
import { h, replaceChildren, uid } from '../dom.js';
import { functionEvents, publishEvent } from '../api.js';
import { createFeed } from '../feed.js';
import { describePublish, describeQueue, describeScaling, describeTriggers, queuePoints, runRow } from '../events.js';

/** The page polls the events this often (the queue depth on the chart moves with it). */
const EVERY_MS = 2_000;
/** Live queue samples kept (24 h at 2 s would be too many: the history covers the rest). */
const LIVE_KEPT = 1_800;

/**
 * @param {string} name
 * @param {() => string} currentWindow the chart's window
 * @param {() => void} onUpdate told after every poll (the page redraws its chart)
 */
export function eventsPanel(name, currentWindow, onUpdate) {
  /** @type {Array<{t: number, pending: number}>} */
  const live = [];
  const feed = createFeed(() => functionEvents(name, currentWindow()), EVERY_MS, () => {
    const pending = feed.state.value?.pending;
    if (pending && !feed.state.error) {
      live.push({ t: Date.now(), pending: pending.total });
      if (live.length > LIVE_KEPT) live.shift();
    }
    render();
    onUpdate();
  });

  const triggers = h('ul', { class: 'plain', 'data-testid': 'event-topics' });
  const problems = h('p', { class: 'notice notice-warn', hidden: true, role: 'status' });
  const scaling = h('p', { class: 'hint' });
  const pendingLine = h('p', { class: 'muted small', 'data-testid': 'event-pending' });
  // Its RabbitMQ queues, with their depth as the gateway last read it.
  const queues = h('ul', { class: 'plain small', 'data-testid': 'event-queues', hidden: true });
  const runsBody = h('tbody');
  const runsTable = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'tasks', 'data-testid': 'event-runs' },
      h('thead', {}, h('tr', {}, ['When', 'Trigger', 'Subject', 'Status', 'Outcome', 'Took', 'Attempt'].map((c) => h('th', { scope: 'col' }, c)))),
      runsBody,
    ),
  );
  const status = h('p', { class: 'muted small', role: 'status' });

  const subjectId = uid('event-subject');
  const bodyId = uid('event-body');
  const subject = h('input', { id: subjectId, name: 'subject', type: 'text', required: true, spellcheck: 'false', autocomplete: 'off', placeholder: 'orders.created' });
  const body = h('textarea', { id: bodyId, name: 'body', rows: 3, spellcheck: 'false' });
  const send = h('button', { type: 'submit' }, 'Publish');
  const result = h('p', { class: 'muted small', 'data-testid': 'event-publish-result', role: 'status' });
  let subjectTouched = false;
  subject.addEventListener('input', () => (subjectTouched = true));
  const form = h(
    'form',
    {
      'data-testid': 'event-publish',
      'aria-label': 'Publish an event',
      /** @param {SubmitEvent} e */
      async onsubmit(e) {
        e.preventDefault();
        send.disabled = true;
        result.textContent = 'Publishing…';
        try {
          const answer = await publishEvent(subject.value.trim(), body.value, 'text/plain');
          result.textContent = describePublish(answer);
          result.className = answer.status === 202 ? 'small ok' : 'small error';
          feed.reload();
        } finally {
          send.disabled = false;
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: subjectId }, 'Subject'), subject),
    h('div', { class: 'field' }, h('label', { for: bodyId }, 'Message'), body),
    h('div', { class: 'actions' }, send),
    result,
  );

  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'events-title', 'data-testid': 'events-panel' },
    h('h2', { id: 'events-title' }, 'Events'),
    triggers,
    problems,
    scaling,
    pendingLine,
    queues,
    h('h3', {}, 'Last runs by events'),
    runsTable,
    status,
    h('h3', {}, 'Publish to a subject'),
    form,
  );

  function render() {
    const e = feed.state.value;
    if (feed.state.error) status.textContent = `Events unavailable: ${feed.state.error.message}`;
    else status.textContent = '';
    if (!e) return;
    replaceChildren(triggers, describeTriggers(e).map((line) => h('li', {}, line)));
    const notes = [...e.problems, ...(e.rabbitmq?.problems ?? [])];
    problems.hidden = notes.length === 0;
    problems.textContent = notes.length ? `Not used or wrong: ${notes.join('; ')}` : '';
    const rabbitQueues = e.rabbitmq?.queues ?? [];
    queues.hidden = rabbitQueues.length === 0;
    replaceChildren(queues, rabbitQueues.map((q) => h('li', { class: q.problem ? 'error' : '' }, describeQueue(q))));
    scaling.textContent = describeScaling(e);
    pendingLine.textContent = e.pending
      ? `Pending now: ${e.pending.total} (asynchronous calls ${e.pending.async}, topic messages ${e.pending.topic}, schedule ticks ${e.pending.schedule}${e.rabbitmq ? `, RabbitMQ ${e.pending.rabbitmq ?? 'not known'}` : ''})`
      : 'Pending now: not known (NATS not read yet)';
    const now = Date.now();
    const runs = e.runs ?? [];
    replaceChildren(
      runsBody,
      e.runs === null
        ? h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'Runs not known now (NATS away).'))
        : runs.length === 0
          ? h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No run by a topic or a schedule yet.'))
          : runs.map((run) => {
              const r = runRow(run, now);
              return h(
                'tr',
                { class: `task task-${r.tone}`, 'data-outcome': run.outcome, title: r.reason },
                h('td', { 'data-label': 'When' }, h('time', { datetime: r.time }, r.ago)),
                h('td', { 'data-label': 'Trigger' }, r.trigger),
                h('td', { 'data-label': 'Subject', class: 'mono' }, r.subject),
                h('td', { 'data-label': 'Status' }, r.status),
                h('td', { 'data-label': 'Outcome' }, r.outcome),
                h('td', { 'data-label': 'Took' }, r.duration),
                h('td', { 'data-label': 'Attempt' }, r.attempt),
              );
            }),
    );
    if (!subjectTouched && document.activeElement !== subject && e.topics[0] && !e.topics[0].includes('*') && !e.topics[0].includes('>')) subject.value = e.topics[0];
  }

  return {
    el,
    /** The queue depth over the chart's window (history, then live). */
    queue(/** @type {number} */ windowMs, /** @type {number} */ now) {
      const history = feed.state.value && feed.state.value.window === currentWindow() ? feed.state.value : null;
      return queuePoints({ history, receivedAt: feed.state.receivedAt, live, windowMs, now });
    },
    /** The window changed: read the history of the new one. */
    reload: () => feed.reload(),
    dispose: () => feed.stop(),
  };
}
