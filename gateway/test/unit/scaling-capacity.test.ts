// Capacity scaling as two gateways run it at once over one orchestrator (the
// fake provider) and the same load reports: one gateway decides and each
// change is made once; the other takes over when the first goes quiet;
// nothing is decided while NATS is away; alerts and the idler leave a
// capacity-scaled function alone.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import type { AutoScaler } from '../../src/programs/gateway/scaling/index.js';
import { LoadBoard, type LoadReport } from '../../src/queue/load-reports.js';
import type { QueueConnection } from '../../src/queue/connection.js';
import { FakeClock, FakeProvider, scalingGateways } from './scaling-fakes.js';

const CAPACITY = { 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '2', 'com.openfaas.scale.max': '20' };
const KEY = 'func_c.openfaas-fn';

interface Gateway {
  id: string;
  scaler: AutoScaler;
  view: LiveFunctionView;
  board: LoadBoard;
}

const startGateway = scalingGateways();

/** NATS as the boards see it: connected or not. */
const nats = { isConnected: true } as unknown as QueueConnection & { isConnected: boolean };

async function gateways(ids: string[], provider: FakeProvider, clock: FakeClock, env: Record<string, string> = {}): Promise<Gateway[]> {
  const out: Gateway[] = [];
  for (const id of ids) {
    const board = new LoadBoard(nats, id, pino({ level: 'silent' }), () => clock.now());
    out.push({ id, board, ...(await startGateway(provider, clock, { loads: board }, env)) });
  }
  return out;
}

/** Every board hears every report (NATS delivering them). */
function report(boards: Gateway[], sender: string, demand: number): void {
  const message: LoadReport = { sender, role: sender.startsWith('gateway') ? 'gateway' : 'queue-worker', functions: demand > 0 ? { [KEY]: { d: demand, i: Math.min(demand, 2), w: Math.max(0, demand - 2), s: 1 } } : {} };
  for (const g of boards) g.board.accept(message);
}

describe('capacity scaling across gateways', () => {
  it('sizes the function on the demand of every program, once, through the gateway that decides', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_c', { replicas: 1, labels: CAPACITY });
    const all = await gateways(['gateway-a', 'gateway-b'], provider, clock);
    const [a, b] = all as [Gateway, Gateway];
    const pass = () => Promise.all([a.scaler.capacity!.pass(), b.scaler.capacity!.pass()]);

    // 10 calls through each gateway and 4 through a queue worker: 24 at 1.4 per replica.
    report(all, 'gateway-a', 10);
    report(all, 'gateway-b', 10);
    report(all, 'queue-worker-1', 4);
    await pass();
    expect(provider.scaleCalls).toEqual([{ name: 'func_c', replicas: 18 }]);
    expect(a.board.decides).toBe(true);
    expect(b.board.decides).toBe(false);

    // Gateway a goes quiet: b decides from then on (and a's calls no longer count).
    clock.advance(3_000);
    report(all, 'gateway-b', 30);
    report(all, 'queue-worker-1', 4);
    await pass();
    expect(b.board.decides).toBe(true);
    expect(provider.scaleCalls.at(-1)).toEqual({ name: 'func_c', replicas: 20 });
    expect(provider.scaleCalls).toHaveLength(2);
  });

  it('decides nothing while NATS is away (the other programs’ calls are not known), and goes on once it is back', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_c', { replicas: 1, labels: CAPACITY });
    const all = await gateways(['gateway-a'], provider, clock);
    nats.isConnected = false;
    try {
      report(all, 'gateway-a', 20);
      await all[0]!.scaler.capacity!.pass();
      expect(provider.scaleCalls).toEqual([]);
    } finally {
      nats.isConnected = true;
    }
    report(all, 'gateway-a', 20);
    await all[0]!.scaler.capacity!.pass();
    expect(provider.scaleCalls).toEqual([{ name: 'func_c', replicas: 15 }]);
  });

  it('steps down after the stable window and sleeps after the idle period (com.openfaas.scale.zero), while alerts and the idler leave it alone', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider();
    provider.add('func_c', { replicas: 1, labels: { ...CAPACITY, 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '20s' } });
    const all = await gateways(['gateway-a'], provider, clock, { CAPACITY_STABLE_WINDOW: '10s', CAPACITY_PANIC_WINDOW: '2s', IDLE_TIMEOUT: '1s' });
    const { scaler } = all[0]!;
    for (let t = 0; t < 5; t++) {
      report(all, 'gateway-a', 7);
      await scaler.capacity!.pass();
      clock.advance(1_000);
    }
    expect(provider.replicas('func_c')).toBe(5);
    // An alert on the request rate and the idler change nothing.
    const outcomes = await scaler.handleAlerts({ alerts: [{ status: 'resolved', labels: { alertname: 'APIHighInvocationRate', function_name: 'func_c' } }] } as never);
    expect(outcomes[0]).toMatchObject({ action: 'unchanged', reason: expect.stringMatching(/capacity/) });
    await scaler.idler.pass();
    expect(provider.replicas('func_c')).toBe(5);
    // The load stops: down once a stable window has passed since the burst, then to zero after 20 s of nothing.
    const history: number[] = [];
    for (let t = 0; t < 30; t++) {
      report(all, 'gateway-a', 0);
      await scaler.capacity!.pass();
      history.push(provider.replicas('func_c')!);
      clock.advance(1_000);
    }
    expect(history.slice(0, 5).every((r) => r === 5)).toBe(true);
    expect(history.indexOf(1)).toBeGreaterThan(5);
    expect(history.indexOf(1)).toBeLessThanOrEqual(11);
    expect(history.indexOf(0)).toBe(19); // 20 s after the last busy report
    expect(history.at(-1)).toBe(0);
  });
});
