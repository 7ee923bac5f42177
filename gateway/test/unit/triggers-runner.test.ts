// The one durable-consumer runner (triggers/runner.ts) with the one delivery
// step (triggers/delivery.ts), against a real nats-server and an adapter of
// the test's own: every message delivered and acknowledged after its
// invocation, the limit of invocations in flight held (and followed when it
// changes), retries with backoff, dead letters after the attempts, a stop
// that finishes the work in hand, and a start over after NATS lost its store.
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invocation } from '../../src/core/invocation/core.js';
import type { AnswerSink } from '../../src/core/invocation/sink.js';
import { QueueConnection } from '../../src/queue/connection.js';
import { Consumers, type Delivery } from '../../src/queue/consumers.js';
import { addStream } from '../../src/queue/streams.js';
import type { Settled, TriggerAdapter, TriggerRequest } from '../../src/triggers/delivery.js';
import { RunnerSet, type RunnerDeps } from '../../src/triggers/runner.js';
import { startNats, type NatsServer } from './support/nats-server.js';

let nats: NatsServer;
let connection: QueueConnection;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  nats = await startNats();
  connection = new QueueConnection(nats.url, log, 'runner-test');
});
afterAll(async () => {
  await connection.close();
  await nats.stop();
});

/** An adapter that records what it is told, with the attempts it allows. */
class Recorder implements TriggerAdapter {
  readonly outcomes: Array<{ body: string; kind: Settled['kind']; attempt: number }> = [];
  readonly dead: string[] = [];
  constructor(readonly maxAttempts = 5) {}
  request(delivery: Delivery): TriggerRequest {
    return { ref: { name: 'fn', namespace: 'ns' }, method: 'POST', path: '/', headers: {}, body: delivery.data, callId: String(delivery.seq), source: 'async' };
  }
  retryPolicy() {
    return { maxAttempts: this.maxAttempts, initialDelayMs: 100, maxDelayMs: 200 };
  }
  async deadLetter(_d: Delivery, request: TriggerRequest): Promise<number> {
    this.dead.push(Buffer.from(request.body).toString());
    return this.dead.length;
  }
  async settled(delivery: Delivery, request: TriggerRequest, outcome: Settled): Promise<void> {
    this.outcomes.push({ body: Buffer.from(request.body).toString(), kind: outcome.kind, attempt: delivery.deliveryCount });
  }
}

/** A function of the test's own: answers `status(body)`, taking `ms`, counting how many run at once. */
function fn(status: (body: string) => number, ms = 0) {
  const state = { now: 0, most: 0, calls: 0 };
  const invoke = async (invocation: Invocation, sink: AnswerSink) => {
    state.calls++;
    state.now++;
    state.most = Math.max(state.most, state.now);
    await new Promise((r) => setTimeout(r, ms));
    state.now--;
    const body = Buffer.from((invocation.body as { forUndici(): Buffer }).forUndici()).toString();
    const code = status(body);
    sink.head(code, {});
    sink.write(Buffer.from('ok'), true);
    sink.end();
    return code;
  };
  return { invoke, state };
}

let streams = 0;
async function streamWith(bodies: string[]): Promise<{ stream: string; subject: string }> {
  const stream = `runner-${++streams}`;
  const subject = `${stream}.work`;
  const { js, jsm } = await connection.handles();
  await addStream(jsm, { name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  for (const body of bodies) await js.publish(subject, body);
  return { stream, subject };
}

function deps(invoke: RunnerDeps['invoke']): RunnerDeps {
  return { consumers: new Consumers(connection), invoke, answerLimit: 1024, keepAliveMs: 1_000, log, forgetStreams: () => undefined };
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the runner', () => {
  it('delivers every message once, acknowledged after its invocation, never more than the limit at once', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const { stream, subject } = await streamWith(bodies);
    const adapter = new Recorder();
    const f = fn(() => 200, 30);
    const set = new RunnerSet(deps(f.invoke));
    set.ensure('c', () => ({ adapter, spec: () => ({ stream, name: 'c', filter: subject, deliverNew: false, maxAckPending: 3, ackWaitSeconds: 5 }) }));
    await until('12 done', () => adapter.outcomes.length === 12);
    expect(adapter.outcomes.map((o) => o.body).sort()).toEqual([...bodies].sort());
    expect(adapter.outcomes.every((o) => o.kind === 'done' && o.attempt === 1)).toBe(true);
    expect(f.state.most).toBe(3);
    const { jsm } = await connection.handles();
    await new Promise((r) => setTimeout(r, 200));
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
    await set.stop(1_000);
  });

  it('follows a changed limit (refresh), retries 503 with backoff, and keeps a dead letter after the attempts', async () => {
    const { stream, subject } = await streamWith(['fails', 'once', 'fine']);
    let onceFailed = false;
    const f = fn((body) => {
      if (body === 'fails') return 503;
      if (body === 'once' && !onceFailed) {
        onceFailed = true;
        return 503;
      }
      return 200;
    });
    const adapter = new Recorder(3);
    const set = new RunnerSet(deps(f.invoke));
    let limit = 1;
    set.ensure('r', () => ({ adapter, spec: () => ({ stream, name: 'r', filter: subject, deliverNew: false, maxAckPending: limit, ackWaitSeconds: 5 }) }));
    await until('all settled', () => adapter.outcomes.filter((o) => o.kind !== 'retry').length === 3);
    expect(adapter.outcomes.filter((o) => o.body === 'fails').map((o) => `${o.kind}@${o.attempt}`)).toEqual(['retry@1', 'retry@2', 'dead@3']);
    expect(adapter.outcomes.filter((o) => o.body === 'once').map((o) => `${o.kind}@${o.attempt}`)).toEqual(['retry@1', 'done@2']);
    expect(adapter.dead).toEqual(['fails']);

    limit = 4;
    set.ensure('r', () => {
      throw new Error('not made again: it runs');
    });
    const { jsm } = await connection.handles();
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await jsm.consumers.info(stream, 'r')).config.max_ack_pending).toBe(4);
    await set.stop(1_000);
  });

  it('finishes the deliveries in hand when stopped, and takes no more', async () => {
    const { stream, subject } = await streamWith(['a', 'b', 'c', 'd']);
    const f = fn(() => 200, 400);
    const adapter = new Recorder();
    const set = new RunnerSet(deps(f.invoke));
    set.ensure('s', () => ({ adapter, spec: () => ({ stream, name: 's', filter: subject, deliverNew: false, maxAckPending: 2, ackWaitSeconds: 5 }) }));
    await until('two in hand', () => f.state.now === 2);
    await set.stop(5_000);
    expect(adapter.outcomes).toHaveLength(2);
    expect(f.state.calls).toBe(2);
    const { jsm } = await connection.handles();
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
  });

  it('starts over after NATS lost its store: the stream and the consumer are made again', async () => {
    const f = fn(() => 200);
    const adapter = new Recorder();
    const set = new RunnerSet(deps(f.invoke));
    const stream = 'runner-again';
    const subject = `${stream}.work`;
    const prepare = async () => {
      const { jsm } = await connection.handles();
      await addStream(jsm, { name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    };
    set.ensure('again', () => ({ adapter, prepare, spec: () => ({ stream, name: 'again', filter: subject, deliverNew: false, maxAckPending: 2, ackWaitSeconds: 5 }) }));
    const publish = async (body: string) => {
      const { js } = await connection.handles();
      await js.publish(subject, body);
    };
    await new Promise((r) => setTimeout(r, 500));
    await publish('before');
    await until('before', () => adapter.outcomes.some((o) => o.body === 'before'));
    await nats.restart({ keepStore: false });
    // The runner notices the consumer is gone, makes the stream and the consumer again, and takes what comes next.
    let sent = false;
    await until(
      'after, once the stream is back',
      () => {
        if (!sent) {
          sent = true;
          void (async () => {
            for (let i = 0; i < 100; i++) {
              if (await publish('after').then(() => true, () => false)) return;
              await new Promise((r) => setTimeout(r, 200));
            }
          })();
        }
        return adapter.outcomes.some((o) => o.body === 'after');
      },
      30_000,
    );
    await set.stop(1_000);
  }, 40_000);
});
