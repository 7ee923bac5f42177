// Joining the history from Prometheus with what the page sees live.
import { describe, expect, it } from 'vitest';
import { clockShift, eventKind, joinLive, mergeEvents, pointsOf, statsOf, stepsOf, totalRate, windowOf, WINDOWS } from '../../../ui/js/history.js';

const sample = (t: number, rate: number | null, replicas = 1, available = replicas) => ({ t, count: 0, rate, replicas, available });

describe('history helpers', () => {
  it('offers the windows the gateway accepts, 15 min by default', () => {
    expect(WINDOWS.map((w) => w.name)).toEqual(['5m', '15m', '1h', '6h', '24h']);
    expect(windowOf('1h').ms).toBe(3_600_000);
    expect(windowOf('2h').name).toBe('15m');
  });

  it('turns [unix seconds, value] pairs into points in ms, with a gap where samples are missing', () => {
    expect(pointsOf([[100, 1], [110, 2], [150, 3]], 25_000)).toEqual([
      { t: 100_000, v: 1 },
      { t: 110_000, v: 2 },
      { t: 110_001, v: null },
      { t: 150_000, v: 3 },
    ]);
    expect(pointsOf([[100, 1]], 25_000, 2_000)).toEqual([{ t: 102_000, v: 1 }]);
    expect(pointsOf(undefined, 1)).toEqual([]);
  });

  it('adds the status codes up at each step', () => {
    expect(totalRate({ '200': [[10, 1], [20, 2]], '500': [[20, 0.5], [30, 1]] })).toEqual([[10, 1], [20, 2.5], [30, 1]]);
    expect(totalRate({})).toEqual([]);
  });

  it('takes history up to its end and the live samples after it, breaking the line where live polls stopped', () => {
    const history = [{ t: 1000, v: 3 }, { t: 2000, v: 4 }, { t: 3000, v: 5 }];
    const live = [sample(1500, 9), sample(2500, 9), sample(3500, 6), sample(5500, 7), sample(20_000, 8)];
    expect(joinLive(history, live, (s) => s.rate, 2000)).toEqual([
      { t: 1000, v: 3 },
      { t: 2000, v: 4 },
      { t: 2500, v: 9 },
      { t: 3500, v: 6 },
      { t: 5500, v: 7 },
      { t: 5501, v: null },
      { t: 20_000, v: 8 },
    ]);
    // Without history (Prometheus down) the live samples alone.
    expect(joinLive(history, live.slice(0, 2), (s) => s.replicas, null)).toEqual([{ t: 1500, v: 1 }, { t: 2500, v: 1 }]);
  });

  it('keeps the live samples older than the first value Prometheus has (a function it has not scraped yet)', () => {
    // Seen live at 1 replica, then scaled to 2; Prometheus's first scrape of the function came after the scale.
    const history = [{ t: 1000, v: null }, { t: 2000, v: null }, { t: 3000, v: 2 }];
    const live = [sample(1500, 0, 1), sample(2500, 0, 2, 1), sample(4000, 0, 2)];
    const joined = joinLive(history, live, (s) => s.replicas, 3000);
    expect(joined).toEqual([{ t: 1500, v: 1 }, { t: 2500, v: 2 }, { t: 3000, v: 2 }, { t: 4000, v: 2 }]);
    expect(stepsOf(joined)).toEqual([1, 2]);
    // No value in the history at all: the live samples alone, none lost.
    expect(joinLive([{ t: 1000, v: null }], live, (s) => s.replicas, 3000).map((p) => p.v)).toEqual([1, 2, 2]);
  });

  it('names replica changes as the gateway counts them', () => {
    expect([eventKind(1, 5), eventKind(5, 1), eventKind(2, 0), eventKind(0, 1)]).toEqual(['up', 'down', 'zero', 'wake']);
  });

  it('keeps a scale event seen live once, even when Prometheus counted it too, and keeps counted ones the page did not see', () => {
    const step = 10_000;
    const counted = [
      { time: 100, event: 'up' as const, count: 1 }, // before the page opened
      { time: 200, event: 'up' as const, count: 1 }, // seen live at 194 s
      { time: 300, event: 'down' as const, count: 2 },
    ];
    const seen = [
      { t: 194_000, from: 1, to: 5 },
      { t: 296_000, from: 5, to: 1 },
      { t: 400_000, from: 1, to: 1 }, // no change: not an event
    ];
    expect(mergeEvents(counted, seen, step)).toEqual([
      { t: 100_000, kind: 'up', count: 1, label: 'up' },
      { t: 194_000, kind: 'up', label: '1→5', from: 1, to: 5 },
      { t: 296_000, kind: 'down', label: '5→1', from: 5, to: 1 },
      // Two counted, one of them seen live.
      { t: 300_000, kind: 'down', count: 1, label: 'down' },
    ]);
    // Another kind at the same time is another event.
    expect(mergeEvents([{ time: 200, event: 'wake', count: 1 }], [{ t: 198_000, from: 1, to: 5 }], step)).toHaveLength(2);
    expect(mergeEvents([{ time: 200, event: 'up', count: 3 }], [], step)[0]?.label).toBe('up ×3');
  });

  it('sums points up: mean, peak, latest; nothing for no values', () => {
    expect(statsOf([{ t: 1, v: 2 }, { t: 2, v: null }, { t: 3, v: 6 }, { t: 4, v: 1 }])).toEqual({ mean: 3, peak: 6, last: 1 });
    expect(statsOf([{ t: 1, v: null }])).toEqual({ mean: null, peak: null, last: null });
  });

  it('corrects for a server clock that is off, not for the request time', () => {
    expect(clockShift(1000, 1_002_000)).toBe(0);
    expect(clockShift(1000, 1_060_000)).toBe(60_000);
    expect(clockShift(1000, 940_000)).toBe(-60_000);
  });

  it('lists the steps of a replica line', () => {
    expect(stepsOf([{ t: 1, v: 1 }, { t: 2, v: 1 }, { t: 3, v: 5 }, { t: 4, v: null }, { t: 5, v: 5 }, { t: 6, v: 1 }])).toEqual([1, 5, 1]);
  });
});
