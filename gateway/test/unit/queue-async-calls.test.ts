// The queue of asynchronous calls against a real nats-server (queue/async-calls.ts,
// queue/streams.ts): every function's own stream holds its limits across
// every gateway, a function at its limit is refused while another is not,
// dead letters keep the newest, a full store refuses everything, and calls
// of the earlier shared stream are moved over.
import { headers as natsHeaders } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_HEADER, encodeCall, type QueuedCall } from '../../src/queue/call-message.js';
import { QueueFull, StoreFull } from '../../src/queue/errors.js';
import { openQueue, type Queue, type QueueSettings } from '../../src/queue/queue.js';
import { addStream, queueLimitsOf } from '../../src/queue/streams.js';
import { StoreGauge } from '../../src/queue/store-gauge.js';
import { AsyncCalls } from '../../src/queue/async-calls.js';
import { startNats, type NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

let nats: NatsServer;
const log = pino({ level: 'silent' });
const queues: Queue[] = [];

const settings = (overrides: Partial<QueueSettings> = {}): QueueSettings => ({
  NATS_URL: nats.url,
  NATS_MONITORING_URL: nats.monitoringUrl,
  ASYNC_STREAM: 'faas-async',
  ASYNC_DEAD_LETTER_MAX_AGE: 3600,
  QUEUE_MAX_MESSAGES: 3,
  QUEUE_MAX_BYTES: 64 * 1024,
  DEAD_LETTER_MAX_BYTES: 1024 * 1024,
  DEAD_LETTER_MAX_MESSAGES: 3,
  EVENTS_MAX_BYTES: 1024 * 1024,
  QUEUE_STORE_SIZE: 1024 ** 3,
  QUEUE_STORE_FULL_AT: 90,
  ...overrides,
});

function queue(overrides: Partial<QueueSettings> = {}): Queue {
  const q = openQueue(settings(overrides), log, 'test', { applyLimits: true });
  queues.push(q);
  return q;
}

let n = 0;
const call = (name: string, body = 'x'): QueuedCall => ({
  callId: `c${++n}`,
  ref: { name, namespace: 'openfaas-fn' },
  method: 'POST',
  path: '/',
  query: '',
  headers: {},
  acceptedAt: Date.now(),
  body: Buffer.from(body),
});

beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  for (const q of queues) await q.close();
  await nats.stop();
});

describe('a function at its limits', () => {
  it('is refused with QueueFull (429) at its message limit while another function is still accepted, by any gateway', async () => {
    const [a, b] = [queue(), queue()];
    const limits = queueLimitsOf({}, settings());
    for (let i = 0; i < 3; i++) await (i % 2 ? a : b).calls.enqueue(call('full'), `full-${i}`, limits);
    const refused = await a.calls.enqueue(call('full'), 'full-3', limits).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFull);
    expect((refused as QueueFull).message).toContain('as much queued as its limit allows, 3 calls');
    expect((refused as QueueFull).retryAfterSeconds).toBeGreaterThan(0);
    // Through the other gateway too: the limit is JetStream's, not a gateway's.
    await expect(b.calls.enqueue(call('full'), 'full-4', limits)).rejects.toBeInstanceOf(QueueFull);
    await expect(a.calls.enqueue(call('other'), 'other-0', limits)).resolves.toBeGreaterThan(0);
    const depths = await a.calls.depths();
    expect(depths.find((d) => d.ref.name === 'full')).toMatchObject({ messages: 3 });
    expect(depths.find((d) => d.ref.name === 'other')).toMatchObject({ messages: 1 });
  });

  it('is refused at its byte limit, and labels raise its limits (applied to its stream)', async () => {
    const q = queue();
    const small = queueLimitsOf({ 'com.openfaas.queue.max-bytes': '2Ki', 'com.openfaas.queue.max-messages': '100' }, settings());
    expect(small).toMatchObject({ messages: 100, bytes: 2048, problems: [] });
    // A stored call is its body, its subject and the request's other parts in a header.
    await q.calls.enqueue(call('bytes', 'y'.repeat(600)), 'b-0', small);
    await q.calls.enqueue(call('bytes', 'y'.repeat(600)), 'b-1', small);
    await expect(q.calls.enqueue(call('bytes', 'y'.repeat(600)), 'b-2', small)).rejects.toThrow(/its limit allows, 2048 bytes/);
    const raised = queueLimitsOf({ 'com.openfaas.queue.max-bytes': '1Mi' }, settings());
    await expect(q.calls.enqueue(call('bytes', 'y'.repeat(900)), 'b-3', raised)).resolves.toBeGreaterThan(0);
    expect(queueLimitsOf({ 'com.openfaas.queue.max-bytes': 'lots', 'com.openfaas.queue.max-messages': '-1' }, settings()).problems).toHaveLength(2);
  });

  it('stores a retried accept once (the same message id)', async () => {
    const q = queue();
    const limits = queueLimitsOf({}, settings());
    await q.calls.enqueue(call('dedupe'), 'same', limits);
    await q.calls.enqueue(call('dedupe'), 'same', limits);
    expect((await q.calls.depths()).find((d) => d.ref.name === 'dedupe')?.messages).toBe(1);
  });
});

describe('the store', () => {
  it('refuses every accept with StoreFull (503) once it is QUEUE_STORE_FULL_AT full, and accepts again when it is not', async () => {
    const base = queue();
    let used = 95;
    const gauge = new StoreGauge('http://unused', 100, 90, async () => ({ config: { max_storage: 1_000_000 }, storage: used }));
    const calls = new AsyncCalls(base.connection, base.streams, gauge, log);
    const refused = await calls.enqueue(call('store'), 's-0', queueLimitsOf({}, settings())).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreFull);
    expect((refused as StoreFull).message).toMatch(/95% full .*QUEUE_STORE_SIZE/);
    used = 10;
    // The gauge reads at most once a second, behind the accepts (they take the last figure meanwhile).
    const accepted = await until('an accept once the store has room', () => calls.enqueue(call('store'), 's-1', queueLimitsOf({}, settings())).catch(() => undefined), 3_000);
    expect(accepted).toBeGreaterThan(0);
  });

  it("reads the real server's use from /jsz", async () => {
    const gauge = new StoreGauge(nats.monitoringUrl, 1, 90);
    // A budget of one byte: anything stored fills it.
    expect(await gauge.fullness()).toMatch(/% full/);
    expect(await new StoreGauge(nats.monitoringUrl, 1024 ** 4, 90).fullness()).toBeUndefined();
  });
});

describe('a NATS that stops answering without closing the connection', () => {
  it('makes the accepts in flight wait their timeout, refuses the next ones at once, and accepts again once it answers', async () => {
    const q = queue();
    await q.calls.enqueue(call('silent'), 'silent-0', queueLimitsOf({}, settings()));
    const timed = async (id: string) => {
      const started = performance.now();
      const outcome = await q.calls.enqueue(call('silent'), id, queueLimitsOf({}, settings())).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
      return { outcome, ms: performance.now() - started };
    };
    await nats.pause();
    try {
      const first = await timed('silent-1');
      expect(first.outcome).toMatch(/not available/);
      expect(first.ms).toBeGreaterThan(1_500); // the publish's own timeout (2 s)
      const next = await timed('silent-2');
      expect(next.outcome).toMatch(/does not answer/);
      expect(next.ms).toBeLessThan(100);
    } finally {
      nats.resume();
    }
    const again = await until('an accept once NATS answers', async () => ((await timed('silent-3')).outcome === 'accepted' ? true : undefined), 5_000);
    expect(again).toBe(true);
  }, 20_000);
});

describe('dead letters', () => {
  it('keep the newest DEAD_LETTER_MAX_MESSAGES, the oldest dropped first', async () => {
    const q = queue();
    for (let i = 0; i < 5; i++) {
      await q.calls.addDeadLetter(call('dead', `letter ${i}`), { status: 503, reason: 'busy', attempts: 3, failedAt: Date.now() }, `dead-${i}`);
    }
    const letters = await q.calls.listDeadLetters({ limit: 10 });
    expect(letters).toHaveLength(3);
    const bodies = await Promise.all(letters.map(async (l) => Buffer.from((await q.calls.getDeadLetter(l.id))!.call.body).toString()));
    expect(bodies).toEqual(['letter 2', 'letter 3', 'letter 4']);
  });
});

describe('an earlier version', () => {
  it("has its calls of the one shared stream moved to the functions' own streams, and that stream removed", async () => {
    const q = queue({ ASYNC_STREAM: 'old-async' });
    const { js, jsm } = await q.connection.handles();
    await addStream(jsm, { name: 'old-async', subjects: ['old-async.>'] });
    for (const name of ['one', 'two', 'two']) {
      const { header, data } = encodeCall(call(name, `for ${name}`));
      const h = natsHeaders();
      h.set(CALL_HEADER, header);
      await js.publish(`old-async.openfaas-fn.${name}`, data, { headers: h });
    }
    expect(await q.calls.moveFromSharedStream(() => queueLimitsOf({}, settings()))).toBe(3);
    const depths = await q.calls.depths();
    expect(Object.fromEntries(depths.map((d) => [d.ref.name, d.messages]))).toEqual({ one: 1, two: 2 });
    await expect(jsm.streams.info('old-async')).rejects.toThrow(/not found/);
  });
});
