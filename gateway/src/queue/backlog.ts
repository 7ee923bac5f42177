// Every function's backlog as JetStream holds it, for queue-depth scaling and
// the UI: its asynchronous calls (faas-async), its durable topic messages (its
// consumers of faas-events) and its schedule ticks (faas-cron), each waiting
// or being worked on. Five reads per look, whatever the number of functions.
// Consumers' counts are used where a consumer exists (a work-queue stream may
// keep a message a crashed NATS failed to remove, which no consumer will
// deliver); the async stream's count of the function's subject otherwise (the
// worker has not made the function's consumer yet).
import type { ConsumerInfo } from '@nats-io/jetstream';
import { consumerName } from './call-message.js';
import type { AsyncQueue } from './async-queue.js';
import type { FunctionView } from '../core/functions/view.js';
import { keyOf } from '../programs/gateway/provider/types.js';
import type { Backlog, BacklogReader } from '../programs/gateway/scaling/queue-scaler.js';
import { CRON_STREAM, EVENTS_STREAM, type EventStreams } from './event-streams.js';
import type { SubjectRules } from '../core/events/subjects.js';
import { durableConsumerName, scheduleConsumerName, triggersOf } from '../core/events/triggers.js';

export interface BacklogSources {
  async: number;
  topic: number;
  schedule: number;
}

export function natsBacklog(queue: AsyncQueue, streams: EventStreams, functions: FunctionView, rules: SubjectRules): BacklogReader & { sources: Map<string, BacklogSources> } {
  const sources = new Map<string, BacklogSources>();
  const read = async (): Promise<Map<string, Backlog>> => {
    const [asyncCounts, asyncConsumers, eventConsumers, cronConsumers] = await Promise.all([
      queue.countsByFunction('queue'),
      streams.consumers(queue.stream),
      streams.consumers(EVENTS_STREAM),
      streams.consumers(CRON_STREAM),
    ]);
    const byName = (list: ConsumerInfo[]) => new Map(list.map((c) => [c.name, c]));
    const asyncByName = byName(asyncConsumers);
    const eventsByName = byName(eventConsumers);
    const cronByName = byName(cronConsumers);
    const stored = new Map(asyncCounts.map(({ ref, count }) => [keyOf(ref), count]));
    const pendingOf = (c: ConsumerInfo) => c.num_pending + c.num_ack_pending;
    const out = new Map<string, Backlog>();
    sources.clear();
    for (const { status } of functions.list()) {
      const key = keyOf(status);
      const triggers = triggersOf(status, status.annotations, rules);
      let delivered = 0;
      const asyncConsumer = asyncByName.get(consumerName(status));
      const asyncPending = asyncConsumer ? pendingOf(asyncConsumer) : (stored.get(key) ?? 0);
      if (asyncConsumer) delivered += asyncConsumer.delivered.consumer_seq;
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
