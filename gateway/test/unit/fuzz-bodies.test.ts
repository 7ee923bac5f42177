// Property tests of the request parsers, through the running app: whatever
// body or query a client sends to a /system route (any JSON, wrong types,
// unknown fields, not JSON at all), the answer is a 4xx naming what was
// wrong, never a 500, and the provider is called only for a valid request.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { swarmRules } from '../../src/programs/gateway/provider/swarm/rules.js';
import { isImageReference } from '../../src/programs/gateway/validation.js';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const NEW_FUNCTION_NAME = swarmRules.newFunctionName.pattern;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { SYSTEM_BODY_LIMIT: '16kb' } });
});
afterAll(async () => gw.close());
beforeEach(() => {
  gw.provider.functions.clear();
  gw.provider.functions.set('fn', status('fn'));
  gw.provider.calls.length = 0;
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
  return { status: res.status, text: await res.text() };
}

/** Values of every JSON type, to put where a field of another type belongs. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', '..', 'A', 'a.b', 'a/b', 'x'.repeat(64), 'fn', 'swarmfaas/echoit:0.1.0', 'UPPER/case', 'echo@sha256:zz'));

/** Deploy-shaped bodies: the right field names with random (often wrong) values, plus unknown fields. */
const deployBody = fc.record(
  {
    service: fc.oneof(text, anyJson),
    image: fc.oneof(text, anyJson),
    envProcess: fc.oneof(text, anyJson),
    network: fc.oneof(text, anyJson),
    envVars: fc.oneof(fc.dictionary(text, text, { maxKeys: 3 }), anyJson),
    labels: fc.oneof(fc.dictionary(text, text, { maxKeys: 3 }), anyJson),
    constraints: fc.oneof(fc.array(text, { maxLength: 3 }), anyJson),
    secrets: fc.oneof(fc.array(text, { maxLength: 3 }), anyJson),
    limits: fc.oneof(fc.record({ memory: fc.oneof(text, anyJson), cpu: fc.oneof(text, anyJson) }, { requiredKeys: [] }), anyJson),
    readOnlyRootFilesystem: anyJson,
    unknownField: anyJson,
  },
  { requiredKeys: [] },
);

const notJson = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '{"service":', '[1,2', 'null', '""', '0', 'true', '\u0000', '{"a":1}garbage'));

describe('POST and PUT /system/functions', () => {
  it('any body: 202 only for a valid deployment, else 4xx naming the field; never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(deployBody.map((b) => JSON.stringify(b)), anyJson.map((v) => JSON.stringify(v)), notJson), fc.constantFrom('POST', 'PUT'), async (body, method) => {
        gw.provider.calls.length = 0;
        const res = await call(method, '/system/functions', body);
        if (res.status === 202) {
          const parsed = JSON.parse(body) as { service: string; image: string };
          if (method === 'POST') expect(parsed.service).toMatch(NEW_FUNCTION_NAME);
          expect(isImageReference(parsed.image)).toBe(true);
          expect(gw.provider.calls).toEqual([`${method === 'POST' ? 'deploy' : 'update'} ${parsed.service}`]);
          gw.provider.functions.delete(parsed.service);
          gw.provider.functions.set('fn', status('fn'));
          return;
        }
        expect([400, 404, 409], `${method} ${body} -> ${res.status} ${res.text}`).toContain(res.status);
        if (res.status === 400) {
          expect(res.text).toMatch(/^invalid request: /);
          expect(gw.provider.calls).toEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses bodies over SYSTEM_BODY_LIMIT with 413 on every JSON route, changing nothing', async () => {
    const big = JSON.stringify({ service: 'big', image: 'a/b:1', envProcess: 'x'.repeat(17 * 1024) });
    for (const [method, path] of [['POST', '/system/functions'], ['PUT', '/system/functions'], ['DELETE', '/system/functions'], ['POST', '/system/alert'], ['POST', '/system/scale-function/fn']] as const) {
      const res = await call(method, path, big);
      expect(res.status, `${method} ${path}`).toBe(413);
      expect(res.text).toMatch(/larger than 16384 bytes/);
    }
    expect(gw.provider.calls).toEqual([]);
  });
});

describe('DELETE /system/functions, /system/scale-function, /system/alert, /system/logs', () => {
  it('DELETE: any body is 202 (a real function), 404 or 400; only a valid name reaches the provider', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ functionName: fc.oneof(text, anyJson) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), notJson), async (body) => {
        gw.provider.calls.length = 0;
        const res = await call('DELETE', '/system/functions', body);
        expect([202, 400, 404], `${body} -> ${res.status} ${res.text}`).toContain(res.status);
        if (res.status === 400) expect(gw.provider.calls).toEqual([]);
        if (res.status === 202) gw.provider.functions.set('fn', status('fn'));
      }),
      { numRuns: 300 },
    );
  });

  it('scale-function: any body or name is 202, 400 or 404; never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.record({ serviceName: fc.oneof(text, anyJson), replicas: fc.oneof(fc.integer({ min: -5, max: 5 }), anyJson) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), notJson),
        fc.constantFrom('fn', 'missing', 'UPPER', '%2e', 'a.b'),
        async (body, name) => {
          const res = await call('POST', `/system/scale-function/${name}`, body);
          expect([202, 400, 404], `${name} ${body} -> ${res.status} ${res.text}`).toContain(res.status);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('alert webhook: any payload is 200 or 400 naming the field; a refused one scales nothing', async () => {
    const alert = fc.record(
      { status: fc.oneof(fc.constantFrom('firing', 'resolved'), text, anyJson), labels: fc.oneof(fc.dictionary(text, text, { maxKeys: 3 }), fc.constant({ function_name: 'fn' }), anyJson), annotations: anyJson },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ version: anyJson, status: anyJson, alerts: fc.oneof(fc.array(alert, { maxLength: 3 }), anyJson) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), notJson), async (body) => {
        gw.provider.calls.length = 0;
        const res = await call('POST', '/system/alert', body);
        expect([200, 400], `${body} -> ${res.status} ${res.text}`).toContain(res.status);
        if (res.status === 400) {
          expect(res.text).toMatch(/^invalid request: /);
          expect(gw.provider.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('logs: any query is 200, 400 naming the parameter, or 404', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('name', 'since', 'tail', 'follow', 'other'), fc.oneof(text, fc.constantFrom('fn', '-1', '10', 'true', '2024-01-01T00:00:00Z')), { maxKeys: 5 }), async (query) => {
        if (query.follow && /^(true|1)$/i.test(query.follow)) query.follow = 'false';
        const res = await call('GET', `/system/logs?${new URLSearchParams(query)}`);
        expect([200, 400, 404], `${JSON.stringify(query)} -> ${res.status} ${res.text}`).toContain(res.status);
        if (res.status === 400) expect(res.text).toMatch(/^invalid request: (name|since|tail|follow): /);
      }),
      { numRuns: 300 },
    );
  });
});
