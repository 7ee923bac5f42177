// The connector's RabbitMQ subscriptions (programs/connector/rabbitmq-*.ts)
// and the gateway's queue depths (programs/gateway/rabbitmq-queues.ts)
// against a real RabbitMQ, with a view and a function of the test's own (the
// invocation is a fake: what it answers is the test's): a message becomes one
// invocation with its headers, its answer is published downstream with the
// call id and the source message id before the message is acked; 503s are
// retried with their attempts counted, a 400 and exhausted attempts go to the
// queue's dead-letter exchange; the prefetch bounds the invocations in
// flight; an answer that cannot be published leaves the message to come
// again; an unknown queue is said and the others keep running; a connector
// lost with messages in hand loses none; wrong credentials are said.
import { connect, type Channel, type ChannelModel, type Message } from 'amqplib';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionTable } from '../../src/core/functions/view.js';
import type { FunctionEntry } from '../../src/core/functions/types.js';
import type { Invocation } from '../../src/core/invocation/core.js';
import type { AnswerSink } from '../../src/core/invocation/sink.js';
import type { EventBus, RunRecord } from '../../src/queue/events.js';
import { ConnectorMetrics } from '../../src/programs/connector/metrics.js';
import { RabbitSubscriptions } from '../../src/programs/connector/rabbitmq-subscriptions.js';
import type { ConnectorSettings } from '../../src/programs/connector/settings.js';
import { RabbitQueues } from '../../src/programs/gateway/rabbitmq-queues.js';
import { brokerAccess, type BrokerAccess } from '../../src/rabbitmq/connection.js';
import { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import { AutoScaler } from '../../src/programs/gateway/scaling/index.js';
import { addBacklogs } from '../../src/queue/backlog.js';
import { FakeClock, FakeProvider, testConfig } from './scaling-fakes.js';
import { status } from './support/fake-provider.js';
import { startRabbit, type RabbitServer } from './support/rabbitmq-server.js';

let rabbit: RabbitServer;
let client: ChannelModel;
let ch: Channel;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  rabbit = await startRabbit();
  client = await connect(rabbit.url.replace('amqp://', `amqp://${rabbit.username}:${rabbit.password}@`));
  ch = await client.createChannel();
}, 300_000);
afterAll(async () => {
  await client?.close().catch(() => undefined);
  await rabbit?.stop();
});

const run = `t${Date.now().toString(36)}`;
const q = (name: string) => `${run}.${name}`;

const settings = (): ConnectorSettings =>
  ({
    DEFAULT_NAMESPACE: 'openfaas-fn',
    ASYNC_MAX_ATTEMPTS: 3,
    ASYNC_RETRY_DELAY: 0.05,
    ASYNC_RETRY_MAX_DELAY: 0.1,
    ASYNC_MAX_INFLIGHT: 5,
    ASYNC_ACK_WAIT: 5,
    ASYNC_ANSWER_LIMIT: 1024,
  }) as ConnectorSettings;

const access = (overrides: Partial<Parameters<typeof brokerAccess>[0]> = {}): BrokerAccess => {
  const a = brokerAccess({ RABBITMQ_URL: rabbit.url, RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl, RABBITMQ_USERNAME_FILE: '', RABBITMQ_PASSWORD_FILE: '', RABBITMQ_CA_FILE: '', ...overrides });
  return { ...a, username: rabbit.username, password: rabbit.password };
};

const fnEntry = (name: string, annotations: Record<string, string>, labels: Record<string, string> = {}): FunctionEntry => ({
  status: { ...status(name), annotations, labels: { ...status(name).labels, ...labels } },
  instances: [],
  endpoints: ['10.0.0.1:8080'],
  starting: [],
  state: {},
});

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<number> {
  const started = Date.now();
  while (!(await ok())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

/** A durable queue whose rejected messages go to `<name>.dead` (its dead-letter exchange), as a user declares it. */
async function declare(name: string): Promise<void> {
  await ch.assertExchange(`${name}.dlx`, 'fanout', { durable: true });
  await ch.assertQueue(`${name}.dead`, { durable: true });
  await ch.bindQueue(`${name}.dead`, `${name}.dlx`, '');
  await ch.assertQueue(name, { durable: true, arguments: { 'x-dead-letter-exchange': `${name}.dlx` } });
}

/** Every message of a queue now (taken and acked). */
async function drain(name: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const m = await ch.get(name, { noAck: true });
    if (!m) return out;
    out.push(m);
  }
}

interface Invoked {
  name: string;
  body: string;
  headers: Record<string, string | string[]>;
  source: string | undefined;
}

/** The connector's parts with a fake invocation: `answer` says each status; `hold` keeps the calls open until released. */
function connectorWith(functions: FunctionTable, answer: (invocation: Invoked, invoked: readonly Invoked[]) => number, options: { holdMs?: number } = {}) {
  const invoked: Invoked[] = [];
  const runs: RunRecord[] = [];
  let inflight = 0;
  let most = 0;
  const invoke = async (invocation: Invocation, sink: AnswerSink) => {
    const body = invocation.body ? Buffer.from((invocation.body as { forUndici(): Buffer }).forUndici()).toString() : '';
    const seen: Invoked = { name: invocation.ref.name, body, headers: invocation.headers, source: invocation.source };
    invoked.push(seen);
    inflight++;
    most = Math.max(most, inflight);
    try {
      if (options.holdMs) await new Promise((r) => setTimeout(r, options.holdMs));
      const code = answer(seen, invoked);
      sink.head(code, { 'content-type': 'text/plain' });
      sink.write(Buffer.from(`answer:${body}`), true);
      sink.end();
      return code;
    } finally {
      inflight--;
    }
  };
  const registry = new Registry();
  const metrics = new ConnectorMetrics(registry, { subscriptions: () => [], inflight: () => [] });
  const events = { recordRun: async (_ref: unknown, r: RunRecord) => void runs.push(r) } as unknown as EventBus;
  const subscriptions = new RabbitSubscriptions(
    { functions, events, calls: undefined as never, metrics, runner: { consumers: undefined as never, invoke, answerLimit: 1024, keepAliveMs: 1_000, log, forgetStreams: () => undefined }, settings: settings(), log, nameOf: (r) => r.name },
    access(),
    registry,
  );
  return { subscriptions, invoked, runs, registry, most: () => most };
}

/** Runs `test` once the connector's subscriptions for `entries` consume; stops them after. */
async function whileConsuming(
  entries: FunctionEntry[],
  answer: Parameters<typeof connectorWith>[1],
  test: (c: ReturnType<typeof connectorWith>) => Promise<void>,
  options: { holdMs?: number } = {},
): Promise<void> {
  const functions = new FunctionTable(log);
  functions.replaceAll(entries);
  const c = connectorWith(functions, answer, options);
  c.subscriptions.start();
  try {
    await until('consuming', () => c.subscriptions.states().some((s) => s.state === 'consuming'));
    await test(c);
  } finally {
    await c.subscriptions.stop(1_000);
  }
}

describe('RabbitMQ subscriptions', () => {
  it('invoke the function once per message with its headers, publish the answer downstream, then ack', async () => {
    const [input, output] = [q('queue'), q('downstream')];
    await declare(input);
    await ch.assertQueue(output, { durable: true });
    await whileConsuming([fnEntry('worker', { 'rabbitmq-topic': input, 'rabbitmq-output': output })], () => 200, async (c) => {
      ch.publish('', input, Buffer.from('hello'), { persistent: true, messageId: 'm-1', contentType: 'text/plain', headers: { 'X-Order': 7, 'x-call-id': 'call-1' } });
      await until('the invocation', () => c.invoked.length === 1);
      expect(c.invoked[0]).toMatchObject({ name: 'worker', body: 'hello', source: 'rabbitmq' });
      expect(c.invoked[0]!.headers).toMatchObject({ 'x-topic': input, 'x-rabbitmq-msg-id': 'm-1', 'x-rabbitmq-routing-key': input, 'x-order': '7', 'x-call-id': 'call-1', 'content-type': 'text/plain', 'x-delivery-attempt': '1' });
      let answers: Message[] = [];
      await until('the answer downstream', async () => (answers = [...answers, ...(await drain(output))]).length === 1);
      expect(answers[0]!.content.toString()).toBe('answer:hello');
      expect(answers[0]!.properties.headers).toMatchObject({ 'x-call-id': 'call-1', 'x-source-message-id': 'm-1', 'x-function-name': 'worker', 'x-function-status': '200', 'x-source-queue': input });
      expect(answers[0]!.properties.correlationId).toBe('m-1');
      expect(answers[0]!.properties.deliveryMode).toBe(2);
      await until('acked: the queue empty', async () => (await ch.checkQueue(input)).messageCount === 0 && c.runs.some((r) => r.outcome === 'success'));
      expect(c.runs.find((r) => r.outcome === 'success')).toMatchObject({ trigger: 'rabbitmq', subject: input, published: output, status: 200 });
    });
  }, 60_000);

  it('retry 503s with their attempts counted, and reject a 400 and exhausted attempts to the dead-letter exchange', async () => {
    const input = q('retries');
    await declare(input);
    await whileConsuming([fnEntry('flaky', { 'rabbitmq-topic': input })], (i, invoked) => (i.body === 'once' ? (invoked.filter((x) => x.body === 'once').length === 1 ? 503 : 200) : i.body === 'bad' ? 400 : 500), async (c) => {
      for (const body of ['once', 'bad', 'always']) ch.publish('', input, Buffer.from(body), { persistent: true, messageId: body });
      await until('the dead letters', async () => (await ch.checkQueue(`${input}.dead`)).messageCount === 2);
      await until('the retried one done', () => c.runs.some((r) => r.outcome === 'success'));
      const attempts = (body: string) => c.invoked.filter((i) => i.body === body).map((i) => i.headers['x-delivery-attempt']);
      expect(attempts('once')).toEqual(['1', '2']);
      expect(attempts('bad')).toEqual(['1']);
      expect(attempts('always')).toEqual(['1', '2', '3']);
      const dead = await drain(`${input}.dead`);
      expect(dead.map((m) => m.content.toString()).sort()).toEqual(['always', 'bad']);
      // RabbitMQ's own dead-lettering: x-death names the queue and the reason.
      expect(dead[0]!.properties.headers?.['x-death']?.[0]).toMatchObject({ queue: input, reason: 'rejected' });
      expect(c.runs.filter((r) => r.outcome === 'dead_letter')).toHaveLength(2);
      expect((await ch.checkQueue(input)).messageCount).toBe(0);
    });
  }, 60_000);

  it('hold at most max-inflight in flight (the prefetch)', async () => {
    const input = q('bounded');
    await declare(input);
    await whileConsuming([fnEntry('slow', { 'rabbitmq-topic': input }, { 'com.openfaas.async.max-inflight': '3' })], () => 200, async (c) => {
      for (let i = 0; i < 20; i++) ch.publish('', input, Buffer.from(`m${i}`), { persistent: true });
      await until('all invoked', () => c.invoked.length === 20);
      expect(c.most()).toBe(3);
    }, { holdMs: 100 });
  }, 60_000);

  it('leave a message whose answer cannot be published unacknowledged until it can be', async () => {
    const [input, output] = [q('unpublished'), q('later')];
    await declare(input);
    await whileConsuming([fnEntry('writer', { 'rabbitmq-topic': input, 'rabbitmq-output': output })], () => 200, async (c) => {
      ch.publish('', input, Buffer.from('keep'), { persistent: true, messageId: 'k' });
      // The output queue does not exist: the answer is returned as unroutable, the message comes again.
      await until('invoked twice', () => c.invoked.length >= 2);
      expect(c.runs.some((r) => r.outcome === 'retry' && /not published/.test(r.reason ?? ''))).toBe(true);
      await ch.assertQueue(output, { durable: true });
      let answers: Message[] = [];
      await until('published once the queue exists', async () => (answers = [...answers, ...(await drain(output))]).length >= 1);
      expect(answers[0]!.properties.headers).toMatchObject({ 'x-source-message-id': 'k' });
      await until('acked', async () => (await ch.checkQueue(input)).messageCount === 0);
    });
  }, 60_000);

  it('say an unknown queue and keep the other subscriptions running; consume it once it exists', async () => {
    const [missing, fine] = [q('missing'), q('fine')];
    await declare(fine);
    const functions = new FunctionTable(log);
    functions.replaceAll([fnEntry('a', { 'rabbitmq-topic': missing }), fnEntry('b', { 'rabbitmq-topic': fine })]);
    const c = connectorWith(functions, () => 200);
    c.subscriptions.start();
    const queues = new RabbitQueues(access(), functions, log, (r) => r.name);
    try {
      await until('the problem said', () => c.subscriptions.states().some((s) => s.queue === missing && /does not exist/.test(s.problem ?? '')));
      ch.publish('', fine, Buffer.from('still'), { persistent: true });
      await until('the other subscription invoked', () => c.invoked.some((i) => i.name === 'b'));
      await queues.backlog();
      expect(queues.describe({ name: 'a', namespace: 'openfaas-fn' })).toMatchObject({ queues: [{ name: missing, ready: null, problem: expect.stringMatching(/does not exist on the broker/) }], pending: 0 });
      await declare(missing);
      ch.publish('', missing, Buffer.from('now'), { persistent: true });
      // Looked at again every 5 s.
      await until('the queue consumed once declared', () => c.invoked.some((i) => i.name === 'a'), 15_000);
    } finally {
      await c.subscriptions.stop(1_000);
      await queues.stop();
    }
  }, 60_000);

  it('lose nothing when the connector goes with messages in hand: they come again (at-least-once)', async () => {
    const input = q('lost');
    await declare(input);
    const functions = new FunctionTable(log);
    functions.replaceAll([fnEntry('w', { 'rabbitmq-topic': input }, { 'com.openfaas.async.max-inflight': '10' })]);
    const first = connectorWith(functions, () => 200, { holdMs: 300 });
    first.subscriptions.start();
    await until('consuming', () => first.subscriptions.states().some((s) => s.state === 'consuming'));
    for (let i = 0; i < 30; i++) ch.publish('', input, Buffer.from(`m${i}`), { persistent: true });
    await until('some in hand', () => first.invoked.length >= 10);
    // A crash: the connection goes without the messages in hand being acknowledged.
    await first.subscriptions.connection.close();
    await first.subscriptions.stop(0);
    const second = connectorWith(functions, () => 200);
    second.subscriptions.start();
    const seen = () => new Set([...first.invoked, ...second.invoked].map((i) => i.body));
    try {
      await until('every message invoked', async () => seen().size === 30 && (await ch.checkQueue(input)).messageCount === 0);
      // Those the first connector had in hand came again, counted as a second attempt.
      expect(second.invoked.some((i) => i.headers['x-delivery-attempt'] === '2')).toBe(true);
      const repeats = first.invoked.length + second.invoked.length - 30;
      expect(repeats).toBeGreaterThan(0);
    } finally {
      await second.subscriptions.stop(2_000);
    }
    // Every message was acknowledged: none comes back when the consumer's channel is gone.
    expect((await ch.checkQueue(input)).messageCount).toBe(0);
  }, 60_000);
});

describe('queue depths for scaling', () => {
  it('count ready and unacknowledged messages from the management API, or ready ones by a passive declare', async () => {
    const input = q('depth');
    await declare(input);
    const functions = new FunctionTable(log);
    functions.replaceAll([fnEntry('d', { 'rabbitmq-topic': input })]);
    for (let i = 0; i < 7; i++) ch.publish('', input, Buffer.from(`m${i}`), { persistent: true });
    // Three taken and not acked by a consumer of the test's.
    const holder = await client.createChannel();
    await holder.prefetch(3);
    await holder.consume(input, () => undefined, { noAck: false });
    const registry = new Registry();
    const management = new RabbitQueues(access(), functions, log, (r) => r.name, registry);
    const passive = new RabbitQueues(access({ RABBITMQ_MANAGEMENT_URL: '' }), functions, log, (r) => r.name);
    passive.start();
    try {
      const key = 'd.openfaas-fn';
      // The broker's statistics come every 500 ms.
      await until('7 pending, 3 of them unacked', async () => {
        const b = (await management.backlog()).get(key);
        const view = management.describe({ name: 'd', namespace: 'openfaas-fn' })?.queues[0];
        return b?.pending === 7 && view?.unacked === 3 && view.consumers === 1;
      });
      expect(management.describe({ name: 'd', namespace: 'openfaas-fn' })).toMatchObject({ depthSource: 'management', queues: [{ name: input, ready: 4, unacked: 3, consumers: 1, deadLetterExchange: `${input}.dlx` }], pending: 7 });
      expect(await registry.metrics()).toContain(`gateway_rabbitmq_queue_messages{queue="${input}",state="unacked"} 3`);
      // A queue that would not outlive a restart is said.
      await ch.assertQueue(q('transient'), { durable: false });
      functions.set({ name: 't', namespace: 'openfaas-fn' }, fnEntry('t', { 'rabbitmq-topic': q('transient') }));
      await management.backlog();
      expect(management.describe({ name: 't', namespace: 'openfaas-fn' })?.problems).toEqual([expect.stringMatching(/is not durable: it and its messages are lost when the broker restarts/)]);
      await until('the passive declare connected', async () => (await passive.backlog().catch(() => new Map())).get(key)?.unknown !== true);
      expect((await passive.backlog()).get(key)).toMatchObject({ pending: 4 });
      expect(passive.describe({ name: 'd', namespace: 'openfaas-fn' })?.queues[0]).toMatchObject({ ready: 4, unacked: null, consumers: 1 });
    } finally {
      await holder.close();
      await passive.stop();
    }
  }, 60_000);

  it('are unknown, with the reason, when the broker refuses the credentials', async () => {
    const functions = new FunctionTable(log);
    functions.replaceAll([fnEntry('d', { 'rabbitmq-topic': q('depth') })]);
    const wrong = new RabbitQueues({ ...access(), password: 'wrong' }, functions, log, (r) => r.name);
    expect((await wrong.backlog()).get('d.openfaas-fn')).toMatchObject({ unknown: true });
    expect(wrong.describe({ name: 'd', namespace: 'openfaas-fn' })).toMatchObject({ pending: null, problems: [expect.stringMatching(/refused the credentials of user faas/)] });
    const passive = new RabbitQueues({ ...access({ RABBITMQ_MANAGEMENT_URL: '' }), password: 'wrong' }, functions, log, (r) => r.name);
    passive.start();
    try {
      await until('the refusal said', async () => (await passive.backlog(), /refused the credentials/.test(passive.describe({ name: 'd', namespace: 'openfaas-fn' })?.problems.join(' ') ?? '')));
    } finally {
      await passive.stop();
    }
  }, 60_000);
});

describe('queue-depth scaling on a RabbitMQ queue with two gateways', () => {
  it('wants the same replicas from the broker\'s figures and makes each change once; keeps them while the broker cannot be read', async () => {
    const input = q('scaled');
    await declare(input);
    const clock = new FakeClock();
    const provider = new FakeProvider(clock);
    provider.add('func_q', { replicas: 0, annotations: { 'rabbitmq-topic': input }, labels: { 'com.openfaas.scale.type': 'queue', 'com.openfaas.scale.target': '10', 'com.openfaas.scale.max': '5', 'com.openfaas.scale.zero': 'true' } });
    let password = rabbit.password;
    const gateways: Array<{ view: LiveFunctionView; scaler: AutoScaler }> = [];
    for (let i = 0; i < 2; i++) {
      const view = new LiveFunctionView({ provider, log });
      await view.start();
      const queues = new RabbitQueues(access(), view, log, (r) => r.name);
      const reader = () => {
        // Both read the broker; with a refused password on both when the test says so.
        return password === rabbit.password ? queues.backlog() : new RabbitQueues({ ...access(), password }, view, log, (r) => r.name).backlog();
      };
      const scaler = new AutoScaler({ config: testConfig(), provider, functions: view, log, clock, probe: async () => false, queue: { backlog: addBacklogs(async () => new Map(), reader) } });
      gateways.push({ view, scaler });
    }
    const pass = () => Promise.all(gateways.map((g) => g.scaler.queue!.pass()));
    try {
      await pass();
      expect(provider.scaleCalls).toEqual([]);
      for (let i = 0; i < 45; i++) ch.publish('', input, Buffer.from(`m${i}`), { persistent: true });
      // The broker's statistics come every 500 ms: both see 45 and want 5 (at most 5).
      await until('scaled to 5', async () => {
        await pass();
        for (const g of gateways) await g.view.refresh({ name: 'func_q', namespace: 'openfaas-fn' });
        return provider.replicas('func_q') === 5;
      }, 30_000);
      // Made once: 0 -> 5 by one gateway, the other saw 5 and wanted nothing more.
      expect(provider.scaleCalls.filter((c) => c.name === 'func_q')).toEqual([{ name: 'func_q', replicas: 5 }]);
      // The broker refusing: nothing changes, whatever the time.
      password = 'wrong';
      await ch.purgeQueue(input);
      clock.advance(600_000);
      await pass();
      await pass();
      expect(provider.replicas('func_q')).toBe(5);
    } finally {
      for (const g of gateways) {
        g.scaler.stop();
        g.view.stop();
      }
    }
  }, 60_000);
});
