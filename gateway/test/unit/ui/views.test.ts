// Pure parts of the views and the monitor: routes, scaling words, the live
// rate, the overview's health cards, and the rows the function tables keep.
import { describe, expect, it } from 'vitest';
import { nextSample } from '../../../ui/js/monitor.js';
import { parseRoute, fnHref } from '../../../ui/js/routes.js';
import { describeEvent } from '../../../ui/js/views/chart-panel.js';
import { describeLimits, formatDuration, scalingState } from '../../../ui/js/scaling.js';
import type { ScalingAnswer as Scaling } from '../../../src/programs/gateway/api/answers.js';
import { healthRows } from '../../../ui/js/views/overview.js';
import { syncRows } from '../../../ui/js/dom.js';

describe('routes', () => {
  it('reads the hash', () => {
    expect(parseRoute('')).toEqual({ view: 'list' });
    expect(parseRoute('#/overview')).toEqual({ view: 'overview' });
    expect(parseRoute('#/deploy')).toEqual({ view: 'deploy' });
    expect(parseRoute('#/async')).toEqual({ view: 'async' });
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
  const limits: Scaling = { type: 'rate', min: 1, max: 20, step: 5, stepMode: 'multiple', alerts: true, target: null, zero: false, zeroDuration: 300, problems: [] };

  it('says what the replicas are doing, against the maximum the gateway sent', () => {
    expect(scalingState({ replicas: 0, availableReplicas: 0 }, limits).cls).toBe('idle');
    expect(scalingState({ replicas: 5, availableReplicas: 2 }, limits).text).toBe('Starting replicas: 2 of 5 ready');
    expect(scalingState({ replicas: 20, availableReplicas: 20 }, limits).text).toBe('At the maximum (20 replicas)');
    expect(scalingState({ replicas: 7, availableReplicas: 7 }, { max: 7 }).text).toBe('At the maximum (7 replicas)');
    expect(scalingState({ replicas: 1, availableReplicas: 1 }, limits).text).toBe('Steady');
  });

  it("describes the gateway's scaling limits in words", () => {
    expect(describeLimits(limits)).toBe(
      'Autoscaling on the request rate keeps it between 1 and 20 replicas: each alert steps to the next multiple of 5, and it returns to 1 when the load stops. Scale to zero: off. A manual scale holds until the next alert.',
    );
    expect(describeLimits({ ...limits, max: 10, step: 2, stepMode: 'add', zero: true, zeroDuration: 30 })).toContain('each alert adds 2 replicas, and it returns to 1 when the load stops. Scales to zero after 30 s without calls.');
    expect(describeLimits({ ...limits, type: 'queue', target: 4, alerts: false })).toBe('Scales on its queue, one replica per 4 pending messages, between 1 and 20 replicas. Scale to zero: off.');
    expect(describeLimits({ ...limits, alerts: false, min: 2, max: 2 })).toContain('at 2 replicas (min = max: no autoscaling)');
    expect([30, 60, 300, 5400, 7200].map(formatDuration)).toEqual(['30 s', '1 min', '5 min', '1 h 30 min', '2 h']);
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
        prometheus: { url: 'http://prometheus:9090', up: true, gatewayTargets: [{ job: 'gateway', instance: '10.0.0.5:8080', health: 'up', lastError: '', lastScrape: '' }] },
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

describe('the rows of a function table', () => {
  /** The least of a tbody and its rows syncRows uses: children in order, insertBefore, remove. */
  class Body {
    children: Row[] = [];
    insertBefore(row: Row, before: Row | null): void {
      row.remove();
      row.parent = this;
      const at = before ? this.children.indexOf(before) : -1;
      this.children.splice(at < 0 ? this.children.length : at, 0, row);
    }
  }
  class Row {
    parent: Body | undefined;
    constructor(readonly name: string) {}
    remove(): void {
      if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1);
      this.parent = undefined;
    }
  }

  it('follows the functions in order: a row made once per name, rows of names gone removed, each filled', () => {
    const tbody = new Body();
    const rows = new Map<string, { row: Row; filled: number }>();
    let made = 0;
    const sync = (names: string[]) =>
      syncRows(
        tbody as unknown as HTMLElement,
        rows as unknown as Map<string, { row: HTMLElement; filled: number }>,
        names.map((name) => ({ name })),
        (item) => (made++, { row: new Row(item.name) as unknown as HTMLElement, filled: 0 }),
        (_item, entry) => void entry.filled++,
      );
    sync(['a', 'b', 'c']);
    expect(tbody.children.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    sync(['c', 'a', 'd']);
    expect(tbody.children.map((r) => r.name)).toEqual(['c', 'a', 'd']);
    expect([...rows.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(made).toBe(4);
    expect(rows.get('a')?.filled).toBe(2);
    expect(rows.get('d')?.filled).toBe(1);
  });
});
