// RabbitMQ triggers on the real Swarm with the stack's own RabbitMQ, as a
// producer outside the swarm uses them (its published AMQP port):
//   - the seed demo (Azure Functions + KEDA on Kubernetes), scaled to CI: 400
//     messages into `queue` for a function at 0 replicas that works 1 s per
//     message and publishes its answer to `downstream`, target 20 messages per
//     replica, max 20: the first replica within 2 s, every message in
//     `downstream` at least once (repeats counted), back to 0 after its idle
//     time, with the connector killed mid-run;
//   - restarts: the function's only task, then RabbitMQ itself, killed while
//     300 messages go through: none lost;
//   - bad input: an unknown queue and an invalid name are said on the
//     function's events, and the function's good queue keeps working.
// Figures print as "[rabbitmq] ..." lines.
import { afterAll, describe, expect, it } from 'vitest';
import { inTurn } from '../support/in-turn.js';
import { connectors, recorderSpec } from './support/events.js';
import { containersOf, deployFunction, docker, removeFunction } from './support/functions.js';
import { fn, systemFetch, waitFor } from './support/gateway.js';
import { broker, collect, declare, publishAll, report, type Answer } from './support/rabbitmq.js';
import { gatewayLogs } from './support/scaling.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await removeFunction(name);
});

interface Status {
  replicas: number;
  availableReplicas: number;
}

async function statusOf(name: string): Promise<Status | undefined> {
  const res = await systemFetch(`/system/function/${name}`);
  return res.status === 200 ? ((await res.json()) as Status) : undefined;
}

interface RabbitEvents {
  rabbitmq: { queues: Array<{ name: string; ready: number | null; unacked: number | null; consumers: number | null; problem?: string }>; output: string | null; problems: string[]; pending: number | null } | null;
  pending: { rabbitmq: number | null; total: number } | null;
  runs: Array<{ trigger: string; subject: string; outcome: string; published?: string }> | null;
}

async function eventsOf(name: string): Promise<RabbitEvents> {
  const res = await systemFetch(`/system/function/${name}/events`);
  if (res.status !== 200) throw new Error(`events of ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as RabbitEvents;
}

const seconds = (t: number | undefined, from: number) => (t === undefined ? 'never' : `${((t - from) / 1000).toFixed(1)} s`);

describe('the seed demo', () => {
  const worker = fn('rmqdemo');
  // Measured under its own load only: the other vitest process's busiest moments wait (test/support/load-turns.ts).
  inTurn('e2e: the RabbitMQ demo');

  it('takes 400 messages from queue to downstream, 0 -> 20 replicas -> 0, losing none while the connector is killed', async () => {
    const b = await broker();
    try {
      await declare(b.channel, 'queue', 'downstream');
      await b.channel.purgeQueue('queue');
      await b.channel.purgeQueue('downstream');
      created.push(worker);
      // Works 1 s per message and answers "got:<body>"; the connector publishes that to downstream.
      // Not waited for: with an empty queue it goes to 0 after its idle time, ready or not (a slow node's first start may take longer).
      const deployed = await systemFetch('/system/functions', {
        method: 'POST',
        body: JSON.stringify(recorderSpec(worker, {
          annotations: { 'rabbitmq-topic': 'queue', 'rabbitmq-output': 'downstream' },
          delayMs: 1_000,
          labels: {
            'com.openfaas.scale.type': 'queue',
            'com.openfaas.scale.target': '20',
            'com.openfaas.scale.max': '20',
            'com.openfaas.scale.min': '1',
            'com.openfaas.scale.zero': 'true',
            'com.openfaas.scale.zero-duration': '10s',
            'com.openfaas.async.max-inflight': '40',
          },
        })),
      });
      expect(deployed.status).toBe(202);
      await waitFor('the connector consuming queue', async () => ((await eventsOf(worker)).rabbitmq?.queues[0]?.consumers ?? 0) >= 1 ? true : undefined, 60_000, 500);
      // Asleep before the demo (an empty queue for its idle time).
      await waitFor(`${worker} at 0`, async () => ((await statusOf(worker))?.replicas === 0 && (await containersOf(worker)).length === 0 ? true : undefined), 90_000, 500);

      const downstream = await collect(b.model, 'downstream');
      const total = 400;
      const run = `demo-${Date.now()}`;
      let most = 0;
      let mostAvailable = 0;
      let firstReplicaAt: number | undefined;
      let drainedAt: number | undefined;
      let zeroAt: number | undefined;
      let sawDepth = 0;
      let watching = true;
      const started = Date.now();
      const watcher = (async () => {
        while (watching) {
          const s = await statusOf(worker).catch(() => undefined);
          if (s) {
            if (s.replicas > 0 && firstReplicaAt === undefined) firstReplicaAt = Date.now();
            most = Math.max(most, s.replicas);
            mostAvailable = Math.max(mostAvailable, s.availableReplicas);
            if (drainedAt !== undefined && s.replicas === 0 && zeroAt === undefined) zeroAt = Date.now();
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      // What the function page shows while it works: its queue's depth (the gateway reads it every second).
      const depthWatcher = (async () => {
        while (watching) {
          const e = await eventsOf(worker).catch(() => undefined);
          sawDepth = Math.max(sawDepth, e?.rabbitmq?.pending ?? 0);
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      await publishAll(b.channel, 'queue', Array.from({ length: total }, (_, i) => ({ id: `${run}-${i}`, body: `${run}-${i}` })));
      const publishedIn = Date.now() - started;

      // The connector killed once a quarter is through: what it had in hand comes again.
      let killedAt: number | undefined;
      const distinct = () => new Set(downstream.answers.filter((a) => a.sourceId.startsWith(run)).map((a) => a.sourceId)).size;
      await waitFor('a quarter in downstream', async () => (distinct() >= total / 4 ? true : undefined), 180_000, 200);
      const [connector] = await connectors();
      await docker('kill', connector!);
      killedAt = Date.now();
      await waitFor('every message in downstream', async () => (distinct() >= total ? true : undefined), 240_000, 500).catch(() => undefined);
      drainedAt = Date.now();
      await waitFor(`${worker} back at 0`, async () => (zeroAt !== undefined ? true : undefined), 120_000, 500).catch(() => undefined);
      watching = false;
      await Promise.all([watcher, depthWatcher]);
      await downstream.stop();

      const mine = downstream.answers.filter((a) => a.sourceId.startsWith(run));
      const got = new Set(mine.map((a) => a.sourceId));
      const lost = total - got.size;
      const repeats = mine.length - got.size;
      const wrong = mine.filter((a: Answer) => a.body !== `got:${a.sourceId}`).length;
      const after = await eventsOf(worker);
      report(`demo: ${total} messages published to queue in ${(publishedIn / 1000).toFixed(1)} s to a function at 0 replicas (1 s per message, target 20 per replica, max 20, max-inflight 40, idle 10 s)`);
      report(`demo: first replica at ${seconds(firstReplicaAt, started)}, most replicas ${most} (${mostAvailable} ready at once), largest depth seen on the function's events ${sawDepth}, connector killed at ${seconds(killedAt, started)}, all in downstream at ${seconds(drainedAt, started)}, back to 0 at ${seconds(zeroAt, started)}`);
      report(`demo: downstream holds ${got.size} of ${total} (lost ${lost}), ${repeats} repeats (at-least-once), ${wrong} answers not the function's`);
      if (lost > 0) {
        // What became of the missing ones: the connector logs each message it gave up on, and the page keeps the last runs.
        const missing = Array.from({ length: total }, (_, i) => `${run}-${i}`).filter((id) => !got.has(id));
        const gaveUp = (await gatewayLogs(new Date(started), 'connector').catch(() => '')).split('\n').filter((l) => /rejected|dropping|not confirmed/i.test(l));
        const failedRuns = (after.runs ?? []).filter((r) => r.outcome !== 'success');
        expect.fail(`lost ${lost}: ${missing.slice(0, 5).join(', ')}; the connector said: ${gaveUp.slice(-5).join(' | ') || 'nothing'}; runs not successful: ${JSON.stringify(failedRuns.slice(-5))}`);
      }
      expect(wrong).toBe(0);
      expect(firstReplicaAt! - started).toBeLessThan(2_000);
      // Sized on the queue's length (20 per replica, at most 20): the deepest queue the scaler could see
      // asks for its replicas; a quick machine drains part of the 400 before they all start.
      expect(most).toBeLessThanOrEqual(20);
      expect(most).toBeGreaterThanOrEqual(Math.max(10, Math.min(20, Math.ceil(sawDepth / 20))));
      expect(zeroAt).toBeDefined();
      expect(sawDepth).toBeGreaterThan(0);
      // The page's last runs name the queue and where the answer went.
      expect(after.runs?.find((r) => r.trigger === 'rabbitmq')).toMatchObject({ subject: 'queue', published: 'downstream' });
      expect(after.rabbitmq).toMatchObject({ output: 'downstream', queues: [{ name: 'queue', ready: 0, unacked: 0 }] });
    } finally {
      await b.close();
      await removeFunction(worker);
    }
  }, 600_000);
});

describe('restarts', () => {
  const worker = fn('rmqrestart');

  it('lose no message of 300 while the function\'s only task and then RabbitMQ itself are killed', async () => {
    let b = await broker();
    const [input, output] = ['restart-in', 'restart-out'];
    await declare(b.channel, input, output);
    await b.channel.purgeQueue(input);
    await b.channel.purgeQueue(output);
    created.push(worker);
    await deployFunction(recorderSpec(worker, { annotations: { 'rabbitmq-topic': input, 'rabbitmq-output': output }, delayMs: 100, labels: { 'com.openfaas.async.max-inflight': '10' } }));
    await waitFor('the connector consuming', async () => ((await eventsOf(worker)).rabbitmq?.queues[0]?.consumers ?? 0) >= 1 ? true : undefined, 60_000, 500);
    const total = 300;
    const run = `rs-${Date.now()}`;
    const started = Date.now();
    await publishAll(b.channel, input, Array.from({ length: total }, (_, i) => ({ id: `${run}-${i}`, body: `${run}-${i}` })));
    // The answers are read after the broker's restart too, by a second consumer; what the first got
    // until the broker went away counts as well (it acked them: they are nowhere else).
    const collectors = [await collect(b.model, output)];
    const received = (): Answer[] => collectors.flatMap((c) => c.answers);
    const distinct = () => new Set(received().filter((a) => a.sourceId.startsWith(run)).map((a) => a.sourceId)).size;
    const events: string[] = [];
    try {
      await waitFor('50 through', async () => (distinct() >= 50 ? true : undefined), 120_000, 200);
      const [task] = await containersOf(worker);
      await docker('kill', task!);
      events.push(`function task killed at ${seconds(Date.now(), started)}`);
      await waitFor('150 through', async () => (distinct() >= 150 ? true : undefined), 180_000, 200);
      const [rabbit] = await containersOf(fn('rabbitmq'));
      await docker('kill', rabbit!);
      const brokerKilled = Date.now();
      events.push(`RabbitMQ killed at ${seconds(brokerKilled, started)} with ${distinct()} through`);
      await b.close();
      b = await broker();
      events.push(`RabbitMQ answering again after ${((Date.now() - brokerKilled) / 1000).toFixed(1)} s`);
      collectors.push(await collect(b.model, output));
      await waitFor('every message through', async () => (distinct() >= total ? true : undefined), 300_000, 500).catch(() => undefined);
      events.push(`all through at ${seconds(Date.now(), started)}`);
    } finally {
      for (const c of collectors) await c.stop();
      await b.close();
      await removeFunction(worker);
    }
    const mine = received().filter((a) => a.sourceId.startsWith(run));
    const got = new Set(mine.map((a) => a.sourceId));
    report(`restarts: ${total} messages; ${events.join(', ')}`);
    report(`restarts: downstream holds ${got.size} of ${total} (lost ${total - got.size}), ${mine.length - got.size} repeats (at-least-once)`);
    expect(got.size).toBe(total);
  }, 600_000);
});

describe('the broker apart', () => {
  it('is reached by the gateway, never by a function: neither its AMQP port nor its management API', async () => {
    const [gateway] = await containersOf(fn('gateway'));
    const echoit = await waitFor('a running echoit task', async () => (await containersOf(fn('echoit')))[0], 60_000, 500);
    // (busybox's wget -T crashes in these images: timeout bounds it instead.)
    const tryFrom = (container: string, url: string) => docker('exec', container, 'timeout', '5', 'wget', '-q', '-O', '/dev/null', url).then(() => 'reached', (e: Error) => String(e.message));
    // The management API answers its page without credentials: reaching it is the test.
    expect(await tryFrom(gateway!, 'http://rabbitmq:15672/')).toBe('reached');
    for (const url of ['http://rabbitmq:15672/', 'http://tasks.rabbitmq:15672/', 'http://rabbitmq:5672/']) {
      const outcome = await tryFrom(echoit, url);
      expect(outcome, url).not.toBe('reached');
      expect(outcome, url).toMatch(/bad address|resolve|not known|timed out|refused/i);
    }
    report('the broker apart: the gateway reaches the management API; a function resolves neither rabbitmq nor tasks.rabbitmq');
  });
});

describe('bad input', () => {
  const odd = fn('rmqodd');

  it('says an unknown queue and an invalid name on the function\'s events; its good queue keeps working', async () => {
    const b = await broker();
    try {
      await declare(b.channel, 'odd-good', 'odd-out');
      await b.channel.purgeQueue('odd-out');
      created.push(odd);
      await deployFunction(recorderSpec(odd, { annotations: { 'rabbitmq-topic': 'odd-good,no-such-queue,bad name', 'rabbitmq-output': 'odd-out' } }));
      const events = await waitFor('the problems said', async () => {
        const e = await eventsOf(odd);
        return e.rabbitmq?.problems.some((p) => /no-such-queue does not exist/.test(p)) ? e : undefined;
      }, 30_000, 500);
      expect(events.rabbitmq!.problems.join('\n')).toMatch(/rabbitmq-topic: queue "bad name": a name is letters/);
      expect(events.rabbitmq!.queues.map((q) => q.name)).toEqual(['odd-good', 'no-such-queue']);
      const out = await collect(b.model, 'odd-out');
      await publishAll(b.channel, 'odd-good', [{ id: 'odd-1', body: 'still works' }]);
      await waitFor('the good queue invoked', async () => (out.answers.some((a) => a.sourceId === 'odd-1') ? true : undefined), 30_000, 250);
      await out.stop();
      report(`bad input: problems said on the events: ${events.rabbitmq!.problems.length}; the good queue answered`);
    } finally {
      await b.close();
      await removeFunction(odd);
    }
  }, 180_000);
});
