// One delivery of a queued call: the shared delivery step (triggers/delivery.ts)
// with the queue worker's adapter (programs/queue-worker/call-trigger.ts),
// with a message of the test's own (the real JetStream runs in
// test/e2e/async.test.ts) and a real HTTP callback receiver: what is
// acknowledged when, what is retried, what becomes a dead letter, and what
// the callback carries.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_HEADER, encodeCall, type Failure, type QueuedCall } from '../../src/queue/call-message.js';
import type { AsyncCalls } from '../../src/queue/async-calls.js';
import type { Delivery } from '../../src/queue/consumers.js';
import type { FunctionLookup } from '../../src/core/functions/view.js';
import type { Invocation } from '../../src/core/invocation/core.js';
import { InvocationError } from '../../src/core/invocation/errors.js';
import type { AnswerSink } from '../../src/core/invocation/sink.js';
import { CallbackSender } from '../../src/programs/queue-worker/callback.js';
import { CallTrigger } from '../../src/programs/queue-worker/call-trigger.js';
import { WorkerMetrics } from '../../src/programs/queue-worker/metrics.js';
import { deliver } from '../../src/triggers/delivery.js';

let receiver: Server;
let receiverUrl = '';
const got: Array<{ headers: IncomingHttpHeaders; body: string; at: number }> = [];
let receiverStatus = 200;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), at: performance.now() });
      res.statusCode = receiverStatus;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

const call = (overrides: Partial<QueuedCall> = {}): QueuedCall => ({
  callId: `c-${Math.random()}`,
  ref: { name: 'fn', namespace: 'openfaas-fn' },
  method: 'POST',
  path: '/p',
  query: 'q=1',
  headers: { 'x-call-id': 'ignored' },
  callbackUrl: receiverUrl,
  acceptedAt: Date.now(),
  body: Buffer.from('input'),
  ...overrides,
});

/** A delivered message that records what is done with it, and when. */
function delivery(c: QueuedCall, deliveryCount = 1) {
  const events: Array<{ what: string; at: number; delay?: number }> = [];
  const { header, data } = encodeCall(c);
  const message: Delivery = {
    subject: 'faas-async-fn.openfaas-fn.fn',
    seq: 42,
    data,
    headers: { [CALL_HEADER]: [header] },
    deliveryCount,
    redelivered: deliveryCount > 1,
    storedAt: Date.now(),
    working: () => events.push({ what: 'working', at: performance.now() }),
    retryAfter: (delay: number) => events.push({ what: 'nak', at: performance.now(), delay }),
    drop: () => events.push({ what: 'term', at: performance.now() }),
    done: async () => {
      events.push({ what: 'ack', at: performance.now() });
    },
  };
  return { message, events };
}

/** What was done with the message, without the keep-alives (working()) sent meanwhile. */
const done = (events: Array<{ what: string }>) => events.map((e) => e.what).filter((w) => w !== 'working');

function processor(invoke: (invocation: Invocation, sink: AnswerSink) => Promise<number>) {
  const deadLetters: Array<{ call: QueuedCall; failure: Failure; id: string }> = [];
  const registry = new Registry();
  const metrics = new WorkerMetrics(registry, { queued: async () => [], dead: async () => [], inflight: () => [], nameOf: (r) => r.name });
  const calls = {
    addDeadLetter: async (c: QueuedCall, failure: Failure, id: string) => {
      deadLetters.push({ call: c, failure, id });
      return 7;
    },
    streamOf: () => ({ stream: 'faas-async_openfaas-fn_fn', subject: 'faas-async-fn.openfaas-fn.fn' }),
  } as unknown as AsyncCalls;
  const log = pino({ level: 'silent' });
  const settings = { ASYNC_RETRY_DELAY: 1, ASYNC_RETRY_MAX_DELAY: 60, ASYNC_MAX_INFLIGHT: 10 };
  const process = (message: Delivery, maxAttempts: number) => {
    const trigger = new CallTrigger({
      functions: { get: () => undefined } as unknown as FunctionLookup,
      calls,
      callbacks: new CallbackSender({ ASYNC_CALLBACK_TIMEOUT: 2, ASYNC_CALLBACK_ATTEMPTS: 2 }, async () => undefined),
      metrics,
      settings: { ...settings, ASYNC_MAX_ATTEMPTS: maxAttempts },
      log,
      nameOf: (ref) => ref.name,
    });
    return deliver({ invoke, answerLimit: 1024, keepAliveMs: 10_000, log }, trigger, message);
  };
  return { p: { process }, deadLetters, metrics: { registry } };
}

/** A function that answers `status` with `body`. */
const answering = (status: number, body: string, seen?: Invocation[]) => async (invocation: Invocation, sink: AnswerSink) => {
  seen?.push(invocation);
  sink.head(status, { 'content-type': 'text/plain', 'x-from-function': 'yes' });
  sink.write(Buffer.from(body), true);
  sink.end();
  return status;
};

describe('one delivery of a queued call', () => {
  it('makes the stored request, calls back with the answer, and acknowledges only after the callback', async () => {
    got.length = 0;
    const seen: Invocation[] = [];
    const c = call();
    const { message, events } = delivery(c);
    const { p, metrics } = processor(answering(200, 'output', seen));
    await p.process(message, 5);
    expect(seen[0]).toMatchObject({ ref: c.ref, method: 'POST', path: '/p?q=1', headers: c.headers, declaredLength: 5 });
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toBe('output');
    expect(got[0]!.headers).toMatchObject({ 'x-call-id': c.callId, 'x-function-status': '200', 'x-function-name': 'fn', 'x-from-function': 'yes', 'content-type': 'text/plain' });
    expect(Number(got[0]!.headers['x-duration-seconds'])).toBeGreaterThanOrEqual(0);
    expect(done(events)).toEqual(['ack']);
    expect(events.find((e) => e.what === 'ack')!.at).toBeGreaterThan(got[0]!.at);
    expect(await metrics.registry.getSingleMetricAsString('async_invocations_total')).toContain('outcome="success"} 1');
  });

  it('takes an error answer (500) as the answer: called back, not retried', async () => {
    got.length = 0;
    const { message, events } = delivery(call());
    const { p, deadLetters } = processor(answering(500, 'boom'));
    await p.process(message, 5);
    expect(got[0]!.headers['x-function-status']).toBe('500');
    expect(got[0]!.body).toBe('boom');
    expect(done(events)).toEqual(['ack']);
    expect(deadLetters).toEqual([]);
  });

  it('retries 503 and an unreachable function later (nak with the backoff), with no callback and no ack', async () => {
    got.length = 0;
    for (const [count, invoke] of [
      [1, answering(503, 'busy')],
      [3, async () => Promise.reject(new InvocationError('unreachable', 'cannot reach function fn: ECONNREFUSED'))],
    ] as const) {
      const { message, events } = delivery(call(), count);
      const { p } = processor(invoke);
      await p.process(message, 5);
      expect(events.map((e) => e.what)).toEqual(['nak']);
      // Attempt n waits 1 s * 2^(n-1), 80-100 % of it.
      const plain = 1000 * 2 ** (count - 1);
      expect(events[0]!.delay).toBeGreaterThanOrEqual(plain * 0.8);
      expect(events[0]!.delay).toBeLessThanOrEqual(plain);
    }
    expect(got).toEqual([]);
  });

  it('keeps the call as a dead letter after the last attempt, calls back the failure, then acknowledges', async () => {
    got.length = 0;
    const c = call();
    const { message, events } = delivery(c, 3);
    const { p, deadLetters, metrics } = processor(answering(503, 'busy'));
    await p.process(message, 3);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ call: c, failure: { status: 503, attempts: 3 }, id: 'dead-faas-async_openfaas-fn_fn-42' });
    expect(deadLetters[0]!.failure.reason).toContain('after 3 attempts');
    expect(got[0]!.headers).toMatchObject({ 'x-function-status': '503', 'x-async-dead-letter': '7', 'x-async-attempts': '3' });
    expect(done(events)).toEqual(['ack']);
    expect(await metrics.registry.getSingleMetricAsString('async_dead_letters_total')).toContain('} 1');
  });

  it('makes a dead letter at once when the function is gone', async () => {
    const { message } = delivery(call(), 1);
    const { p, deadLetters } = processor(async () => Promise.reject(new InvocationError('not-found', 'function fn not found')));
    await p.process(message, 5);
    expect(deadLetters[0]!.failure).toMatchObject({ status: 404, attempts: 1 });
  });

  it('does not make the call again when the callback receiver fails: tried again, then acknowledged', async () => {
    got.length = 0;
    receiverStatus = 503;
    try {
      let calls = 0;
      const { message, events } = delivery(call());
      const { p, metrics } = processor(async (i, sink) => {
        calls++;
        return answering(200, 'once')(i, sink);
      });
      await p.process(message, 5);
      expect(calls).toBe(1);
      expect(got).toHaveLength(2); // ASYNC_CALLBACK_ATTEMPTS
      expect(done(events)).toEqual(['ack']);
      expect(await metrics.registry.getSingleMetricAsString('async_callbacks_total')).toContain('result="failed"} 1');
    } finally {
      receiverStatus = 200;
    }
  });

  it('cuts an answer over ASYNC_ANSWER_LIMIT and says so', async () => {
    got.length = 0;
    const { message } = delivery(call());
    const { p } = processor(answering(200, 'x'.repeat(3000)));
    await p.process(message, 5);
    expect(got[0]!.body).toHaveLength(1024);
    expect(got[0]!.headers['x-answer-truncated']).toBe('true');
  });

  it('drops a message no gateway wrote (term), calling nothing', async () => {
    let calls = 0;
    const { message, events } = delivery(call());
    message.headers = { [CALL_HEADER]: ['not json'] };
    const { p } = processor(async () => {
      calls++;
      return 200;
    });
    await p.process(message, 5);
    expect(calls).toBe(0);
    expect(events.map((e) => e.what)).toEqual(['term']);
  });
});
