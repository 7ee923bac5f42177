// How the queue worker and the connector know the functions without Docker,
// against a real nats-server: what the gateway's view holds reaches their
// view through the catalog bucket (changes, removals, a complete read again
// after NATS lost its store), and a wake-up asked of the gateways answers
// with the woken function's entry.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FunctionTable } from '../../src/core/functions/view.js';
import type { FunctionEntry, FunctionRef } from '../../src/core/functions/types.js';
import { InvocationError } from '../../src/core/invocation/errors.js';
import { catalogKey, CatalogPublisher, CatalogView } from '../../src/queue/function-catalog.js';
import { RemoteWaker, WakeResponder } from '../../src/queue/wake-requests.js';
import { status } from './support/fake-provider.js';
import { natsForFile } from './support/nats-server.js';
import { until } from './support/until.js';

const log = pino({ level: 'silent' });
const nats = natsForFile(log);
const { connection } = nats;

const entry = (name: string, overrides: Partial<FunctionEntry> = {}): FunctionEntry => ({
  status: { ...status(name), envVars: { SECRET_TOKEN: 'x' }, labels: { 'com.openfaas.async.max-inflight': '3' }, annotations: { topic: 'orders' } },
  instances: [{ id: 't1', node: 'n1', state: 'running', ready: true }],
  endpoints: ['10.0.0.5:8080'],
  starting: ['10.0.0.5:8080'],
  state: { scaledAt: '1' },
  ...overrides,
});

/** A gateway's view holding `entries`, published to the catalog, and a worker's view read from it. */
async function catalogBetween(entries: FunctionEntry[], gatewayName: string, workerName: string): Promise<{ gatewayView: FunctionTable; workerView: CatalogView }> {
  const gatewayView = new FunctionTable(log);
  gatewayView.replaceAll(entries);
  const publisher = new CatalogPublisher(connection(gatewayName), gatewayView, log);
  publisher.start();
  nats.closeAfterAll(() => publisher.stop());
  const workerView = new CatalogView(connection(workerName), log);
  await workerView.start();
  nats.closeAfterAll(() => workerView.stop());
  return { gatewayView, workerView };
}

describe('the function catalog', () => {
  it("carries the gateway's view to the other programs: entries, changes and removals, without environment variables or the scaler's state", async () => {
    const { gatewayView, workerView } = await catalogBetween([entry('a'), entry('b')], 'gateway', 'worker');

    const a = await until('a in the worker', () => workerView.get({ name: 'a', namespace: 'openfaas-fn' }));
    expect(a.endpoints).toEqual(['10.0.0.5:8080']);
    expect(a.status.labels).toEqual({ 'com.openfaas.async.max-inflight': '3' });
    expect(a.status.annotations).toEqual({ topic: 'orders' });
    expect(a.status.envVars).toEqual({});
    expect(a.state).toEqual({});
    expect(workerView.ready).toBe(true);

    const heard: string[] = [];
    workerView.onChange((ref, e) => heard.push(`${ref.name}:${e ? e.endpoints.join(',') : 'gone'}`));
    gatewayView.set({ name: 'a', namespace: 'openfaas-fn' }, entry('a', { endpoints: ['10.0.0.6:8080'] }));
    gatewayView.set({ name: 'b', namespace: 'openfaas-fn' }, undefined);
    await until('both changes', () => (heard.length >= 2 ? true : undefined));
    expect(heard).toEqual(['a:10.0.0.6:8080', 'b:gone']);
  });

  it('is written again by the gateway and read again by the others after NATS lost its store', async () => {
    const { gatewayView, workerView } = await catalogBetween([entry('c')], 'gateway2', 'worker2');
    await until('c', () => workerView.get({ name: 'c', namespace: 'openfaas-fn' }));

    await nats.server().restart({ keepStore: false });
    // A function deployed while NATS was away, and one removed.
    gatewayView.replaceAll([entry('d')]);
    await until('d after the restart', () => workerView.get({ name: 'd', namespace: 'openfaas-fn' }), 20_000);
    await until('c gone', () => (workerView.get({ name: 'c', namespace: 'openfaas-fn' }) ? undefined : true), 20_000);
  }, 40_000);

  it('keys every function name safely', () => {
    expect(catalogKey({ name: 'func_echoit', namespace: 'openfaas-fn' })).toBe('openfaas-fn.func_echoit');
    expect(catalogKey({ name: 'Odd.Name', namespace: 'ns' })).toMatch(/^ns\.=[0-9a-f]+$/);
  });
});

describe('wake-ups asked of the gateways', () => {
  it('wakes through a gateway and hands the woken entry to the asker; says why when it cannot', async () => {
    const asked: FunctionRef[] = [];
    const gatewayConnection = connection('gateway3');
    const responder = new WakeResponder(
      gatewayConnection,
      async (ref) => {
        asked.push(ref);
        if (ref.name === 'gone') throw new InvocationError('not-found', 'function gone not found');
        return { address: '10.0.0.9:8080', entry: entry(ref.name, { endpoints: ['10.0.0.9:8080'] }) };
      },
      log,
      5_000,
    );
    await responder.start();
    nats.closeAfterAll(() => responder.stop());
    const view = new CatalogView(connection('worker3'), log);
    const waker = new RemoteWaker(connection('worker3b'), view, 5_000);
    expect(await waker.ensureAvailable({ name: 'sleepy', namespace: 'openfaas-fn' })).toBe('10.0.0.9:8080');
    expect(asked).toEqual([{ name: 'sleepy', namespace: 'openfaas-fn' }]);
    // The entry came with the answer: routing can use it before the catalog's watch brings it.
    expect(view.get({ name: 'sleepy', namespace: 'openfaas-fn' })?.endpoints).toEqual(['10.0.0.9:8080']);
    const gone = await waker.ensureAvailable({ name: 'gone', namespace: 'openfaas-fn' }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(InvocationError);
    expect((gone as InvocationError).kind).toBe('not-found');

    // No gateway at all (the only one went away).
    await gatewayConnection.close();
    const nobody = await waker.ensureAvailable({ name: 'sleepy', namespace: 'openfaas-fn' }).catch((e: unknown) => e);
    expect((nobody as InvocationError).kind).toBe('unavailable');
    expect((nobody as Error).message).toMatch(/no gateway answers/);
  });
});
