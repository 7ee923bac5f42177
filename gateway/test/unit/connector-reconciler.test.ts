// The connector's reconciler (programs/connector/reconciler.ts) against a real
// nats-server, with a view and a function of the test's own: the annotations
// of a function become subscriptions within moments of the view changing
// (at-most-once, durable, schedule), each event is one invocation with the
// message's headers and X-Topic, a removed function is unsubscribed, and a
// durable message that fails is retried.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionTable } from '../../src/core/functions/view.js';
import type { FunctionEntry } from '../../src/core/functions/types.js';
import type { Invocation } from '../../src/core/invocation/core.js';
import type { AnswerSink } from '../../src/core/invocation/sink.js';
import { openQueue, type Queue } from '../../src/queue/queue.js';
import { ConnectorMetrics } from '../../src/programs/connector/metrics.js';
import { EventConnector } from '../../src/programs/connector/reconciler.js';
import type { ConnectorSettings } from '../../src/programs/connector/settings.js';
import { status } from './support/fake-provider.js';
import { startNats, type NatsServer } from './support/nats-server.js';

let nats: NatsServer;
let queue: Queue;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await queue?.close();
  await nats.stop();
});

const settings = (): ConnectorSettings =>
  ({
    PORT: 0,
    LOG_LEVEL: 'silent',
    DEFAULT_NAMESPACE: 'openfaas-fn',
    NATS_URL: nats.url,
    NATS_MONITORING_URL: '',
    ASYNC_STREAM: 'faas-async',
    ASYNC_DEAD_LETTER_MAX_AGE: 3600,
    QUEUE_MAX_MESSAGES: 100,
    QUEUE_MAX_BYTES: 1024 * 1024,
    DEAD_LETTER_MAX_BYTES: 1024 * 1024,
    DEAD_LETTER_MAX_MESSAGES: 100,
    EVENTS_MAX_BYTES: 1024 * 1024,
    QUEUE_STORE_SIZE: 1024 ** 3,
    QUEUE_STORE_FULL_AT: 90,
    ASYNC_MAX_ATTEMPTS: 3,
    ASYNC_RETRY_DELAY: 0.1,
    ASYNC_RETRY_MAX_DELAY: 0.2,
    ASYNC_MAX_INFLIGHT: 5,
    ASYNC_ACK_WAIT: 5,
    ASYNC_ANSWER_LIMIT: 1024,
  }) as ConnectorSettings;

const fnEntry = (name: string, annotations: Record<string, string>): FunctionEntry => ({
  status: { ...status(name), annotations },
  instances: [],
  endpoints: ['10.0.0.1:8080'],
  starting: [],
  state: {},
});

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<number> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe('the connector', () => {
  it('subscribes as the annotations say, invokes once per event, follows changes and removals', async () => {
    queue = openQueue(settings(), log, 'connector-test', { applyLimits: false });
    const functions = new FunctionTable(log);
    functions.replaceAll([]);
    const invoked: Array<{ name: string; body: string; topic: string; source: string | undefined }> = [];
    let durableFails = 1;
    const invoke = async (invocation: Invocation, sink: AnswerSink) => {
      const body = invocation.body ? Buffer.from((invocation.body as { forUndici(): Buffer }).forUndici()).toString() : '';
      invoked.push({ name: invocation.ref.name, body, topic: String(invocation.headers['x-topic']), source: invocation.source });
      const code = invocation.ref.name === 'durable' && durableFails-- > 0 ? 503 : 200;
      sink.head(code, {});
      sink.end();
      return code;
    };
    const metrics = new ConnectorMetrics(new Registry(), { subscriptions: () => [], inflight: () => [] });
    const connector = new EventConnector(
      { functions, events: queue.events, calls: queue.calls, metrics, runner: { consumers: queue.consumers, invoke, answerLimit: 1024, keepAliveMs: 1_000, log, forgetStreams: () => undefined }, settings: settings(), log, nameOf: (r) => r.name },
      { reserved: ['faas-async'] },
    );
    connector.start();
    try {
      // A deploy: the subscription is live moments later.
      functions.set({ name: 'quick', namespace: 'openfaas-fn' }, fnEntry('quick', { topic: 'orders.*' }));
      const live = await until('the at-most-once subscription', () => connector.subscriptions().some((s) => s.subject === 'orders.*'));
      expect(live).toBeLessThan(1_000);
      await new Promise((r) => setTimeout(r, 100));
      await queue.events.publish('orders.eu', Buffer.from('one'), { 'X-Order': ['7'] });
      await until('the topic invocation', () => invoked.some((i) => i.body === 'one'));
      expect(invoked.find((i) => i.body === 'one')).toMatchObject({ name: 'quick', topic: 'orders.eu', source: 'topic' });

      // Durable: made, captured, delivered after a failure (retried).
      functions.set({ name: 'durable', namespace: 'openfaas-fn' }, fnEntry('durable', { topic: 'payments', 'topic-delivery': 'durable' }));
      await until('payments captured', () => connector.subscriptions().some((s) => s.subject === 'payments' && s.delivery === 'durable'));
      // faas-events keeps a message only for the consumers there when it is stored (interest retention): the
      // subscription's consumer is made a moment after its subject is captured, and a message stored in between is not kept.
      const { jsm } = await queue.connection.handles();
      const made = async () => {
        for await (const c of jsm.consumers.list('faas-events')) if (c.config.filter_subject === 'payments') return true;
        return false;
      };
      for (let i = 0; !(await made()); i++) {
        if (i > 100) throw new Error('the durable consumer of payments was not made in 5 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      // Published again until stored (the stream may not capture it yet), one at a time and with one message id:
      // publishes overlapping on a slow machine stored it twice, and the count below never read exactly 2.
      let stored = false;
      let publishing: Promise<unknown> | undefined;
      await until(
        'a durable publish stored',
        () => {
          publishing ??= queue.events
            .publishDurable('payments', Buffer.from('paid'), {}, 'paid-once')
            .then(() => (stored = true), () => undefined)
            .finally(() => (publishing = undefined));
          return stored;
        },
        10_000,
      );
      await until('the durable invocation, retried', () => invoked.filter((i) => i.body === 'paid').length === 2, 20_000);

      // A schedule every second.
      functions.set({ name: 'ticking', namespace: 'openfaas-fn' }, fnEntry('ticking', { topic: 'cron-function', schedule: '* * * * * *' }));
      await until('two ticks', () => invoked.filter((i) => i.name === 'ticking').length >= 2, 10_000);
      expect(invoked.find((i) => i.name === 'ticking')).toMatchObject({ source: 'schedule', topic: 'cron-function' });

      // Removed: unsubscribed at once.
      functions.set({ name: 'quick', namespace: 'openfaas-fn' }, undefined);
      await until('orders unsubscribed', () => !connector.subscriptions().some((s) => s.subject === 'orders.*'));
      const before = invoked.length;
      await queue.events.publish('orders.eu', Buffer.from('two'), {});
      await new Promise((r) => setTimeout(r, 300));
      expect(invoked.slice(before).some((i) => i.body === 'two')).toBe(false);
    } finally {
      await connector.stop(1_000);
    }
  }, 40_000);

  it('deletes the consumer of a subscription nobody wants, but never before it has read the functions', async () => {
    const { jsm } = await queue.connection.handles();
    await queue.events.ensure();
    const orphan = 'ev_orphan';
    const metrics = new ConnectorMetrics(new Registry(), { subscriptions: () => [], inflight: () => [] });
    const make = (functions: FunctionTable) =>
      new EventConnector(
        { functions, events: queue.events, calls: queue.calls, metrics, runner: { consumers: queue.consumers, invoke: async () => 200, answerLimit: 1024, keepAliveMs: 1_000, log, forgetStreams: () => undefined }, settings: settings(), log, nameOf: (r) => r.name },
        { reserved: ['faas-async'] },
        { reconcileEveryMs: 100, deleteAfterMs: 300 },
      );
    await jsm.consumers.add('faas-events', { durable_name: orphan, ack_policy: 'explicit' as never });
    // Not read yet (NATS was away when it started): it sees no function, and must not take that for "nobody wants it".
    const unread = make(new FunctionTable(log));
    unread.start();
    await new Promise((r) => setTimeout(r, 1_500));
    await unread.stop(1_000);
    expect((await jsm.consumers.info('faas-events', orphan)).name).toBe(orphan);
    // Read, and no function subscribes: gone after the grace time.
    const read = new FunctionTable(log);
    read.replaceAll([]);
    const connector = make(read);
    connector.start();
    try {
      let deleted = false;
      for (let i = 0; i < 50 && !deleted; i++) {
        deleted = await jsm.consumers.info('faas-events', orphan).then(() => false, () => true);
        if (!deleted) await new Promise((r) => setTimeout(r, 100));
      }
      expect(deleted).toBe(true);
    } finally {
      await connector.stop(1_000);
    }
  });
});
