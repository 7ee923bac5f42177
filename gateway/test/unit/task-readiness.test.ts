// Starting tasks the gateway probes itself: a task whose watchdog answers
// /_/health counts as ready (routed to, available) before the orchestrator's
// health check says so; one that does not answer is never routed to; a task
// that goes away is forgotten. Against a real HTTP server standing in for the
// watchdog, with the gateway's real probe.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionEntry } from '../../src/core/functions/types.js';
import { probeStartingWatchdog } from '../../src/core/upstream/health-probe.js';
import { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import { withProbedReady } from '../../src/programs/gateway/task-readiness.js';
import { FakeProvider, ref, status } from './support/fake-provider.js';
import { until } from './support/until.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A watchdog stand-in: /_/health answers 503 until `ready()` is called, then 200. */
async function watchdog(): Promise<{ address: string; ready: () => void; probes: () => number }> {
  let ready = false;
  let probes = 0;
  const server = createServer((req, res) => {
    if (req.url === '/_/health') probes++;
    res.statusCode = ready ? 200 : 503;
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, ready: () => (ready = true), probes: () => probes };
}

/** A function with one running task and the given starting ones, as the Swarm snapshot lists them. */
function entryWith(starting: { id: string; address: string }[], running = '10.0.0.2:8080'): FunctionEntry {
  return {
    status: status('fn', { replicas: 1 + starting.length, availableReplicas: 1, unavailableReason: 'starting' }),
    instances: [
      { id: 'running-task', node: 'node-1', state: 'running', ready: true, address: running },
      ...starting.map((t) => ({ id: t.id, node: 'node-1', state: 'starting', ready: false, address: t.address })),
    ],
    endpoints: [running],
    starting: [running, ...starting.map((t) => t.address)].sort(),
    state: {},
  };
}

describe('withProbedReady', () => {
  it('counts the named starting tasks ready: routed, available, no longer short', () => {
    const entry = entryWith([{ id: 'a', address: '10.0.0.3:8080' }, { id: 'b', address: '10.0.0.4:8080' }]);
    const one = withProbedReady(entry, (id) => id === 'a');
    expect(one.endpoints).toEqual(['10.0.0.2:8080', '10.0.0.3:8080']);
    expect(one.status.availableReplicas).toBe(2);
    expect(one.status.unavailableReason).toBe('starting');
    expect(one.instances.find((i) => i.id === 'a')?.ready).toBe(true);
    const both = withProbedReady(entry, () => true);
    expect(both.status.availableReplicas).toBe(3);
    expect(both.status.unavailableReason).toBeUndefined();
    expect(withProbedReady(entry, () => false)).toBe(entry);
  });
});

describe('the view with the gateway\'s readiness probe', () => {
  it('routes to a starting task once its watchdog answers, not before, and forgets it when it goes', async () => {
    const task = await watchdog();
    const view = new LiveFunctionView({ provider: new FakeProvider(), log: pino({ level: 'silent' }), probe: probeStartingWatchdog });
    const heard: number[] = [];
    view.onChange((_ref, entry) => heard.push(entry?.status.availableReplicas ?? -1));
    view.set(ref('fn'), entryWith([{ id: 'new-task', address: task.address }]));
    await until('probed a few times', async () => (task.probes() >= 3 ? true : undefined), 5_000);
    expect(view.get(ref('fn'))?.endpoints).toEqual(['10.0.0.2:8080']);

    const answeredAt = Date.now();
    task.ready();
    await until('the task routed to', async () => (view.get(ref('fn'))?.endpoints.includes(task.address) ? true : undefined), 5_000);
    expect(Date.now() - answeredAt).toBeLessThan(1_000); // a probe every 200 ms
    expect(view.get(ref('fn'))?.status.availableReplicas).toBe(2);
    expect(heard).toEqual([1, 2]);

    // A later snapshot that still lists it starting keeps it ready without asking again.
    const probes = task.probes();
    view.set(ref('fn'), entryWith([{ id: 'new-task', address: task.address }]));
    expect(view.get(ref('fn'))?.status.availableReplicas).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(task.probes()).toBe(probes);

    // The task goes; another task is given the same address: it is probed afresh.
    view.set(ref('fn'), entryWith([]));
    expect(view.get(ref('fn'))?.endpoints).toEqual(['10.0.0.2:8080']);
    view.set(ref('fn'), entryWith([{ id: 'next-task', address: task.address }]));
    expect(view.get(ref('fn'))?.endpoints).toEqual(['10.0.0.2:8080']);
    await until('the next task probed and routed', async () => (view.get(ref('fn'))?.endpoints.includes(task.address) ? true : undefined), 5_000);
    expect(task.probes()).toBeGreaterThan(probes);
    view.stop();
  });

  it('never routes to a starting task whose watchdog does not answer', async () => {
    const task = await watchdog(); // answers 503 throughout
    const view = new LiveFunctionView({ provider: new FakeProvider(), log: pino({ level: 'silent' }), probe: probeStartingWatchdog });
    view.set(ref('fn'), entryWith([{ id: 'stuck', address: task.address }, { id: 'nobody', address: '127.0.0.1:1' }]));
    await until('probed a few times', async () => (task.probes() >= 5 ? true : undefined), 5_000);
    expect(view.get(ref('fn'))?.endpoints).toEqual(['10.0.0.2:8080']);
    expect(view.get(ref('fn'))?.status.availableReplicas).toBe(1);
    view.set(ref('fn'), undefined);
    const probes = task.probes();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(task.probes()).toBeLessThanOrEqual(probes + 1); // one may have been in flight
    view.stop();
  });
});
