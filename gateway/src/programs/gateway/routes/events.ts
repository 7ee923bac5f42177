// Event-driven functions through the gateway (behind the /system/* auth):
//
//   POST /system/events/{subject}        publishes the body to the subject, so webhooks
//                                        and scripts raise events without a NATS client
//        ?reply=true[&timeout=10s]       a request: answers the first subscribed function's answer
//   GET  /system/function/{name}/events  a function's topics, schedule and RabbitMQ queues, its
//        ?window=15m                     backlog, its last runs and its queue depth over the window (the UI)
//
// A subject that some function subscribes to durably is published through
// JetStream (202 once it is stored); any other with core NATS (202 once the
// server has it: at-most-once, delivered to the functions listening now).
import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import { parseDurationSeconds } from '@swarm-faas/duration';
import { Counter } from 'prom-client';
import { QueueFull, QueueUnavailable } from '../../../queue/errors.js';
import type { BacklogSources } from '../../../queue/backlog.js';
import { NotCaptured, type MessageHeaders, type RunRecord } from '../../../queue/events.js';
import { subjectMatches, subjectProblem } from '../../../core/events/subjects.js';
import { triggersOf } from '../../../core/events/triggers.js';
import { qualifiedName } from '../../../core/functions/names.js';
import type { FunctionRef } from '../../../core/functions/types.js';
import { HttpError } from '../http/errors.js';
import { MonitoringUnavailableError } from '../prometheus/client.js';
import { pairsOf, parseWindow, promString, rangeOf, sinceOf, type Pair } from '../prometheus/history.js';
import { keyOf } from '../provider/types.js';
import { isQueueScaled, queueTargetOf } from '../scaling/queue-policy.js';
import { readBody } from './async-invoke.js';
import type { PublishAnswer } from '../api/answers.js';
import type { RouteDeps } from './deps.js';
import { functionRefOf } from './function-ref.js';
import type { FunctionRabbit } from '../rabbitmq-queues.js';

/** Request headers that do not become message headers: the gateway's own, the client's address, hop-by-hop. */
const NOT_PUBLISHED = /^(x-forwarded-|x-real-ip$|x-message-id$|x-published-at$)/;
const MAX_REPLY_SECONDS = 120;

/** What a function page shows of its events (GET /system/function/{name}/events). */
export interface FunctionEvents {
  name: string;
  topics: string[];
  delivery: 'at-most-once' | 'durable';
  schedule: { expression: string; next: string[] } | null;
  problems: string[];
  scaling: { type: 'queue' | 'rate'; target: number };
  /** Pending messages now by source (null: not read from JetStream yet, or NATS away); rabbitmq: ready + unacked over its queues (null: not known). */
  pending: (BacklogSources & { rabbitmq: number | null; total: number }) | null;
  /** Its RabbitMQ queues (annotation rabbitmq-topic) with their depth, its output binding and what is wrong; null: it names none, or the stack has no broker. */
  rabbitmq: FunctionRabbit | null;
  /** Newest first; null when NATS cannot be asked now. */
  runs: RunRecord[] | null;
  /** Pending messages over the window, from Prometheus (null: Prometheus did not answer). */
  queue: Pair[] | null;
  window: string;
  start: number;
  end: number;
  step: number;
}

export function registerEvents(router: Router, deps: RouteDeps): void {
  const { queue } = deps;
  const published = new Counter({
    name: 'gateway_events_published_total',
    help: 'Messages published through POST /system/events, by delivery (at-most-once, durable, request)',
    labelNames: ['delivery'],
    registers: [deps.metrics.registry],
  });
  const { prometheus } = deps;
  const rules = queue?.rules ?? { reserved: [deps.config.ASYNC_STREAM] };

  /** The functions subscribed to a subject now, and those that want it durably. */
  const subscribers = (subject: string) => {
    let count = 0;
    const durable: FunctionRef[] = [];
    for (const { status } of deps.functions.list()) {
      const triggers = triggersOf(status, status.annotations, rules);
      if (triggers.topics.some((t) => subjectMatches(t, subject))) {
        count++;
        if (triggers.delivery === 'durable') durable.push({ name: status.name, namespace: status.namespace });
      }
    }
    return { count, durable };
  };

  router.post('/system/events/:subject', async (ctx) => {
    const subject = ctx.params.subject!;
    const problem = subjectProblem(subject, 'publish', rules);
    if (problem) throw new HttpError(400, `invalid subject: ${problem}`);
    if (!queue) throw new HttpError(503, 'events are off (NATS_URL=none)');
    const limit = deps.config.ASYNC_BODY_LIMIT;
    const declared = ctx.get('content-length');
    if (declared && Number(declared) > limit) throw new HttpError(413, `request body larger than ${limit} bytes (ASYNC_BODY_LIMIT)`);
    const body = await readBody(ctx.req, limit);

    const headers: MessageHeaders = {};
    for (const [name, value] of Object.entries(ctx.req.headers)) {
      if (value === undefined || !(name === 'content-type' || name.startsWith('x-')) || NOT_PUBLISHED.test(name)) continue;
      headers[name] = [value].flat();
    }
    const callId = ctx.get('x-call-id') || randomUUID();
    if (!ctx.get('x-call-id')) headers['x-call-id'] = [callId];
    headers['X-Published-At'] = [String(Date.now())];
    const { count, durable } = subscribers(subject);
    const messageId = ctx.get('x-message-id');
    if (messageId.length > 200) throw new HttpError(400, 'X-Message-Id is longer than 200 characters');
    if (!queue.events.isConnected) throw new QueueUnavailable(`NATS is not available: ${queue.events.away ?? `not connected to ${deps.config.NATS_URL} yet`}`);

    if (ctx.query.reply === 'true' || ctx.query.reply === '1') {
      if (durable.length > 0) throw new HttpError(409, `${subject} is subscribed durably (topic-delivery: durable): JetStream answers its messages with their acknowledgement, so publish it without reply=true`);
      const timeoutText = typeof ctx.query.timeout === 'string' ? ctx.query.timeout : '10s';
      const timeout = parseDurationSeconds(timeoutText);
      if (timeout === undefined || timeout <= 0 || timeout > MAX_REPLY_SECONDS) throw new HttpError(400, `invalid timeout ${JSON.stringify(timeoutText)}: expected a duration from 1ms to ${MAX_REPLY_SECONDS}s, e.g. 10s`);
      let answer;
      try {
        answer = await queue.events.request(subject, body, headers, timeout * 1000);
      } catch (error) {
        const text = String((error as Error).message);
        if (/no responders/i.test(text)) throw new HttpError(404, `no function subscribes to ${subject} now`);
        if (/timeout/i.test(text)) throw new HttpError(504, `no answer on ${subject} within ${timeoutText}`);
        throw new HttpError(503, `the request on ${subject} failed: ${text}`);
      }
      published.inc({ delivery: 'request' });
      ctx.status = 200;
      for (const name of ['X-Function-Name', 'X-Function-Status', 'X-Call-Id', 'X-Duration-Seconds']) {
        const value = answer.headers[name]?.[0];
        if (value) ctx.set(name, value);
      }
      ctx.type = answer.headers['Content-Type']?.[0] || 'application/octet-stream';
      ctx.body = Buffer.from(answer.data);
      return;
    }

    if (durable.length > 0) {
      // A function with as many messages pending as its limit allows refuses more (the others keep taking theirs).
      for (const ref of durable) {
        const pending = queue.backlog.get(keyOf(ref))?.topic ?? 0;
        const max = queue.limitsOf(ref).messages;
        if (pending >= max) {
          throw new QueueFull(`function ${qualifiedName(ref, deps.config.DEFAULT_NAMESPACE)} has ${pending} messages of its topics pending, its limit (label com.openfaas.queue.max-messages; setting QUEUE_MAX_MESSAGES): try again once it has taken some`, 5);
        }
      }
      try {
        const ack = await queue.events.publishDurable(subject, body, headers, messageId || undefined);
        published.inc({ delivery: 'durable' });
        ctx.status = 202;
        ctx.set('x-call-id', callId);
        ctx.body = { subject, delivery: 'durable', subscribers: count, sequence: ack.seq, duplicate: ack.duplicate } satisfies PublishAnswer;
        return;
      } catch (error) {
        // The connector has not made the stream capture the subject yet (a subscription seconds old): nobody waits for it durably.
        if (!(error instanceof NotCaptured)) throw error;
      }
    }
    await queue.events.publish(subject, body, headers);
    published.inc({ delivery: 'at-most-once' });
    ctx.status = 202;
    ctx.set('x-call-id', callId);
    ctx.body = { subject, delivery: 'at-most-once', subscribers: count } satisfies PublishAnswer;
  });

  router.get('/system/function/:name/events', async (ctx) => {
    const parsed = parseWindow(ctx.query.window);
    if (!parsed.ok) throw new HttpError(400, parsed.message);
    const window = parsed.window;
    const ref = functionRefOf(ctx, ctx.params.name!, deps.config.DEFAULT_NAMESPACE);
    const name = qualifiedName(ref, deps.config.DEFAULT_NAMESPACE);
    const status = (deps.functions.get(ref) ?? (await deps.functions.refresh(ref)))?.status;
    if (!status) throw new HttpError(404, `function ${name} not found`);
    const triggers = triggersOf(status, status.annotations, rules);
    const range = rangeOf(window, Date.now());

    const sources = queue?.backlog.get(keyOf(status));
    const rabbit = deps.rabbitmq?.describe(status);
    const [runs, queueHistory] = await Promise.all([
      queue ? queue.events.lastRuns(status).then((r) => r.reverse()).catch((error: unknown) => (error instanceof QueueUnavailable ? null : Promise.reject(error))) : Promise.resolve(null),
      prometheus
        .queryRange(`max(gateway_function_pending_messages{function_name=${promString(name)}})`, range.start, range.end, range.step)
        .then((series) => pairsOf(series[0], sinceOf(status.createdAt)))
        .catch((error: unknown) => (error instanceof MonitoringUnavailableError ? null : Promise.reject(error))),
    ]);
    const next: string[] = [];
    if (triggers.schedule) {
      let t = Date.now();
      for (let i = 0; i < 3; i++) {
        const n = triggers.schedule.next(t);
        if (n === undefined) break;
        next.push(new Date(n).toISOString());
        t = n;
      }
    }
    const answer: FunctionEvents = {
      name,
      topics: triggers.topics,
      delivery: triggers.delivery,
      schedule: triggers.schedule ? { expression: triggers.schedule.expression, next } : null,
      problems: triggers.problems,
      scaling: { type: isQueueScaled(status.labels) ? 'queue' : 'rate', target: queueTargetOf(status.labels).target },
      pending: sources ? { ...sources, rabbitmq: rabbit?.pending ?? null, total: sources.async + sources.topic + sources.schedule + (rabbit?.pending ?? 0) } : null,
      rabbitmq: rabbit ?? null,
      runs,
      queue: queueHistory,
      window: window.name,
      ...range,
    };
    ctx.set('cache-control', 'no-store');
    ctx.body = answer;
  });
}
