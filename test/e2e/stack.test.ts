// The walking skeleton, end to end on the real Swarm: the deployed stack lists
// its functions and proxies an invocation to echoit over the overlay network.
import { describe, expect, it } from 'vitest';
import { fn, gatewayUrl, listFunctions, waitFor } from './support/gateway.js';

describe('the deployed stack', () => {
  it('answers /healthz', async () => {
    const res = await fetch(gatewayUrl('/healthz'));
    expect(res.status).toBe(200);
  });

  it('lists echoit with its replicas in GET /system/functions', async () => {
    const echoit = await waitFor('echoit to be listed with an available replica', async () => {
      const found = (await listFunctions()).find((f) => f.name === fn('echoit'));
      return found && found.availableReplicas >= 1 ? found : undefined;
    });
    expect(echoit.replicas).toBe(1);
    expect(echoit.image).toMatch(/echoit/);
    expect(echoit.labels.function).toBe('true');
  });

  it('invokes echoit through the gateway and gets the same bytes back', async () => {
    const body = 'Hello, Function as a Service';
    const res = await fetch(gatewayUrl(`/function/${fn('echoit')}`), { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
  });

  it('returns binary bodies unchanged', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));
    const res = await fetch(gatewayUrl(`/function/${fn('echoit')}`), { method: 'POST', body: bytes });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 404 for a function that does not exist', async () => {
    const res = await fetch(gatewayUrl(`/function/${fn('no-such-function')}`), { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
  });
});
