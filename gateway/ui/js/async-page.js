// The asynchronous calls page (ui/async.html): each function's queue and the
// dead letters, read from /system/async/* every 2 s. Read-only; text goes in
// as textContent only.
const EVERY_MS = 2000;

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function fill(table, rows, columns, emptyText) {
  const body = table.tBodies[0];
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

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function refresh() {
  const live = document.getElementById('live');
  try {
    const [queues, letters] = await Promise.all([getJson('/system/async/queues'), getJson('/system/async/dead-letters?limit=100')]);
    fill(
      document.getElementById('queues'),
      queues.map((q) => [cell('th', q.name), cell('td', q.namespace), cell('td', String(q.queued), 'num'), cell('td', String(q.deadLetters), q.deadLetters > 0 ? 'num warn' : 'num')]),
      4,
      'No functions.',
    );
    fill(
      document.getElementById('dead-letters'),
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
    live.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    live.textContent = `Cannot read the queue: ${error.message}`;
  }
}

void refresh();
setInterval(refresh, EVERY_MS);
