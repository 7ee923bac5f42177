// Which instance an invocation goes to: round-robin over the addresses the
// view gives, skipping an address that failed to connect for a while.
import { describe, expect, it } from 'vitest';
import { EndpointTable } from '../../src/core/upstream/endpoints.js';
import { RoundRobin } from '../../src/core/upstream/round-robin.js';

describe('RoundRobin', () => {
  it('cycles over every address in turn', () => {
    const rr = new RoundRobin(['a', 'b', 'c']);
    expect(Array.from({ length: 6 }, () => rr.next())).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('skips the addresses the caller cannot use, and answers undefined when none is left', () => {
    const rr = new RoundRobin(['a', 'b']);
    expect(Array.from({ length: 3 }, () => rr.next((x) => x !== 'a'))).toEqual(['b', 'b', 'b']);
    expect(rr.next(() => false)).toBeUndefined();
    expect(new RoundRobin([]).next()).toBeUndefined();
  });

  it('keeps spreading evenly across a replaced list', () => {
    const rr = new RoundRobin(['a', 'b']);
    rr.next();
    rr.replace(['a', 'b', 'c', 'd']);
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const x = rr.next()!;
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([100, 100, 100, 100]);
  });
});

describe('EndpointTable', () => {
  function table() {
    let now = 1_000_000;
    const endpoints = new EndpointTable(() => now);
    return { endpoints, advance: (ms: number) => (now += ms) };
  }

  it('answers the addresses the view gave, round-robin, with no lookup of its own', () => {
    const { endpoints } = table();
    endpoints.set('fn.ns', ['10.0.0.1:8080', '10.0.0.2:8080']);
    expect([endpoints.select('fn.ns'), endpoints.select('fn.ns'), endpoints.select('fn.ns')]).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.1:8080']);
    expect(endpoints.select('other.ns')).toBeUndefined();
    endpoints.set('fn.ns', []);
    expect(endpoints.select('fn.ns')).toBeUndefined();
  });

  it('avoids one address when another exists', () => {
    const { endpoints } = table();
    endpoints.set('fn.ns', ['a:1', 'b:1']);
    expect(Array.from({ length: 4 }, () => endpoints.select('fn.ns', 'a:1'))).toEqual(['b:1', 'b:1', 'b:1', 'b:1']);
    endpoints.set('fn.ns', ['a:1']);
    expect(endpoints.select('fn.ns', 'a:1')).toBeUndefined();
  });

  it('leaves out an address that failed to connect, for 1 s, then longer while it keeps failing, until it answers', () => {
    const { endpoints, advance } = table();
    endpoints.set('fn.ns', ['a:1', 'b:1']);
    endpoints.reject('a:1');
    expect(Array.from({ length: 4 }, () => endpoints.select('fn.ns'))).toEqual(['b:1', 'b:1', 'b:1', 'b:1']);
    advance(1_001);
    expect(new Set(Array.from({ length: 4 }, () => endpoints.select('fn.ns')))).toEqual(new Set(['a:1', 'b:1']));
    endpoints.reject('a:1'); // failed again: 2 s now
    advance(1_500);
    expect(Array.from({ length: 3 }, () => endpoints.select('fn.ns'))).toEqual(['b:1', 'b:1', 'b:1']);
    advance(600);
    endpoints.accept('a:1');
    endpoints.reject('a:1'); // trusted again in between: back to 1 s
    advance(1_001);
    expect(new Set(Array.from({ length: 4 }, () => endpoints.select('fn.ns')))).toEqual(new Set(['a:1', 'b:1']));
  });

  it('answers undefined while every address is left out, but still counts them', () => {
    const { endpoints } = table();
    endpoints.set('fn.ns', ['a:1']);
    endpoints.reject('a:1');
    expect(endpoints.select('fn.ns')).toBeUndefined();
    expect(endpoints.size('fn.ns')).toBe(1);
    endpoints.forget('fn.ns');
    expect(endpoints.size('fn.ns')).toBe(0);
  });

  it('routes to a starting instance the readiness probe found ready, until the orchestrator lists it or it stops starting', () => {
    const { endpoints } = table();
    endpoints.set('fn.ns', [], ['10.0.0.9:8080']);
    endpoints.admit('fn.ns', '10.0.0.9:8080');
    expect(endpoints.select('fn.ns')).toBe('10.0.0.9:8080');
    // Not admitted: an address that is not a starting instance of the function.
    endpoints.admit('fn.ns', '10.9.9.9:8080');
    expect(new Set([endpoints.select('fn.ns'), endpoints.select('fn.ns')])).toEqual(new Set(['10.0.0.9:8080']));
    // Listed as ready now: counted once.
    endpoints.set('fn.ns', ['10.0.0.9:8080'], ['10.0.0.9:8080']);
    expect(endpoints.size('fn.ns')).toBe(1);
    // Gone (it failed, or is being removed): no longer routed.
    endpoints.set('fn.ns', [], ['10.0.0.9:8080']);
    endpoints.admit('fn.ns', '10.0.0.9:8080');
    endpoints.set('fn.ns', [], []);
    expect(endpoints.select('fn.ns')).toBeUndefined();
  });
});
