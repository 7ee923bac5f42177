// Queue-depth scaling as two gateways run it at once over one orchestrator
// (the fake provider) and one backlog: each change is made once, alerts and
// the idler leave a queue-scaled function alone, and a function invoked
// synchronously elsewhere is not put to sleep.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import { AutoScaler } from '../../src/programs/gateway/scaling/index.js';
import { addBacklogs, type Backlog } from '../../src/queue/backlog.js';
import type { InvocationHistory } from '../../src/programs/gateway/scaling/context.js';
import { FakeClock, FakeProvider, scalingGateways, testConfig } from './scaling-fakes.js';

const QUEUE = { 'com.openfaas.scale.type': 'queue', 'com.openfaas.scale.max': '5', 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10s' };
const key = 'func_q.openfaas-fn';

interface Gateway {
  scaler: AutoScaler;
  view: LiveFunctionView;
}

const startGateway = scalingGateways();

async function gateways(n: number, provider: FakeProvider, clock: FakeClock, backlog: () => Map<string, Backlog>, syncHistory?: InvocationHistory): Promise<Gateway[]> {
  const out: Gateway[] = [];
  for (let i = 0; i < n; i++) out.push(await startGateway(provider, clock, { queue: { backlog: async () => backlog(), ...(syncHistory ? { syncHistory } : {}) } }));
  return out;
}

describe('queue-depth scaling across gateways', () => {
  it('wakes, steps up and puts to sleep once, whichever gateway gets there first', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_q', { replicas: 0, labels: QUEUE });
    let pending = 0;
    let delivered = 0;
    const [a, b] = await gateways(2, provider, clock, () => new Map([[key, { pending, delivered }]]));
    const pass = () => Promise.all([a!.scaler.queue!.pass(), b!.scaler.queue!.pass()]);

    await pass();
    expect(provider.scaleCalls).toEqual([]); // asleep, nothing pending
    pending = 1;
    await pass();
    expect(provider.scaleCalls).toEqual([{ name: 'func_q', replicas: 1 }]);
    pending = 42;
    delivered = 10;
    await pass();
    expect(provider.scaleCalls.at(-1)).toEqual({ name: 'func_q', replicas: 5 });
    expect(provider.scaleCalls).toHaveLength(2);
    // Empty: after the scale-down delay (10 s) one replica, after the idle period (10 s of nothing) zero.
    pending = 0;
    delivered = 52;
    await pass();
    clock.advance(11_000);
    await pass();
    expect(provider.replicas('func_q')).toBe(0);
    expect(provider.scaleCalls.filter((c) => c.replicas === 0)).toHaveLength(1);
  });

  it('leaves alone what is not labelled for it, and a function invoked synchronously through another gateway', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_q', { replicas: 2, labels: QUEUE });
    provider.add('func_rate', { replicas: 1, labels: { 'com.openfaas.scale.zero': 'true' } });
    let busyElsewhere = 3;
    const [a] = await gateways(1, provider, clock, () => new Map([[key, { pending: 0, delivered: 0 }], ['func_rate.openfaas-fn', { pending: 500, delivered: 0 }]]), async () => busyElsewhere);
    await a!.scaler.queue!.pass();
    clock.advance(60_000);
    await a!.scaler.queue!.pass();
    // Down to 1, not to 0: invocations through another gateway in the idle period.
    expect(provider.replicas('func_q')).toBe(1);
    expect(provider.replicas('func_rate')).toBe(1);
    busyElsewhere = 0;
    await a!.scaler.queue!.pass();
    expect(provider.replicas('func_q')).toBe(0);
    // The idler does not put a queue-scaled function to sleep on its own rules either.
    provider.add('func_q2', { replicas: 1, labels: QUEUE });
    await a!.view.refresh({ name: 'func_q2', namespace: 'openfaas-fn' });
    a!.scaler.context.activity.invoked('func_q2.openfaas-fn');
    clock.advance(60_000);
    await a!.scaler.idler.pass();
    expect(provider.replicas('func_q2')).toBe(1);
  });

  it('scales up on the figures it has while one source cannot be read, never down', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_q', { replicas: 1, labels: QUEUE });
    provider.add('func_other', { replicas: 2, labels: QUEUE });
    let natsAway = true;
    let rabbit = 30;
    // NATS (every function's calls) away; RabbitMQ (func_q's queue) read.
    const nats = async () => {
      if (natsAway) throw new Error('NATS JetStream is not available: timeout');
      return new Map<string, Backlog>();
    };
    const [a] = await gateways(1, provider, clock, () => new Map());
    a!.scaler.stop();
    const reader = addBacklogs(nats, async () => new Map([[key, { pending: rabbit, delivered: 1 }]]));
    const scaler = new AutoScaler({ config: testConfig(), provider, functions: a!.view, log: pino({ level: 'silent' }), clock, probe: async () => false, queue: { backlog: reader } });
    await scaler.queue!.pass();
    // 30 at least: 3 replicas; the other function, whose figures are not known, keeps its 2.
    expect(provider.replicas('func_q')).toBe(3);
    expect(provider.replicas('func_other')).toBe(2);
    rabbit = 0;
    clock.advance(600_000);
    await scaler.queue!.pass();
    await scaler.queue!.pass();
    expect(provider.replicas('func_q')).toBe(3);
    expect(provider.replicas('func_other')).toBe(2);
    // Both read again: down and to sleep as usual.
    natsAway = false;
    await scaler.queue!.pass();
    clock.advance(11_000);
    await scaler.queue!.pass();
    expect(provider.replicas('func_other')).toBe(0);
    // Neither readable: the read fails, nothing changes.
    await expect(addBacklogs(async () => Promise.reject(new Error('a')), async () => Promise.reject(new Error('b')))()).rejects.toThrow('a');
  });

  it('ignores the rate alerts of a queue-scaled function', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_q', { replicas: 1, labels: QUEUE });
    const [a] = await gateways(1, provider, clock, () => new Map());
    const outcomes = await a!.scaler.handleAlerts({ status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'APIHighInvocationRate', function_name: 'func_q' }, annotations: {} }] } as never);
    expect(outcomes[0]).toMatchObject({ action: 'unchanged', reason: expect.stringMatching(/queue/) });
    expect(provider.replicas('func_q')).toBe(1);
  });
});
