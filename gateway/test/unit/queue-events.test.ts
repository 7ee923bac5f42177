// The events port against a real nats-server (queue/events.ts): a durable
// publish is stored when faas-events captures the subject, and said to be
// "not captured" (the route then publishes it at-most-once) only when the
// stream answers and captures no such subject.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotCaptured } from '../../src/queue/events.js';
import { openQueue, type Queue } from '../../src/queue/queue.js';
import { startNats, type NatsServer } from './support/nats-server.js';

let nats: NatsServer;
let queue: Queue;

beforeAll(async () => {
  nats = await startNats();
  queue = openQueue(
    {
      NATS_URL: nats.url,
      NATS_MONITORING_URL: '',
      ASYNC_STREAM: 'faas-async',
      ASYNC_DEAD_LETTER_MAX_AGE: 3600,
      QUEUE_MAX_MESSAGES: 10,
      QUEUE_MAX_BYTES: 1024 * 1024,
      DEAD_LETTER_MAX_BYTES: 1024 * 1024,
      DEAD_LETTER_MAX_MESSAGES: 10,
      EVENTS_MAX_BYTES: 1024 * 1024,
      QUEUE_STORE_SIZE: 1024 ** 3,
      QUEUE_STORE_FULL_AT: 90,
    },
    pino({ level: 'silent' }),
    'events-test',
    { applyLimits: true },
  );
});
afterAll(async () => {
  await queue.close();
  await nats.stop();
});

describe('a durable publish', () => {
  it('is stored where faas-events captures the subject (a wildcard too), once per message id', async () => {
    await queue.events.ensure();
    await queue.events.captureSubjects(['orders.*']);
    expect(await queue.events.capturedSubjects()).toEqual(['orders.*']);
    const first = await queue.events.publishDurable('orders.eu', Buffer.from('a'), { 'X-Test': ['1'] }, 'm-1');
    const again = await queue.events.publishDurable('orders.eu', Buffer.from('a'), {}, 'm-1');
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
  });

  it('is "not captured" only when the stream answers and takes no such subject', async () => {
    await expect(queue.events.publishDurable('invoices.eu', Buffer.from('b'), {})).rejects.toBeInstanceOf(NotCaptured);
  });
});
