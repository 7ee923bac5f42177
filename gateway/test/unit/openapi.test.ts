// The OpenAPI document (GET /system/openapi.json) against the routes the
// gateway really registers (app.ts's registerRoutes): every registered route
// and method is documented, and nothing is documented that is not
// registered. Then the document itself: OpenAPI 3.1, every $ref resolves,
// every operation says what it answers, and auth is what the gateway does.
import Router from '@koa/router';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/programs/gateway/settings.js';
import { LiveFunctionView } from '../../src/programs/gateway/function-view.js';
import { GatewayMetrics } from '../../src/programs/gateway/metrics.js';
import { PrometheusClient } from '../../src/programs/gateway/prometheus/client.js';
import { InvocationCounts } from '../../src/programs/gateway/prometheus/invocation-counts.js';
import { registerRoutes } from '../../src/programs/gateway/app.js';
import { DOCUMENTED_METHODS, openApiDocument } from '../../src/programs/gateway/api/openapi.js';
import { routeDocs } from '../../src/programs/gateway/api/route-docs.js';
import type { Scaler } from '../../src/programs/gateway/scaling/index.js';
import { requestSchemas } from '../../src/programs/gateway/validation.js';
import { FakeProvider } from './support/fake-provider.js';
import { startGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown[]; operationId: string; parameters?: Array<{ name: string; in: string }> }>>; components: { schemas: Record<string, unknown> } };

/** "METHOD /path/{param}" for every route and method app.ts registers. */
function registeredOperations(): string[] {
  const config = loadConfig({});
  const provider = new FakeProvider();
  const log = pino({ level: 'silent' });
  const router = new Router({ sensitive: true });
  const metrics = new GatewayMetrics(() => [], { processMetrics: false });
  const prometheus = new PrometheusClient(config.PROMETHEUS_URL);
  registerRoutes(
    router,
    {
      config,
      provider,
      functions: new LiveFunctionView({ provider, log }),
      // Registering a route uses none of the scaler.
      scaler: {} as Scaler,
      metrics,
      prometheus,
      invocationCounts: new InvocationCounts(prometheus, metrics.invocations),
      log,
      schemas: requestSchemas(provider.rules, config.DEFAULT_NAMESPACE),
      ready: () => true,
      version: { release: '0.0.0-test', sha: 'test' },
    },
    async () => undefined,
  );
  const operations = new Set<string>();
  for (const layer of router.stack) {
    const path = String(layer.path).replace(/:(\w+)/g, '{$1}').replace(/\{\*(\w+)\}/g, '{$1}');
    const methods = layer.methods.map((m) => m.toLowerCase());
    for (const method of methods) {
      if (method === 'head' && methods.includes('get')) continue; // Koa answers HEAD with GET's route
      if (!(DOCUMENTED_METHODS as readonly string[]).includes(method)) continue;
      operations.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return [...operations].sort();
}

function documentedOperations(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

function document(basicAuth = true): Doc {
  const config = loadConfig({});
  const provider = new FakeProvider();
  return openApiDocument(routeDocs(requestSchemas(provider.rules, config.DEFAULT_NAMESPACE)), { version: '1', basicAuth, description: 'test' }) as Doc;
}

describe('the OpenAPI document', () => {
  it('documents every route the gateway registers, and no other', () => {
    const registered = registeredOperations();
    const documented = documentedOperations(document());
    expect(registered.length).toBeGreaterThan(50);
    expect(registered.filter((op) => !documented.includes(op))).toEqual([]); // undocumented routes
    expect(documented.filter((op) => !registered.includes(op))).toEqual([]); // documentation of no route
  });

  it('is OpenAPI 3.1 whose references all resolve, with answers and a unique id per operation', () => {
    const doc = document();
    expect(doc.openapi).toBe('3.1.0');
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((ref) => !(ref in doc.components.schemas))).toEqual([]);
    expect(text).not.toContain('#/$defs/');
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
        // Every {param} of the path is a parameter of the operation.
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) expect(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${method} ${path} {${name}}`).toBe(true);
      }
    }
    // The deploy body is the schema the route validates with: the provider's name rule included.
    const deploy = (doc.paths['/system/functions']!.post as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, { pattern?: string }>; required: string[] } }> } }).requestBody;
    const schema = deploy.content['application/json']!.schema;
    expect(schema.required).toEqual(expect.arrayContaining(['service', 'image']));
    expect(schema.properties.service!.pattern).toBeTruthy();
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['envProcess', 'envVars', 'labels', 'annotations', 'secrets', 'limits', 'readOnlyRootFilesystem']));
    expect(doc.components.schemas).toHaveProperty('FunctionStatus');
    expect(doc.components.schemas).toHaveProperty('Scaling');
  });

  it('names basic auth on /system/* and /ui only, and only when the gateway has it on', () => {
    const doc = document(true);
    expect(doc.paths['/system/functions']!.get!.security).toEqual([{ basicAuth: [] }]);
    expect(doc.paths['/system/functions']!.get!.responses).toHaveProperty('401');
    expect(doc.paths['/system/functions']!.post!.responses).toHaveProperty('403');
    expect(doc.paths['/function/{name}']!.post!.security).toEqual([]);
    expect(doc.paths['/function/{name}']!.post!.responses).not.toHaveProperty('401');
    expect(doc.paths['/store/functions.json']!.get!.security).toEqual([]);
    expect(document(false).paths['/system/functions']!.get!.security).toEqual([]);
  });

  it('is served at /system/openapi.json, behind the credentials', async () => {
    const gw = await startGateway({ credentials: { user: 'admin', password: 'pw' } });
    cleanups.push(() => gw.close());
    expect((await fetch(`${gw.url}/system/openapi.json`)).status).toBe(401);
    const res = await fetch(`${gw.url}/system/openapi.json`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as Doc;
    expect(documentedOperations(doc)).toEqual(documentedOperations(document()));
  });
});
