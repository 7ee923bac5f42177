// The chart's scales, paths and data, without a browser.
import { describe, expect, it } from 'vitest';
import { agoLabel, niceCeil, rateAxisMax, replicaAxisMax, scale, tickEvery } from '../../../ui/js/chart-scale.js';
import { chartData, summaryData } from '../../../ui/js/chart-data.js';
import { areaPath, linePath, stepPath } from '../../../ui/js/chart.js';
import type { FunctionHistory, FunctionsHistory } from '../../../ui/js/types.js';

describe('chart scales', () => {
  it('rounds axis tops up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 1.2, 3, 7, 12, 180].map((v) => niceCeil(v, 0.1))).toEqual([0.1, 0.5, 1, 2, 5, 10, 20, 200]);
    expect(rateAxisMax(0)).toBe(2);
    expect(rateAxisMax(9)).toBe(20);
    expect(rateAxisMax(150)).toBe(200);
    expect([0, 1, 4, 5, 20].map(replicaAxisMax)).toEqual([4, 4, 4, 8, 20]);
  });

  it('spaces time ticks so every window has at most six', () => {
    expect([5, 15, 60, 360, 1440].map((minutes) => tickEvery(minutes * 60_000) / 60_000)).toEqual([1, 5, 10, 60, 240]);
    for (const minutes of [5, 15, 60, 360, 1440]) expect((minutes * 60_000) / tickEvery(minutes * 60_000)).toBeLessThanOrEqual(6);
  });

  it('labels ticks by how long ago', () => {
    expect([0, 45_000, 300_000, 3_600_000, 5_400_000, 86_400_000].map(agoLabel)).toEqual(['now', '-45s', '-5m', '-1h', '-1h30m', '-24h']);
  });

  it('maps values linearly and clamps them to the range', () => {
    const x = scale(100, 200, 0, 50);
    expect([x(100), x(150), x(200), x(0), x(999)]).toEqual([0, 25, 50, 0, 50]);
    expect(scale(0, 10, 100, 0)(5)).toBe(50); // y axes grow upwards
  });
});

describe('chart paths', () => {
  const x = (t: number) => t;
  const y = (v: number) => 100 - v;
  const points = [{ t: 0, v: 10 }, { t: 10, v: 20 }, { t: 11, v: null }, { t: 30, v: 5 }];

  it('breaks lines and areas at gaps', () => {
    expect(linePath(points, x, y)).toBe('M0.0,90.0L10.0,80.0M30.0,95.0');
    expect(areaPath(points, x, y, 100)).toBe('M0.0,100L0.0,90.0L10.0,80.0L10.0,100ZM30.0,100L30.0,95.0L30.0,100Z');
  });

  it('draws replicas as steps carried on to the right edge', () => {
    expect(stepPath([{ t: 0, v: 1 }, { t: 10, v: 5 }], x, y, 50)).toBe('M0.0,99.0H10.0V95.0H50.0');
    expect(stepPath([], x, y, 50)).toBe('');
  });
});

describe('chartData', () => {
  const now = 1_000_000_000;
  const end = now / 1000 - 1;
  const history: FunctionHistory = {
    name: 'fn',
    window: '5m',
    start: end - 300,
    end,
    step: 5,
    rate: { '200': [[end - 20, 4], [end - 10, 6]], '500': [[end - 20, 0], [end - 10, 1]], '404': [[end - 10, 0]] },
    duration: [[end - 10, 0.004]],
    replicas: [[end - 20, 1], [end - 10, 4]],
    availableReplicas: [[end - 20, 1], [end - 10, 1]],
    events: [{ time: end - 10, event: 'up', count: 1 }],
  };
  // The history ends 1 s ago: the first live sample is older (the history covers it), the second newer.
  const live = [
    { t: now - 2500, count: 10, rate: 9, replicas: 4, available: 1 },
    { t: now - 500, count: 20, rate: 5, replicas: 4, available: 4 },
  ];

  it('shows the history, then the live samples after it, with each error code and the events', () => {
    const data = chartData({ history, receivedAt: now, live, liveEvents: [], windowMs: 300_000, now });
    expect(data.start).toBe(now - 300_000);
    expect(data.historyEnd).toBe(end * 1000);
    expect(data.rate.map((p) => p.v)).toEqual([4, 7, 5]);
    expect(data.historyPoints).toBe(2);
    // Codes other than 200 that had any invocation; 404 never did.
    expect(data.codes.map((c) => [c.code, c.peak])).toEqual([['500', 1]]);
    expect(data.replicas.map((p) => p.v)).toEqual([1, 4, 4]);
    expect(data.available.map((p) => p.v)).toEqual([1, 1, 4]);
    expect(data.duration).toEqual([{ t: (end - 10) * 1000, v: 0.004 }]);
    expect(data.events).toEqual([{ t: (end - 10) * 1000, kind: 'up', count: 1, label: 'up' }]);
  });

  it('shows only the live part when there is no history', () => {
    const data = chartData({ history: null, receivedAt: 0, live, liveEvents: [{ t: now - 2000, from: 1, to: 4 }], windowMs: 300_000, now });
    expect(data.historyEnd).toBeNull();
    expect(data.rate.map((p) => p.v)).toEqual([9, 5]);
    expect(data.duration).toEqual([]);
    expect(data.events.map((e) => e.label)).toEqual(['1→4']);
  });

  it('leaves out what is older than the window', () => {
    const data = chartData({ history: { ...history, rate: { '200': [[end - 400, 1], [end - 10, 2]] } }, receivedAt: now, live: [], liveEvents: [], windowMs: 300_000, now });
    expect(data.rate.map((p) => p.v)).toEqual([2]);
  });

  it('gives each function of the all-functions history its own line, live only for a function the answer lacks', () => {
    const all: FunctionsHistory = { window: '15m', start: end - 900, end, step: 10, functions: { fn: { rate: [[end - 10, 3]], duration: [], replicas: [[end - 10, 2]], availableReplicas: [] } } };
    const own = summaryData({ history: all, name: 'fn', receivedAt: now, live, windowMs: 900_000, now });
    expect(own.rate.map((p) => p.v)).toEqual([3, 5]);
    expect(own.historyPoints).toBe(1);
    const other = summaryData({ history: all, name: 'new', receivedAt: now, live, windowMs: 900_000, now });
    expect(other.rate.map((p) => p.v)).toEqual([9, 5]);
    expect(other.historyPoints).toBe(0);
  });
});
