// Pure parts of the views and the monitor: routes, scaling words, the live
// rate, and the overview's health cards.
import { describe, expect, it } from 'vitest';
import { nextSample } from '../../../ui/js/monitor.js';
import { parseRoute, fnHref } from '../../../ui/js/routes.js';
import { describeEvent, scalingOf, scalingState } from '../../../ui/js/views/function.js';
import { healthRows } from '../../../ui/js/views/overview.js';

describe('routes', () => {
  it('reads the hash', () => {
    expect(parseRoute('')).toEqual({ view: 'list' });
    expect(parseRoute('#/overview')).toEqual({ view: 'overview' });
    expect(parseRoute('#/deploy')).toEqual({ view: 'deploy' });
    expect(parseRoute(fnHref('a b/c'))).toEqual({ view: 'function', name: 'a b/c' });
    expect(parseRoute('#/fn/%E0%A4%A')).toEqual({ view: 'list' });
  });
});

describe('nextSample (the live rate)', () => {
  it('is the growth of invocationCount over at least 1.5 s, null at first and after a counter reset', () => {
    const fn = (count: number) => ({ invocationCount: count, replicas: 2, availableReplicas: 1 });
    const first = nextSample([], fn(10), 0);
    expect(first).toEqual({ t: 0, count: 10, rate: null, replicas: 2, available: 1 });
    const second = nextSample([first], fn(30), 2000);
    expect(second.rate).toBe(10);
    // A poll right after another measures from the older sample.
    expect(nextSample([first, second], fn(31), 2500).rate).toBeCloseTo(8.4);
    expect(nextSample([first, second], fn(3), 4000).rate).toBeNull();
  });
});

describe('function page words', () => {
  it('reads the scaling labels of both families', () => {
    expect(scalingOf({})).toEqual({ min: 1, max: 20, factor: undefined, zero: false });
    expect(scalingOf({ 'com.faas.max_replicas': '10', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.zero': 'TRUE' })).toMatchObject({ min: 2, max: 10, zero: true });
  });

  it('says what the replicas are doing', () => {
    const base = { name: 'f', image: 'i', invocationCount: 0 };
    const limits = scalingOf({});
    expect(scalingState({ ...base, replicas: 0, availableReplicas: 0 }, limits).cls).toBe('idle');
    expect(scalingState({ ...base, replicas: 5, availableReplicas: 2 }, limits).text).toBe('Starting replicas: 2 of 5 ready');
    expect(scalingState({ ...base, replicas: 20, availableReplicas: 20 }, limits).text).toBe('At the maximum (20 replicas)');
    expect(scalingState({ ...base, replicas: 1, availableReplicas: 1 }, limits).text).toBe('Steady');
  });

  it('describes scale events with from and to when the page saw them', () => {
    expect(describeEvent({ t: 0, kind: 'up', label: '1→5', from: 1, to: 5 })).toBe('Scaled up 1 → 5');
    expect(describeEvent({ t: 0, kind: 'zero', label: 'to zero', count: 1 })).toBe('Scaled to zero');
    expect(describeEvent({ t: 0, kind: 'wake', label: 'wake ×2', count: 2 })).toBe('Woken (2 times)');
  });
});

describe('overview health cards', () => {
  it('shows each part up or down with its URL and why', () => {
    const rows = healthRows(
      {
        gateway: { up: true, version: '0.1.0', functions: 8 },
        prometheus: { url: 'http://prometheus:9090', up: true, gatewayTargets: [{ instance: '10.0.0.5:8080', health: 'up', lastError: '' }] },
        alertmanager: { url: 'http://alertmanager:9093', up: false, error: 'AlertManager at http://alertmanager:9093 did not answer: ECONNREFUSED' },
        alerts: null,
      },
      null,
      'http://127.0.0.1:8080',
    );
    expect(rows).toEqual([
      { name: 'Gateway', up: true, url: 'http://127.0.0.1:8080', detail: 'version 0.1.0, 8 functions' },
      { name: 'Prometheus', up: true, url: 'http://prometheus:9090', detail: '1 of 1 gateway target up' },
      { name: 'AlertManager', up: false, url: 'http://alertmanager:9093', detail: 'AlertManager at http://alertmanager:9093 did not answer: ECONNREFUSED' },
    ]);
  });

  it('marks the gateway down when the overview itself fails', () => {
    const rows = healthRows(null, new Error('The gateway did not answer (Failed to fetch).'), 'http://127.0.0.1:8080');
    expect(rows[0]).toMatchObject({ name: 'Gateway', up: false });
    expect(rows[1]?.up).toBeNull();
  });
});
