// POST /system/scale-function/{name}: manual scaling from 0 to the function's max.
import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './scaling-fakes.js';
import { ref } from './support/fake-provider.js';

let h: Harness;
afterEach(async () => h?.close());

const setup = () =>
  harness((p) => {
    p.add('func_echoit');
    p.add('func_wordcount', { labels: { 'com.faas.max_replicas': '10' } });
    p.add('func_prometheus', { isFunction: false });
  });

describe('POST /system/scale-function/{name}', () => {
  it('scales to the number asked, answers 202 with the result, and the view follows', async () => {
    h = await setup();
    const res = await h.post('/system/scale-function/func_echoit', { serviceName: 'func_echoit', replicas: 3 });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({ serviceName: 'func_echoit', namespace: 'openfaas-fn', replicas: 3, previousReplicas: 1 });
    expect(h.provider.replicas('func_echoit')).toBe(3);
    expect(h.view.get(ref('func_echoit'))?.status.replicas).toBe(3);
  });

  it('accepts the body without serviceName', async () => {
    h = await setup();
    expect((await h.post('/system/scale-function/func_echoit', { replicas: 2 })).status).toBe(202);
    expect(h.provider.replicas('func_echoit')).toBe(2);
  });

  it('puts a function to sleep with 0', async () => {
    h = await setup();
    expect((await h.post('/system/scale-function/func_echoit', { serviceName: 'func_echoit', replicas: 0 })).status).toBe(202);
    expect(h.provider.replicas('func_echoit')).toBe(0);
  });

  it('allows the maximum and refuses one more with 400 naming the limit', async () => {
    h = await setup();
    expect((await h.post('/system/scale-function/func_wordcount', { replicas: 10 })).status).toBe(202);
    const over = await h.post('/system/scale-function/func_wordcount', { replicas: 11 });
    expect(over.status).toBe(400);
    expect(over.text).toMatch(/11 is above the maximum of func_wordcount \(10/);
    expect(h.provider.replicas('func_wordcount')).toBe(10);
    const overDefault = await h.post('/system/scale-function/func_echoit', { replicas: 21 });
    expect(overDefault.status).toBe(400);
  });

  it('answers 404 for an unknown function and for a service that is not a function', async () => {
    h = await setup();
    const unknown = await h.post('/system/scale-function/func_nosuch', { replicas: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toMatch(/func_nosuch not found/);
    expect((await h.post('/system/scale-function/func_prometheus', { replicas: 3 })).status).toBe(404);
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('refuses bad bodies with 400 and changes nothing', async () => {
    h = await setup();
    const cases: Array<[unknown, RegExp]> = [
      [{ replicas: -1 }, /replicas: expected 0 or more/],
      [{ replicas: 1.5 }, /replicas: expected a whole number/],
      [{ replicas: '3' }, /replicas: /],
      [{}, /replicas: /],
      [{ serviceName: 'func_wordcount', replicas: 2 }, /does not match the function in the path/],
      ['{"replicas":', /not JSON/],
    ];
    for (const [body, message] of cases) {
      const res = await h.post('/system/scale-function/func_echoit', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text, JSON.stringify(body)).toMatch(message);
    }
    expect(h.provider.scaleCalls).toEqual([]);
  });
});
