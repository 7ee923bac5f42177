// The live function view over a fake provider: full reads on demand, shared
// between concurrent callers, and a failed read that keeps the last view.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveFunctionView } from '../../src/functions/view.js';
import { FakeProvider, status } from './support/fake-provider.js';

function viewOver(provider: FakeProvider): LiveFunctionView {
  return new LiveFunctionView({ provider, log: pino({ level: 'silent' }), resyncInterval: 3600 });
}

describe('LiveFunctionView.readAll', () => {
  it('reads the provider now, so a function deployed or removed elsewhere shows at once', async () => {
    const provider = new FakeProvider();
    provider.functions.set('a', status('a'));
    const view = viewOver(provider);
    expect((await view.readAll()).map((f) => f.name)).toEqual(['a']);
    provider.functions.set('b', status('b'));
    provider.functions.delete('a');
    expect((await view.readAll()).map((f) => f.name)).toEqual(['b']);
    expect(view.get('a')).toBeUndefined();
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
    expect(view.get('a')?.name).toBe('a');
  });
});
