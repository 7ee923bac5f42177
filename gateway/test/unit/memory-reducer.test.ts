// The memory reducer: when it collects (quiet long enough and grown), and
// that its collection gives back pages a plain gc() keeps, in this very process.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { collector, GROWTH_BYTES, MemoryReducer, shouldReduce, type Collect } from '../../src/core/memory-reducer.js';

const log = pino({ level: 'silent' });
const MiB = 1 << 20;

describe('shouldReduce', () => {
  it('collects only when the event loop was quiet long enough and the memory grew since the last reduction', () => {
    const quiet = { quietMs: 60_000, quietNeededMs: 60_000 };
    expect(shouldReduce({ ...quiet, rss: 200 * MiB, rssAfterLast: 100 * MiB })).toBe(true);
    expect(shouldReduce({ ...quiet, quietMs: 50_000, rss: 200 * MiB, rssAfterLast: 100 * MiB })).toBe(false);
    expect(shouldReduce({ ...quiet, rss: 100 * MiB + GROWTH_BYTES - 1, rssAfterLast: 100 * MiB })).toBe(false);
    // A quiet time of 0 still needs one idle interval: a busy program is never paused.
    expect(shouldReduce({ quietMs: 0, quietNeededMs: 0, rss: 200 * MiB, rssAfterLast: 100 * MiB })).toBe(false);
    expect(shouldReduce({ quietMs: 10_000, quietNeededMs: 0, rss: 200 * MiB, rssAfterLast: 100 * MiB })).toBe(true);
  });
});

describe('MemoryReducer', () => {
  it('collects once after a busy spell, then not again until the memory grows anew', () => {
    let rss = 120 * MiB;
    let utilization = 0.9;
    const calls: Parameters<Collect>[0][] = [];
    const collect: Collect = (options) => {
      calls.push(options);
      rss = 60 * MiB;
    };
    const reducer = new MemoryReducer({ intervalMs: 10_000, quietMs: 30_000, log, collect, rss: () => rss, utilization: () => utilization });
    expect(reducer.check()).toBe(false); // busy
    utilization = 0.01;
    expect(reducer.check()).toBe(false); // quiet for 10 s
    expect(reducer.check()).toBe(false); // 20 s
    expect(reducer.check()).toBe(true); // 30 s
    expect(calls).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    expect(reducer.check()).toBe(false); // nothing grew since
    rss = 60 * MiB + GROWTH_BYTES;
    expect(reducer.check()).toBe(true); // still quiet, and grown
    expect(calls).toHaveLength(2);
  });

  it('starts the quiet time again after every busy interval: short pauses between bursts never collect', () => {
    let utilization = 0.9;
    let collected = 0;
    const reducer = new MemoryReducer({ intervalMs: 10_000, quietMs: 60_000, log, collect: () => collected++, rss: () => 500 * MiB, utilization: () => utilization });
    // Bursts with 50 s pauses: each pause ends before the quiet time is reached.
    for (let burst = 0; burst < 5; burst++) {
      utilization = 0.9;
      reducer.check();
      utilization = 0.01;
      for (let i = 0; i < 5; i++) reducer.check();
    }
    expect(collected).toBe(0);
    reducer.check(); // the sixth quiet interval in a row: 60 s
    expect(collected).toBe(1);
  });

  it('does nothing without a collector, and never when the interval is 0', () => {
    const reducer = new MemoryReducer({ intervalMs: 0, quietMs: 0, log, collect: undefined, rss: () => 500 * MiB, utilization: () => 0 });
    reducer.start();
    expect(reducer.check()).toBe(false);
    reducer.stop();
  });

  it("gives back the pages of dropped objects that V8's plain gc() keeps", async () => {
    const gc = collector();
    expect(gc).toBeTypeOf('function');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    let garbage: unknown[] | undefined = [];
    for (let i = 0; i < 400_000; i++) garbage.push({ a: i, b: `x${i}`, c: [i, i + 1] });
    garbage = undefined;
    gc!({ type: 'major', execution: 'sync', flavor: 'regular' });
    await settle();
    const afterPlain = process.memoryUsage.rss();
    const reducer = new MemoryReducer({ intervalMs: 10_000, quietMs: 10_000, log, utilization: () => 0 });
    expect(reducer.check()).toBe(true);
    await settle();
    const afterReduce = process.memoryUsage.rss();
    // 400k small objects take ~70 MiB; a plain collection frees them but keeps most of their pages.
    expect(afterPlain - afterReduce).toBeGreaterThan(20 * MiB);
  });
});
