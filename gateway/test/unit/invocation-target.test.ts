// Which requests take the invocation path before Koa: the same normalisation
// as auth and routing, and never a protected path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invocationTarget } from '../../src/programs/gateway/http/invocation-target.js';
import { needsAuth, normalisePath } from '../../src/programs/gateway/http/normalise-path.js';

describe('invocationTarget', () => {
  it('takes /function/<name> and /function/<name>/<path...>, with the query as sent', () => {
    expect(invocationTarget('/function/fn')).toEqual({ name: 'fn', path: '/' });
    expect(invocationTarget('/function/fn/')).toEqual({ name: 'fn', path: '/' });
    expect(invocationTarget('/function/fn/orders/42?expand=true&x=%20y')).toEqual({ name: 'fn', path: '/orders/42?expand=true&x=%20y' });
    expect(invocationTarget('/function/fn?')).toEqual({ name: 'fn', path: '/' });
    expect(invocationTarget('/function/f%6E')).toEqual({ name: 'fn', path: '/' });
  });

  it('resolves dot segments and doubled slashes like the auth check does', () => {
    expect(invocationTarget('//function//fn')).toEqual({ name: 'fn', path: '/' });
    expect(invocationTarget('/x/../function/fn/a/./b')).toEqual({ name: 'fn', path: '/a/b' });
    expect(invocationTarget('/function/fn/%2e%2e/other')).toEqual({ name: 'other', path: '/' });
  });

  it('leaves everything else to the Koa app', () => {
    for (const url of ['/function/', '/function', '/functions/fn', '/Function/fn', '/function/../system/functions', '/function/fn/../../system/functions',
      '/function/fn%2Fx', '/function/%E0%A4%A', '/system/functions', '/ui/', 'http://host/function/fn', '*']) {
      expect(invocationTarget(url), url).toBeUndefined();
    }
  });

  it('never throws, and what it takes is a /function/ path that needs no credentials', () => {
    const segment = fc.constantFrom('function', 'fn', '..', '.', '', '%2e%2e', '%2E', 'system', 'ui', 'a%20b', '%', 'Function', '%2f', 'x?y=1', '#');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.option(fc.string({ maxLength: 12 })), (segments, query) => {
        const url = `/${segments.join('/')}${query === null ? '' : `?${query}`}`;
        const target = invocationTarget(url);
        if (!target) return;
        const rawPath = url.split('?')[0]!;
        const normalised = normalisePath(rawPath);
        expect(normalised.ok).toBe(true);
        if (!normalised.ok) return;
        expect(normalised.path.startsWith('/function/')).toBe(true);
        expect(needsAuth(normalised.path)).toBe(false);
        expect(target.path.startsWith('/')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
