// /ui answers with a strict Content-Security-Policy and frame protection, and
// the UI's own files need nothing the policy forbids (no inline script,
// style or handler). The browser tests check the same in chromium.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY } from '../../src/programs/gateway/routes/ui.js';
import { startGateway } from './support/test-gateway.js';

const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

describe('/ui security headers', () => {
  it.each(['/ui/', '/ui/index.html', '/ui/js/main.js', '/ui/no-such-file', '/ui'])('%s carries the policy, X-Frame-Options: DENY and nosniff', async (path) => {
    const gw = await startGateway({ env: { UI_DIR } });
    cleanups.push(() => gw.close());
    const res = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
    await res.arrayBuffer();
    expect(res.headers.get('content-security-policy')).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('allows only the gateway itself: no inline script or style, no framing by anyone', () => {
    const policy = directives(UI_CONTENT_SECURITY_POLICY);
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
    for (const [name, values] of policy) {
      for (const forbidden of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:']) expect(values, name).not.toContain(forbidden);
    }
  });

  it("leaves the gateway's other answers alone (functions serve their own content)", async () => {
    const gw = await startGateway({ env: { UI_DIR } });
    cleanups.push(() => gw.close());
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.headers.get('content-security-policy')).toBeNull();
  });
});

describe("the UI's files under the policy", () => {
  const files = filesUnder(UI_DIR);
  const html = files.filter((f) => f.endsWith('.html'));
  const scripts = files.filter((f) => f.endsWith('.js'));

  it('has HTML with only external scripts and stylesheets, and no inline handlers or styles', () => {
    expect(html.length).toBeGreaterThan(0);
    for (const file of html) {
      const text = readFileSync(file, 'utf8');
      for (const tag of text.match(/<script\b[^>]*>/gi) ?? []) expect(tag, file).toMatch(/\ssrc=/);
      expect(text, file).not.toMatch(/<style\b/i);
      expect(text, file).not.toMatch(/\sstyle\s*=/i);
      expect(text, file).not.toMatch(/\son[a-z]+\s*=/i);
      expect(text, file).not.toMatch(/javascript:/i);
    }
  });

  it('has scripts that never write HTML strings, style attributes or inline handlers', () => {
    expect(scripts.length).toBeGreaterThan(5);
    for (const file of scripts) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write/);
      expect(text, file).not.toMatch(/setAttribute\(\s*['"](style|on[a-z]+)['"]/);
      expect(text, file).not.toMatch(/\beval\(|new Function\(/);
      // h('x', { style: ... }) would become a style attribute.
      expect(text, file).not.toMatch(/[{,]\s*style\s*:/);
    }
  });
});
