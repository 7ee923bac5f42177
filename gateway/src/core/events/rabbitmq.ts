// What a function's RabbitMQ annotations ask of the connector, and the table
// of every function's queue subscriptions. Pure: the connector, the gateway's
// queue-depth reader and the function page all read the annotations here.
//
//   rabbitmq-topic: "queue,other"          the function is invoked for every message of these queues
//                                          (OpenFaaS Pro's RabbitMQ connector reads the queue name as the
//                                          function's `topic`; `topic` is NATS's here)
//   rabbitmq-output: "downstream"          each 2xx answer is published to this queue...
//   rabbitmq-output: "results/orders.done" ...or to the exchange `results` with the routing key `orders.done`
//
// Queues are the user's (like Kafka topics): the connector does not create
// them, so a misspelt name is reported instead of quietly made. Two functions
// naming one queue share its messages (RabbitMQ's competing consumers: each
// message goes to one of them); a queue per function, bound to the same
// exchange, gives each every message.
import { keyOf, type FunctionRef } from '../functions/types.js';
import { ANNOTATION } from '../labels.js';

/** Where answers are published: `exchange` "" is RabbitMQ's default exchange, whose routing key is a queue's name. */
export interface OutputBinding {
  exchange: string;
  routingKey: string;
  /** The annotation's text, for pages and run records. */
  text: string;
}

export interface RabbitTriggers {
  ref: FunctionRef;
  /** Queues subscribed to, without repeats. */
  queues: string[];
  output?: OutputBinding;
  /** Annotations that could not be used, in words (the rest still applies). */
  problems: string[];
}

/** The stack's own names on the broker (its dead-letter exchange and queue) start with this. */
const RABBITMQ_RESERVED_PREFIX = 'faas.';
const MAX_NAME = 255;

/** Why `name` cannot be a queue or exchange to subscribe or publish to; undefined: it can. */
export function rabbitNameProblem(name: string, what: 'queue' | 'exchange'): string | undefined {
  if (name.length === 0) return `an empty ${what} name`;
  if (Buffer.byteLength(name) > MAX_NAME) return `${what} ${JSON.stringify(name.slice(0, 40))}... is longer than ${MAX_NAME} bytes`;
  // AMQP 0-9-1's grammar of names: RabbitMQ takes more, but a name outside it breaks other clients and URLs.
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) return `${what} ${JSON.stringify(name)}: a name is letters, digits, -, _, . and : only`;
  if (name.startsWith('amq.') && what === 'queue') return `queue ${JSON.stringify(name)}: names starting with amq. are RabbitMQ's own`;
  if (name.startsWith(RABBITMQ_RESERVED_PREFIX)) return `${what} ${JSON.stringify(name)}: names starting with ${RABBITMQ_RESERVED_PREFIX} are the stack's own (its dead letters)`;
  return undefined;
}

/** The output binding of an annotation value, or why it cannot be used. */
export function parseOutput(text: string): { ok: true; output: OutputBinding } | { ok: false; problem: string } {
  const value = text.trim();
  const slash = value.indexOf('/');
  if (slash < 0) {
    const problem = rabbitNameProblem(value, 'queue');
    return problem ? { ok: false, problem } : { ok: true, output: { exchange: '', routingKey: value, text: value } };
  }
  const exchange = value.slice(0, slash);
  const routingKey = value.slice(slash + 1);
  // amq.topic, amq.direct and the like are fine to publish to.
  const problem = exchange.startsWith('amq.') ? undefined : rabbitNameProblem(exchange, 'exchange');
  if (problem) return { ok: false, problem };
  if (Buffer.byteLength(routingKey) > MAX_NAME) return { ok: false, problem: `routing key longer than ${MAX_NAME} bytes` };
  if (/[\u0000-\u001f\u007f]/.test(routingKey)) return { ok: false, problem: 'the routing key holds a control character' };
  return { ok: true, output: { exchange, routingKey, text: value } };
}

export function rabbitTriggersOf(ref: FunctionRef, annotations: Record<string, string>): RabbitTriggers {
  const problems: string[] = [];
  const queues: string[] = [];
  for (const name of (annotations[ANNOTATION.rabbitmqTopic] ?? '').split(',').map((q) => q.trim()).filter(Boolean)) {
    const problem = rabbitNameProblem(name, 'queue');
    if (problem) problems.push(`${ANNOTATION.rabbitmqTopic}: ${problem}`);
    else if (!queues.includes(name)) queues.push(name);
  }
  let output: OutputBinding | undefined;
  const outputText = annotations[ANNOTATION.rabbitmqOutput];
  if (outputText !== undefined && outputText.trim() !== '') {
    const parsed = parseOutput(outputText);
    if (!parsed.ok) problems.push(`${ANNOTATION.rabbitmqOutput}: ${parsed.problem} (answers are not published)`);
    else if (queues.length === 0) problems.push(`${ANNOTATION.rabbitmqOutput} is ignored without a queue in ${ANNOTATION.rabbitmqTopic}`);
    else if (parsed.output.exchange === '' && queues.includes(parsed.output.routingKey)) problems.push(`${ANNOTATION.rabbitmqOutput}: ${JSON.stringify(parsed.output.routingKey)} is also the function's input queue: every answer would invoke it again (answers are not published)`);
    else output = parsed.output;
  }
  return { ref: { name: ref.name, namespace: ref.namespace }, queues, ...(output ? { output } : {}), problems };
}

/** One function's consumer of one queue. */
export interface QueueSubscription {
  ref: FunctionRef;
  queue: string;
  output?: OutputBinding;
  /** Its key (and the consumer tag's core): namespace, name and queue. */
  key: string;
}

export interface RabbitTable {
  subscriptions: Map<string, QueueSubscription>;
  /** Queue -> the functions subscribed to it. */
  byQueue: Map<string, FunctionRef[]>;
}

function subscriptionKey(ref: FunctionRef, queue: string): string {
  return `${ref.namespace}/${ref.name}/${queue}`;
}

export function rabbitTable(all: readonly RabbitTriggers[]): RabbitTable {
  const subscriptions = new Map<string, QueueSubscription>();
  const byQueue = new Map<string, FunctionRef[]>();
  for (const t of all) {
    for (const queue of t.queues) {
      const key = subscriptionKey(t.ref, queue);
      subscriptions.set(key, { ref: t.ref, queue, key, ...(t.output ? { output: t.output } : {}) });
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), t.ref]);
    }
  }
  for (const refs of byQueue.values()) refs.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  return { subscriptions, byQueue };
}

/** What a function should be told about its queues given the whole table (a queue it shares with others). */
export function sharedQueueNotes(triggers: RabbitTriggers, table: RabbitTable, nameOf: (ref: FunctionRef) => string): string[] {
  const notes: string[] = [];
  for (const queue of triggers.queues) {
    const others = (table.byQueue.get(queue) ?? []).filter((r) => keyOf(r) !== keyOf(triggers.ref));
    if (others.length > 0) notes.push(`queue ${queue} is also subscribed by ${others.map(nameOf).join(', ')}: each message goes to one of them (give each function its own queue, bound to the same exchange, for every message to reach each)`);
  }
  return notes;
}
