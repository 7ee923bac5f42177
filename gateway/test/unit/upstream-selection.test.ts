import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EndpointTable } from '../../src/upstream/endpoints.js';
import { RoundRobin } from '../../src/upstream/round-robin.js';

const log = pino({ level: 'silent' });

describe('RoundRobin', () => {
  it('cycles over every address in turn', () => {
    const rr = new RoundRobin(['a', 'b', 'c']);
    expect(Array.from({ length: 6 }, () => rr.next())).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('skips the address to avoid when another exists, not when it is the only one', () => {
    const rr = new RoundRobin(['a', 'b']);
    expect(rr.next('a')).toBe('b');
    expect(rr.next('a')).toBe('b');
    expect(new RoundRobin(['a']).next('a')).toBe('a');
    expect(new RoundRobin([]).next()).toBeUndefined();
  });

  it('spreads evenly across a replaced list and forgets a removed address', () => {
    const rr = new RoundRobin(['a', 'b']);
    rr.next();
    rr.replace(['a', 'b', 'c', 'd']);
    expect(new Set(Array.from({ length: 4 }, () => rr.next()))).toEqual(new Set(['a', 'b', 'c', 'd']));
    const fair = new RoundRobin(['a', 'b', 'c', 'd']);
    const tally = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const address = fair.next()!;
      tally.set(address, (tally.get(address) ?? 0) + 1);
    }
    expect([...tally.values()]).toEqual([100, 100, 100, 100]);
    fair.remove('b');
    expect(new Set(Array.from({ length: 9 }, () => fair.next()))).toEqual(new Set(['a', 'c', 'd']));
  });
});

describe('EndpointTable', () => {
  function table(answers: string[][]) {
    let clock = 0;
    const lookups: string[] = [];
    const resolve = async (name: string) => {
      lookups.push(name);
      return answers[Math.min(lookups.length - 1, answers.length - 1)]!;
    };
    const endpoints = new EndpointTable(resolve, 1000, log, () => clock);
    return { endpoints, lookups, advance: (ms: number) => (clock += ms) };
  }

  it('looks a function up once, then round-robins from the cache without DNS per request', async () => {
    const { endpoints, lookups } = table([['10.0.0.1:8080', '10.0.0.2:8080']]);
    const picks = [];
    for (let i = 0; i < 4; i++) picks.push(await endpoints.select('fn'));
    expect(picks).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.1:8080', '10.0.0.2:8080']);
    expect(lookups).toEqual(['fn']);
  });

  it('refreshes a stale list in the background and serves the old one meanwhile', async () => {
    const { endpoints, lookups, advance } = table([['10.0.0.1:8080'], ['10.0.0.3:8080']]);
    expect(await endpoints.select('fn')).toBe('10.0.0.1:8080');
    advance(1500);
    expect(await endpoints.select('fn')).toBe('10.0.0.1:8080'); // served while the lookup runs
    await new Promise((r) => setImmediate(r));
    expect(lookups.length).toBe(2);
    expect(await endpoints.select('fn')).toBe('10.0.0.3:8080');
  });

  it('after a refused connection picks another task, and looks up again when none is left', async () => {
    const { endpoints, lookups } = table([['10.0.0.1:8080', '10.0.0.2:8080'], ['10.0.0.2:8080', '10.0.0.4:8080']]);
    const first = (await endpoints.select('fn'))!;
    endpoints.reject('fn', first);
    const second = await endpoints.select('fn', first);
    expect(second).not.toBe(first);
    expect(second).toBeDefined();
    await new Promise((r) => setImmediate(r));
    expect(lookups.length).toBe(2); // rejecting marked the list stale
  });

  it('answers undefined for a function without tasks, and finds tasks that appear later', async () => {
    const { endpoints } = table([[], ['10.0.0.9:8080']]);
    expect(await endpoints.select('fn')).toBeUndefined();
    expect(await endpoints.select('fn')).toBe('10.0.0.9:8080');
  });

  it('after a wake, requests that all waited for it drop the old addresses once and share the new lookup and the round-robin', async () => {
    const { endpoints, lookups, advance } = table([[], ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']]);
    expect(await endpoints.select('fn')).toBeUndefined(); // at zero: nothing to send to
    advance(10);
    const waitingSince = endpoints.now(); // six requests start waiting for the wake
    advance(1000); // the wake takes a second
    const picks = await Promise.all(
      Array.from({ length: 6 }, async () => {
        endpoints.forgetOlderThan('fn', waitingSince);
        return endpoints.select('fn');
      }),
    );
    expect(lookups.length).toBe(2); // the one before the wake, and one after it
    expect(picks).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  });

  it('shares one lookup between concurrent requests', async () => {
    const { endpoints, lookups } = table([['10.0.0.1:8080']]);
    await Promise.all(Array.from({ length: 10 }, () => endpoints.select('fn')));
    expect(lookups.length).toBe(1);
  });
});
