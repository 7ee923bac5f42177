// @ts-check
// What a function's page shows of its events (GET /system/function/{name}/events):
// its triggers in words, its runs as table rows, and its queue depth as chart
// points (history from Prometheus, then what the page polled itself). Pure:
// no DOM, no I/O.
import { pointsOf, joinLive, clockShift } from './history.js';

/**
 * @typedef {import('./types.js').FunctionEvents} FunctionEvents
 * @typedef {import('./types.js').EventRun} EventRun
 * @typedef {import('./types.js').Point} Point
 */

/**
 * The triggers in words, one line each.
 * @param {FunctionEvents} e
 * @returns {string[]}
 */
export function describeTriggers(e) {
  /** @type {string[]} */
  const lines = [];
  if (e.topics.length > 0) {
    lines.push(`${e.delivery === 'durable' ? 'Durable' : 'At-most-once'} subscription to ${e.topics.join(', ')}`);
  }
  if (e.schedule) lines.push(`On the schedule ${e.schedule.expression} (UTC)${e.schedule.next[0] ? `, next at ${e.schedule.next[0].replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : ''}`);
  const rabbit = e.rabbitmq;
  if (rabbit && rabbit.queues.length > 0) lines.push(`RabbitMQ queue${rabbit.queues.length === 1 ? '' : 's'} ${rabbit.queues.map((q) => q.name).join(', ')}${rabbit.output ? `, answers published to ${rabbit.output}` : ''}`);
  if (lines.length === 0) lines.push('No topic, schedule or queue: invoked over HTTP only (annotations topic, schedule, rabbitmq-topic).');
  return lines;
}

/**
 * How the function scales, in words.
 * @param {FunctionEvents} e
 */
export function describeScaling(e) {
  return e.scaling.type === 'queue'
    ? `Scales on its queue: ${e.scaling.target} pending message${e.scaling.target === 1 ? '' : 's'} per replica (com.openfaas.scale.type=queue)`
    : 'Scales on its request rate (alerts)';
}

/**
 * One run as the cells of a row.
 * @param {EventRun} run
 * @param {number} now
 */
export function runRow(run, now) {
  const ago = Math.max(0, Math.round((now - run.at) / 1000));
  return {
    time: new Date(run.at).toISOString(),
    ago: ago < 60 ? `${ago} s ago` : ago < 3600 ? `${Math.round(ago / 60)} min ago` : `${Math.round(ago / 3600)} h ago`,
    trigger: run.trigger === 'schedule' ? 'schedule' : run.trigger === 'rabbitmq' ? `RabbitMQ${run.published ? ` → ${run.published}` : ''}` : `${run.delivery} topic`,
    subject: run.subject,
    status: run.status === 0 ? 'no answer' : String(run.status),
    outcome: { success: 'success', failure: 'failed', retry: 'will retry', dead_letter: 'dead letter' }[run.outcome] ?? run.outcome,
    tone: run.outcome === 'success' ? 'ok' : run.outcome === 'retry' ? 'warn' : 'bad',
    duration: `${run.durationMs} ms`,
    attempt: String(run.attempt),
    reason: run.reason ?? '',
  };
}

/**
 * One RabbitMQ queue in words: its depth now (ready, being worked on, consumers) or what is wrong.
 * @param {import('./types.js').RabbitQueue} q
 */
export function describeQueue(q) {
  if (q.ready === null) return `${q.name}: ${q.problem ?? 'depth not known'}`;
  const worked = q.unacked === null ? '' : `, ${q.unacked} being worked on`;
  return `${q.name}: ${q.ready} waiting${worked}, ${q.consumers ?? 0} consumer${q.consumers === 1 ? '' : 's'}${q.problem ? ` (${q.problem})` : ''}`;
}

/**
 * The queue depth over the window: Prometheus' history up to when it was
 * read, then the page's own polls (every answer carries the depth now).
 * @param {{history: FunctionEvents | null, receivedAt: number, live: Array<{t: number, pending: number}>, windowMs: number, now: number}} input
 * @returns {Point[]}
 */
export function queuePoints({ history, receivedAt, live, windowMs, now }) {
  const start = now - windowMs;
  const samples = live.map((s) => ({ t: s.t, count: 0, rate: null, replicas: s.pending, available: 0 }));
  /** @param {import('./types.js').Sample} s */
  const value = (s) => s.replicas;
  const inWindow = (/** @type {Point[]} */ points) => points.filter((p) => p.t >= start && p.t <= now + 1000);
  if (!history || !history.queue) return inWindow(joinLive([], samples, value, null));
  const shift = clockShift(history.end, receivedAt);
  const end = history.end * 1000 + shift;
  return inWindow(joinLive(pointsOf(history.queue, history.step * 2500, shift), samples, value, end));
}

/**
 * What the publish form sent, and what came back, in words.
 * @param {{status: number, json: any, text: string}} answer
 */
export function describePublish(answer) {
  if (answer.status === 202 && answer.json) {
    const n = Number(answer.json.subscribers ?? 0);
    return `${answer.status}: published (${answer.json.delivery}) to ${n} subscribed function${n === 1 ? '' : 's'}`;
  }
  return `${answer.status || 'no answer'}: ${answer.text || 'the gateway did not answer'}`;
}
