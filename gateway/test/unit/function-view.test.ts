// The live function view over a fake provider: snapshots from the provider's
// watch, full reads on demand shared between concurrent callers, and a failed
// read that keeps the last view.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import { FakeProvider, ref, status } from './support/fake-provider.js';

function viewOver(provider: FakeProvider): LiveFunctionView {
  return new LiveFunctionView({ provider, log: pino({ level: 'silent' }) });
}

describe('LiveFunctionView', () => {
  it('follows the provider\'s snapshots and tells listeners which function changed', async () => {
    const provider = new FakeProvider();
    provider.functions.set('a', status('a'));
    const view = viewOver(provider);
    const changes: string[] = [];
    view.onChange((fn, entry) => changes.push(`${fn.name}:${entry ? entry.status.replicas : 'gone'}`));
    await view.start();
    expect(view.ready).toBe(true);
    provider.functions.set('b', status('b', { replicas: 2, availableReplicas: 2 }));
    provider.functions.delete('a');
    expect(view.list().map((e) => e.status.name)).toEqual(['b']);
    expect(view.get(ref('b'))?.endpoints).toEqual(['10.0.1.10:8080', '10.0.1.11:8080']);
    expect(changes).toEqual(['a:1', 'b:2', 'a:gone']);
    view.stop();
  });

  it('readAll reads the provider now, so a function deployed or removed elsewhere shows at once', async () => {
    const provider = new FakeProvider();
    provider.functions.set('a', status('a'));
    const view = viewOver(provider);
    expect((await view.readAll()).map((f) => f.status.name)).toEqual(['a']);
    provider.functions.set('b', status('b'));
    provider.functions.delete('a');
    expect((await view.readAll()).map((f) => f.status.name)).toEqual(['b']);
    expect(view.get(ref('a'))).toBeUndefined();
  });

  it('shares one provider read between callers that come while it runs', async () => {
    const provider = new FakeProvider();
    provider.functions.set('a', status('a'));
    const view = viewOver(provider);
    const answers = await Promise.all(Array.from({ length: 5 }, () => view.readAll()));
    expect(answers.every((list) => list.length === 1)).toBe(true);
    expect(provider.listCalls).toBe(1);
  });

  it('throws when the provider cannot answer, and keeps the last view for invocations', async () => {
    const provider = new FakeProvider();
    provider.functions.set('a', status('a'));
    const view = viewOver(provider);
    await view.readAll();
    provider.unavailable = 'docker: the engine did not answer within 8 s';
    await expect(view.readAll()).rejects.toThrow(/did not answer/);
    expect(view.get(ref('a'))?.status.name).toBe('a');
  });
});
