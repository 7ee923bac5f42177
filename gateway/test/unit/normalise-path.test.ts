import { describe, expect, it } from 'vitest';
import { needsAuth, normalisePath } from '../../src/programs/gateway/http/normalise-path.js';

describe('normalisePath', () => {
  it.each([
    ['/system/functions', '/system/functions'],
    ['//system/functions', '/system/functions'],
    ['/function/../system/functions', '/system/functions'],
    ['/function/%2e%2e/system/functions', '/system/functions'],
    ['/function/fn/./a/../b', '/function/fn/b'],
    ['/../../system/info', '/system/info'],
    ['/function/fn/a%20b/', '/function/fn/a%20b/'],
    ['/', '/'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalisePath(raw)).toEqual({ ok: true, path: expected });
  });

  it.each(['/system%2Ffunctions', '/system%2ffunctions', '/function/x/%5c..', '/a\\b', '/a%00'])('refuses %s', (raw) => {
    expect(normalisePath(raw).ok).toBe(false);
  });
});

describe('needsAuth', () => {
  it.each(['/system/functions', '/system', '/SYSTEM/functions', '/System/Info', '/ui', '/ui/', '/UI/index.html'])('%s needs credentials', (path) => {
    expect(needsAuth(path)).toBe(true);
  });
  it.each(['/function/system', '/async-function/fn', '/healthz', '/metrics', '/', '/systemd', '/uix'])('%s stays open', (path) => {
    expect(needsAuth(path)).toBe(false);
  });
});
