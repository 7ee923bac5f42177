// gateway_scaling_events_total: every replica change the scaler makes is
// counted once, as up, down, zero or wake (the UI marks them on its charts).
import { afterEach, describe, expect, it } from 'vitest';
import { scalingEventOf } from '../../src/programs/gateway/metrics.js';
import { harness, type Harness } from './scaling-fakes.js';
import { ref } from './support/fake-provider.js';

let h: Harness;
afterEach(async () => h?.close());

const ZERO = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10s' };

/** The counter's samples for one function, e.g. { up: 1, down: 0, zero: 0, wake: 0 }. */
async function events(name: string): Promise<Record<string, number>> {
  const text = await h.metrics.registry.metrics();
  const out: Record<string, number> = {};
  const pattern = new RegExp(`^gateway_scaling_events_total\\{function_name="${name}",event="(\\w+)"\\} (\\d+)$`, 'gm');
  for (const match of text.matchAll(pattern)) out[match[1]!] = Number(match[2]);
  return out;
}

function firing(name: string, status: 'firing' | 'resolved', startsAt = '2026-01-01T00:00:00Z') {
  return {
    version: '4',
    status,
    receiver: 'gateway',
    alerts: [{ status, labels: { alertname: 'APIHighInvocationRate', function_name: name }, annotations: {}, startsAt, fingerprint: 'f1' }],
  };
}

describe('scalingEventOf', () => {
  it('names a change by where it goes: to 0 is zero, from 0 is wake, else up or down', () => {
    expect(scalingEventOf(1, 5)).toBe('up');
    expect(scalingEventOf(5, 1)).toBe('down');
    expect(scalingEventOf(3, 0)).toBe('zero');
    expect(scalingEventOf(0, 1)).toBe('wake');
    expect(scalingEventOf(0, 4)).toBe('wake');
  });
});

describe('gateway_scaling_events_total', () => {
  it('is at 0 for every event of every known function before anything happens', async () => {
    h = await harness((p) => p.add('func_echoit'));
    expect(await events('func_echoit')).toEqual({ up: 0, down: 0, zero: 0, wake: 0 });
  });

  it('counts an alert step up and the step down on resolved', async () => {
    h = await harness((p) => p.add('func_echoit'));
    for (let i = 0; i < 20; i++) h.scaler.recordInvocation(ref('func_echoit'));
    expect((await h.post('/system/alert', firing('func_echoit', 'firing'))).status).toBe(200);
    expect(await events('func_echoit')).toMatchObject({ up: 1, down: 0 });
    expect((await h.post('/system/alert', firing('func_echoit', 'resolved'))).status).toBe(200);
    expect(await events('func_echoit')).toMatchObject({ up: 1, down: 1 });
    // A repeated resolved alert changes nothing, and counts nothing.
    await h.post('/system/alert', firing('func_echoit', 'resolved'));
    expect(await events('func_echoit')).toMatchObject({ up: 1, down: 1 });
  });

  it('counts the idler putting a function to sleep and a request waking it', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: ZERO }));
    h.scaler.recordInvocation(ref('func_sleepy'));
    h.clock.advance(10_000);
    await h.scaler.idler.pass();
    expect(await events('func_sleepy')).toMatchObject({ zero: 1, wake: 0 });
    await h.scaler.ensureAvailable(ref('func_sleepy'));
    expect(await events('func_sleepy')).toEqual({ up: 0, down: 0, zero: 1, wake: 1 });
  });

  it('counts manual scaling by its direction, and nothing when the replicas stay', async () => {
    h = await harness((p) => p.add('func_echoit'));
    for (const replicas of [3, 3, 2, 0, 1]) {
      expect((await h.post('/system/scale-function/func_echoit', { replicas })).status).toBe(202);
    }
    expect(await events('func_echoit')).toEqual({ up: 1, down: 1, zero: 1, wake: 1 });
  });

  it('drops the series of a removed function', async () => {
    h = await harness((p) => p.add('func_echoit'));
    await h.post('/system/scale-function/func_echoit', { replicas: 2 });
    expect(await events('func_echoit')).toMatchObject({ up: 1 });
    await h.provider.remove(ref('func_echoit'));
    await h.view.readAll();
    expect(await events('func_echoit')).toEqual({});
  });
});
