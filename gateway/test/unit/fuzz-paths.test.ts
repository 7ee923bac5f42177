// Property tests of the path handling on the auth boundary: whatever spelling
// of a protected path a client sends (dot segments, doubled slashes, %2e,
// mixed case, percent-encoded letters, other methods), without credentials it
// never reaches a /system route or the UI; with credentials the equivalent
// spellings reach the same route as the plain path.
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsAuth, normalisePath } from '../../src/programs/gateway/http/normalise-path.js';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const credentials = { user: 'admin', password: 'fuzz-secret' };
const goodAuth = `Basic ${Buffer.from('admin:fuzz-secret').toString('base64')}`;

/** Sends the path exactly as written (fetch would clean it up). */
function send(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    // Node's client sends a DELETE body without Content-Length (invalid HTTP): say it.
    const withLength = method === 'GET' ? headers : { ...headers, 'content-length': '2' };
    const req = httpRequest({ host: hostname, port, path, method, headers: withLength }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : '{}');
  });
}

const protectedPaths = ['/system/functions', '/system/info', '/system/function/fn', '/system/logs', '/system/alert', '/system/scale-function/fn', '/ui/', '/ui'];

/** Dot-only noise that resolves away: the result means the same path. */
const neutralNoise = fc.constantFrom('', '.', '%2e', '%2E', 'x/..', 'x/%2e%2e', 'x/%2E%2e', 'function/..', 'a/b/../..');

/** A spelling of `path` with neutral noise between its segments (same meaning). */
const equivalentSpelling = (path: string) =>
  fc.array(neutralNoise, { minLength: path.split('/').length, maxLength: path.split('/').length }).map((noise) => {
    const segments = path.split('/').slice(1);
    let out = '';
    segments.forEach((segment, i) => {
      if (noise[i]) out += '/' + noise[i];
      out += '/' + segment;
    });
    return path.endsWith('/') && !out.endsWith('/') ? out + '/' : out;
  });

/** Further tricks that may change the meaning: case, percent-encoded letters, prefixes. */
const trickySpelling = (path: string) =>
  fc
    .tuple(
      equivalentSpelling(path),
      fc.array(fc.boolean(), { minLength: path.length * 2, maxLength: path.length * 2 }),
      fc.array(fc.boolean(), { minLength: path.length * 2, maxLength: path.length * 2 }),
    )
    .map(([spelled, upper, encode]) => {
      let out = '';
      [...spelled].forEach((ch, i) => {
        const c = upper[i] ? ch.toUpperCase() : ch;
        out += encode[i] && /[a-z]/i.test(c) ? `%${c.charCodeAt(0).toString(16)}` : c;
      });
      return out;
    })
    .chain((spelled) => fc.constantFrom('', '/', '/function/..', '/function/fn/../..', '/async-function/%2e%2e').map((prefix) => prefix + spelled));

describe('normalisePath and needsAuth (pure)', () => {
  it('never throws, and its result is canonical and stable', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (raw) => {
        const once = normalisePath('/' + raw);
        if (!once.ok) return;
        expect(once.path.startsWith('/')).toBe(true);
        expect(once.path).not.toMatch(/\/\/|\/\.\.?(\/|$)/);
        expect(normalisePath(once.path)).toEqual(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('any dot/slash/case spelling of /system or /ui needs credentials, or is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom(...protectedPaths).chain(equivalentSpelling), fc.boolean(), (spelled, upper) => {
        const normalised = normalisePath(upper ? spelled.toUpperCase() : spelled);
        if (normalised.ok) expect(needsAuth(normalised.path)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the auth boundary of the running app', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ credentials });
    gw.provider.functions.set('fn', status('fn'));
  });
  afterAll(async () => gw.close());

  it('no spelling of a protected path gets past it without credentials, whatever the method', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...protectedPaths).chain(trickySpelling), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), async (path, method) => {
        const res = await send(gw.url, method, path);
        // 401: the guard; 400: refused path; 404: no route matches (e.g. "%73ystem").
        expect([400, 401, 404], `${method} ${path} -> ${res.status} ${res.body.slice(0, 80)}`).toContain(res.status);
        expect(gw.provider.calls).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('with credentials, an equivalent spelling reaches the same route as the plain path', async () => {
    const plain = (await send(gw.url, 'GET', '/system/functions', { authorization: goodAuth })).body;
    expect(JSON.parse(plain)).toHaveLength(1);
    await fc.assert(
      fc.asyncProperty(equivalentSpelling('/system/functions'), async (path) => {
        const res = await send(gw.url, 'GET', path, { authorization: goodAuth });
        expect(res.status, path).toBe(200);
        expect(res.body).toBe(plain);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses malformed or wrong Authorization headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
          fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
          fc.constantFrom(`Basic ${Buffer.from('admin:fuzz-secretX').toString('base64')}`, `Basic ${Buffer.from('Admin:fuzz-secret').toString('base64')}`, 'Basic', 'Bearer x', `basic  ${Buffer.from('admin').toString('base64')}`),
        ),
        async (authorization) => {
          fc.pre(authorization !== goodAuth);
          const res = await send(gw.url, 'GET', '/system/functions', { authorization });
          expect(res.status, authorization).toBe(401);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('credentials and logs', () => {
  it('no credential, right or wrong, reaches the log, even at trace level', async () => {
    let logged = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((logged += String(chunk)), done()) });
    const gw = await startGateway({ credentials, log: pino({ level: 'trace' }, sink) });
    try {
      gw.provider.functions.set('fn', status('fn'));
      const secrets: string[] = [credentials.password];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...protectedPaths, '/function/not-deployed', '/system/functions?x=1', '/nothing'),
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
          fc.string({ minLength: 8, maxLength: 30 }).map((s) => `pw-${s.replace(/[^\x21-\x7e]/g, 'x')}`),
          fc.boolean(),
          async (path, method, wrongPassword, right) => {
            const password = right ? credentials.password : wrongPassword;
            secrets.push(password, Buffer.from(`admin:${password}`).toString('base64'));
            await send(gw.url, method, path, { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
          },
        ),
        { numRuns: 150 },
      );
      expect(logged.length).toBeGreaterThan(1000); // the requests were logged, at trace level
      for (const secret of secrets) expect(logged.includes(secret), 'a credential appears in the log').toBe(false);
    } finally {
      await gw.close();
    }
  });
});
