// The UI's reading of OpenAPI documents (ui/js/openapi.js) and the store
// page's pure parts (ui/js/store.js).
import { describe, expect, it } from 'vitest';
import { exampleOf, groupOperations, operationsOf, requestOf, resolvedPath } from '../../../ui/js/openapi.js';
import { deploymentOf, matches, safeLink } from '../../../ui/js/store.js';
import { openApiDocument } from '../../../src/programs/gateway/api/openapi.js';
import { routeDocs } from '../../../src/programs/gateway/api/route-docs.js';
import { swarmRules } from '../../../src/programs/gateway/provider/swarm/rules.js';
import { requestSchemas } from '../../../src/programs/gateway/validation.js';

const gatewayDoc = openApiDocument(routeDocs(requestSchemas(swarmRules, 'openfaas-fn')), { version: '1', basicAuth: true, description: '' }) as { paths: Record<string, Record<string, unknown>> };

const functionDoc = {
  openapi: '3.0.3',
  info: { title: 'Greeter', version: '2' },
  paths: {
    '/hello/{who}': {
      parameters: [{ name: 'who', in: 'path', required: true, schema: { type: 'string' }, example: 'ada' }],
      get: { summary: 'Greets', parameters: [{ name: 'loud', in: 'query', schema: { type: 'boolean' } }], responses: { '200': { description: 'a greeting' } } },
      post: { summary: 'Greets from a body', requestBody: { $ref: '#/components/requestBodies/Greeting' }, responses: { '200': { $ref: '#/components/responses/Ok' } } },
    },
  },
  components: {
    requestBodies: { Greeting: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Greeting' } } } } },
    responses: { Ok: { description: 'fine' } },
    schemas: { Greeting: { type: 'object', required: ['name', 'times'], properties: { name: { type: 'string', example: 'ada' }, times: { type: 'integer' } } } },
  },
};

describe('operationsOf', () => {
  it("reads every operation of the gateway's own document", () => {
    const operations = operationsOf(gatewayDoc);
    const inDoc = Object.values(gatewayDoc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(operations).toHaveLength(inDoc);
    const deploy = operations.find((o) => o.method === 'POST' && o.path === '/system/functions')!;
    expect(deploy.auth).toBe(true);
    expect(JSON.parse(deploy.body!.example)).toMatchObject({ service: 'hello', image: 'swarmfaas/echoit:0.1.0' });
    expect(operations.find((o) => o.method === 'GET' && o.path === '/system/function/{name}')?.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:name', 'query:namespace']);
    // "Any method" routes group into one entry each.
    const groups = groupOperations(operations);
    expect(groups.find((g) => g.operation.path === '/function/{name}')?.methods).toEqual(['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);
    expect(groups.reduce((n, g) => n + g.methods.length, 0)).toBe(inDoc);
  });

  it("reads a function's document: shared parameters, local references, examples made from schemas", () => {
    const [get, post] = operationsOf(functionDoc);
    expect(get).toMatchObject({ method: 'GET', path: '/hello/{who}', summary: 'Greets', tag: 'other', auth: false });
    expect(get!.parameters).toEqual([
      { name: 'who', in: 'path', required: true, description: '', example: 'ada' },
      { name: 'loud', in: 'query', required: false, description: '', example: '' },
    ]);
    expect(post!.body).toEqual({ contentType: 'application/json', example: JSON.stringify({ name: 'ada', times: 0 }, null, 2), required: true });
    expect(post!.responses).toEqual([{ status: '200', description: 'fine' }]);
    expect(exampleOf({}, { anyOf: [{ type: 'null' }, { type: 'string', enum: ['x'] }] })).toBe('x');
  });

  it('says why a document is not one, and survives cycles and odd values', () => {
    expect(() => operationsOf('hello')).toThrow('it is not a JSON object');
    expect(() => operationsOf({ hello: 1 })).toThrow('it is not an OpenAPI document');
    expect(() => operationsOf({ openapi: '3.1.0' })).toThrow('it has no "paths" object');
    const cyclic = { openapi: '3.1.0', paths: { '/a': { $ref: '#/paths/~1a' }, '/b': { get: { summary: { html: '<b>' }, parameters: [{ $ref: '#/nowhere' }, null, { in: 'cookie', name: 'c' }], responses: null } }, nope: { get: {} } } };
    expect(operationsOf(cyclic)).toEqual([{ method: 'GET', path: '/b', tag: 'other', summary: '', description: '', parameters: [], body: null, responses: [], auth: false }]);
  });
});

describe('requestOf', () => {
  const op = { path: '/system/function/{name}', parameters: [{ name: 'name', in: 'path' as const, required: true, description: '', example: '' }, { name: 'namespace', in: 'query' as const, required: false, description: '', example: '' }, { name: 'X-Id', in: 'header' as const, required: false, description: '', example: '' }] };
  it('fills the path, encoded, and the query and headers given', () => {
    expect(requestOf('', op, { 'path:name': 'a b', 'query:namespace': '', 'header:X-Id': '7' })).toEqual({ url: '/system/function/a%20b', headers: { 'X-Id': '7' } });
    expect(requestOf('', op, { 'path:name': 'x', 'query:namespace': 'team a' }).url).toBe('/system/function/x?namespace=team+a');
    expect(() => requestOf('', op, {})).toThrow('Fill in name.');
  });

  it("keeps a function's operations under the function", () => {
    const rest = { path: '/files/{path}', parameters: [{ name: 'path', in: 'path' as const, required: true, description: '', example: '' }] };
    expect(requestOf('/function/f', rest, { 'path:path': 'a/b.txt' }).url).toBe('/function/f/files/a/b.txt');
    expect(() => requestOf('/function/f', rest, { 'path:path': '../../../system/functions' })).toThrow('The request would leave /function/f: not sent.');
    expect(() => requestOf('/function/f', { path: '/../../system/secrets', parameters: [] }, {})).toThrow('would leave');
    expect(() => requestOf('/function/f', { path: '/%2e%2e/%2E%2E/system', parameters: [] }, {})).toThrow('would leave');
    expect(resolvedPath('/function/f/./a/../b/')).toBe('/function/f/b/');
  });
});

describe('the store page', () => {
  const entry = { name: 'figlet', title: 'Figlet', description: 'ASCII <b>art</b>', images: { x86_64: 'functions/figlet:1', armhf: 'functions/figlet:1-armhf' }, fprocess: 'figlet', environment: { a: 'b' }, labels: { 'com.openfaas.scale.max': '3' }, network: 'func_functions', readOnlyRootFilesystem: true };
  it("deploys an entry with the catalog's settings and the image of this architecture, and says when there is none", () => {
    expect(deploymentOf(entry, 'x86_64')).toEqual({
      ok: true,
      image: 'functions/figlet:1',
      spec: { service: 'figlet', image: 'functions/figlet:1', envProcess: 'figlet', envVars: { a: 'b' }, labels: { 'com.openfaas.scale.max': '3' }, readOnlyRootFilesystem: true },
    });
    expect(deploymentOf(entry, 'x86_64', ' figlet-2 ')).toMatchObject({ ok: true, spec: { service: 'figlet-2' } });
    expect(deploymentOf(entry, 'x86_64', '')).toMatchObject({ ok: true, spec: { service: 'figlet' } });
    expect(deploymentOf(entry, 'arm64')).toEqual({ ok: false, reason: 'Not deployable here: no image for arm64 (only x86_64, armhf).' });
    expect(deploymentOf({ name: 'x' }, null)).toEqual({ ok: false, reason: 'Not deployable here: no image for this architecture.' });
  });

  it('filters on words, and links only http(s) URLs', () => {
    expect(matches(entry, 'ascii')).toBe(true);
    expect(matches(entry, 'scale.max')).toBe(true);
    expect(matches(entry, 'qr')).toBe(false);
    expect(safeLink('https://github.com/x')).toBe('https://github.com/x');
    expect(safeLink('javascript:alert(1)')).toBeNull();
    expect(safeLink('data:text/html,<script>')).toBeNull();
    expect(safeLink('not a url')).toBeNull();
  });
});
