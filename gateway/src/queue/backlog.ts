// Every function's backlog as JetStream holds it, for queue-depth scaling, the
// queue limits of durable topics and the UI: its asynchronous calls (its own
// stream), its durable topic messages (its consumers of faas-events) and its
// schedule ticks (faas-cron), each waiting or being worked on. Three reads per
// look, whatever the number of functions.
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { FunctionLookup } from '../core/functions/view.js';
import { keyOf } from '../core/functions/types.js';
import type { SubjectRules } from '../core/events/subjects.js';
import { durableConsumerName, scheduleConsumerName, triggersOf } from '../core/events/triggers.js';
import type { AsyncCalls } from './async-calls.js';
import { CRON_STREAM, EVENTS_STREAM, type EventBus } from './events.js';

export interface BacklogSources {
  async: number;
  topic: number;
  schedule: number;
}

export interface Backlog {
  /** Messages waiting or being worked on. */
  pending: number;
  /** Counters that move whenever messages come or are handled, added up: a change means activity. */
  delivered: number;
  /** Part of the figures could not be read now (NATS or a RabbitMQ broker away): `pending` is a lower bound, enough to scale up on, never down. */
  unknown?: boolean;
}

/** A backlog read from some of its sources only: a function it does not list may have messages nobody could count. */
export interface PartialBacklog extends Map<string, Backlog> {
  partial?: true;
}

/** The backlog of a function in a reading: none listed is none pending, unless the reading is partial (then: not known). */
export function backlogOf(reading: PartialBacklog, key: string): Backlog {
  return reading.get(key) ?? (reading.partial ? { pending: 0, delivered: 0, unknown: true } : { pending: 0, delivered: 0 });
}

/**
 * One reader of both: each function's pending messages and activity added
 * up, unknown when either says so. When one source cannot be read, the
 * other's figures still come, each a lower bound (so NATS away does not stop
 * a RabbitMQ-fed function from scaling up, nor the other way round); when
 * neither can, the read fails.
 */
export function addBacklogs<R extends BacklogReader>(first: R, second: BacklogReader | undefined): R {
  if (!second) return first;
  const read = async (): Promise<Map<string, Backlog>> => {
    const [a, b] = await Promise.allSettled([first(), second()]);
    if (a.status === 'rejected' && b.status === 'rejected') throw a.reason;
    const out: PartialBacklog = new Map();
    for (const part of [a, b]) {
      if (part.status === 'rejected') continue;
      for (const [key, more] of part.value) {
        const have = out.get(key) ?? { pending: 0, delivered: 0 };
        out.set(key, { pending: have.pending + more.pending, delivered: have.delivered + more.delivered, ...(have.unknown || more.unknown ? { unknown: true } : {}) });
      }
    }
    if (a.status === 'rejected' || b.status === 'rejected') {
      out.partial = true;
      for (const [key, backlog] of out) out.set(key, { ...backlog, unknown: true });
    }
    return out;
  };
  return Object.assign(read, first) as unknown as R;
}

/** Every function's backlog, keyed by keyOf(ref); rejects when JetStream cannot be read now. */
export type BacklogReader = () => Promise<Map<string, Backlog>>;

export function natsBacklog(calls: AsyncCalls, events: EventBus, functions: FunctionLookup, rules: SubjectRules): BacklogReader & { sources: Map<string, BacklogSources> } {
  const sources = new Map<string, BacklogSources>();
  const read = async (): Promise<Map<string, Backlog>> => {
    const [depths, eventConsumers, cronConsumers] = await Promise.all([calls.depths(), events.consumers(EVENTS_STREAM), events.consumers(CRON_STREAM)]);
    const byName = (list: ConsumerInfo[]) => new Map(list.map((c) => [c.name, c]));
    const eventsByName = byName(eventConsumers);
    const cronByName = byName(cronConsumers);
    const asyncByKey = new Map(depths.map((d) => [keyOf(d.ref), d]));
    const pendingOf = (c: ConsumerInfo) => c.num_pending + c.num_ack_pending;
    const out = new Map<string, Backlog>();
    sources.clear();
    for (const { status } of functions.list()) {
      const key = keyOf(status);
      const triggers = triggersOf(status, status.annotations, rules);
      const queued = asyncByKey.get(key);
      const asyncPending = queued?.messages ?? 0;
      let delivered = queued?.lastSeq ?? 0;
      let topic = 0;
      if (triggers.delivery === 'durable') {
        for (const subject of triggers.topics) {
          const c = eventsByName.get(durableConsumerName(status, subject));
          if (!c) continue;
          topic += pendingOf(c);
          delivered += c.delivered.consumer_seq;
        }
      }
      let schedule = 0;
      if (triggers.schedule) {
        const c = cronByName.get(scheduleConsumerName(status));
        if (c) {
          schedule = pendingOf(c);
          delivered += c.delivered.consumer_seq;
        }
      }
      sources.set(key, { async: asyncPending, topic, schedule });
      out.set(key, { pending: asyncPending + topic + schedule, delivered });
    }
    return out;
  };
  return Object.assign(read, { sources });
}
