// The /system routes and the auth around them, in-process with a fake provider.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function gateway(options: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startGateway(options);
  cleanups.push(() => gw.close());
  return gw;
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Sends the path exactly as written (fetch would normalise "..", "//"). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = httpRequest({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/system/functions', () => {
  it('lists functions with the OpenFaaS fields', async () => {
    const gw = await gateway();
    gw.provider.functions.set('b', status('b', { replicas: 3, availableReplicas: 2, annotations: { topic: 't' } }));
    gw.provider.functions.set('a', status('a'));
    const res = await fetch(`${gw.url}/system/functions`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as Array<Record<string, unknown>>;
    expect(list.map((f) => f.name)).toEqual(['a', 'b']);
    expect(list[1]).toMatchObject({
      name: 'b',
      namespace: 'openfaas-fn',
      image: 'example/fn:1',
      invocationCount: 0,
      replicas: 3,
      availableReplicas: 2,
      envProcess: 'cat',
      labels: { function: 'true' },
      annotations: { topic: 't' },
    });
  });

  it('answers 503 with the reason when the engine cannot be read, and lists again once it can', async () => {
    const gw = await gateway();
    gw.provider.functions.set('a', status('a'));
    gw.provider.unavailable = 'docker: the engine did not answer within 8 s';
    const res = await fetch(`${gw.url}/system/functions`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('docker: the engine did not answer within 8 s');
    gw.provider.unavailable = undefined;
    const again = await fetch(`${gw.url}/system/functions`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Array<{ name: string }>).map((f) => f.name)).toEqual(['a']);
  });

  it('gets one function, 404 for none', async () => {
    const gw = await gateway();
    gw.provider.functions.set('a', status('a'));
    expect(await (await fetch(`${gw.url}/system/function/a`)).json()).toMatchObject({ name: 'a', replicas: 1 });
    expect((await fetch(`${gw.url}/system/function/zz`)).status).toBe(404);
  });

  it('deploys: 202, then 409 when the name is taken, 400 naming the field when invalid', async () => {
    const gw = await gateway();
    expect((await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'example/fn:1', envProcess: 'cat' }))).status).toBe(202);
    expect(gw.provider.functions.get('fn')).toMatchObject({ image: 'example/fn:1', envProcess: 'cat' });
    const again = await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'example/fn:1' }));
    expect(again.status).toBe(409);
    const bad = await fetch(`${gw.url}/system/functions`, json({ service: 'my.fn', image: 'example/fn:1' }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/service/);
    const notJson = await fetch(`${gw.url}/system/functions`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toMatch(/body/);
    expect(gw.provider.calls).toEqual(['deploy fn', 'deploy fn']);
  });

  it('refuses a body over SYSTEM_BODY_LIMIT with 413', async () => {
    const gw = await gateway({ env: { SYSTEM_BODY_LIMIT: '1kb' } });
    const res = await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'example/fn:1', envProcess: 'x'.repeat(2000) }));
    expect(res.status).toBe(413);
  });

  it('updates an existing function (202) and 404s a missing one', async () => {
    const gw = await gateway();
    gw.provider.functions.set('fn', status('fn', { replicas: 4 }));
    expect((await fetch(`${gw.url}/system/functions`, { ...json({ service: 'fn', image: 'example/fn:2' }), method: 'PUT' })).status).toBe(202);
    expect(gw.provider.functions.get('fn')).toMatchObject({ image: 'example/fn:2', replicas: 4 });
    expect((await fetch(`${gw.url}/system/functions`, { ...json({ service: 'zz', image: 'example/fn:2' }), method: 'PUT' })).status).toBe(404);
  });

  it('deletes a function (202), 404 for anything else, 400 without functionName', async () => {
    const gw = await gateway();
    gw.provider.functions.set('fn', status('fn'));
    const del = (body: unknown) => fetch(`${gw.url}/system/functions`, { ...json(body), method: 'DELETE' });
    expect((await del({ functionName: 'fn' })).status).toBe(202);
    expect(gw.provider.functions.has('fn')).toBe(false);
    expect((await del({ functionName: 'func_gateway' })).status).toBe(404);
    expect((await del({})).status).toBe(400);
  });
});

describe('other routes', () => {
  it('GET /system/info names the orchestration, provider and version', async () => {
    const gw = await gateway();
    expect(await (await fetch(`${gw.url}/system/info`)).json()).toMatchObject({
      provider: { orchestration: 'fake', provider: 'fake', version: { release: '0.0.0-test' } },
      version: { release: '0.0.0-test' },
    });
  });

  it('GET /healthz answers 200, GET / redirects to /ui/', async () => {
    const gw = await gateway();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${gw.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/ui/');
  });

  it('serves the UI from UI_DIR and nothing outside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-ui-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'ui'));
    await writeFile(join(dir, 'ui', 'index.html'), '<h1>functions</h1>');
    await writeFile(join(dir, 'secret.txt'), 'outside');
    const gw = await gateway({ env: { UI_DIR: join(dir, 'ui') } });
    const index = await fetch(`${gw.url}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toBe('<h1>functions</h1>');
    expect(await rawGet(gw.url, '/ui/../secret.txt')).toBe(404);
    expect(await rawGet(gw.url, '/ui/%2e%2e/secret.txt')).toBe(404);
    expect(await rawGet(gw.url, '/ui/..%2fsecret.txt')).toBe(400);
  });

  it('GET /system/logs streams newline-delimited JSON, 404 for no function, 400 for bad parameters', async () => {
    const gw = await gateway();
    gw.provider.functions.set('fn', status('fn'));
    gw.provider.logEntries = [
      { name: 'fn', namespace: 'openfaas-fn', instance: 't1', timestamp: '2024-05-01T10:00:00Z', text: 'one' },
      { name: 'fn', namespace: 'openfaas-fn', instance: 't2', timestamp: '2024-05-01T10:00:01Z', text: 'two' },
    ];
    const res = await fetch(`${gw.url}/system/logs?name=fn&tail=10`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(gw.provider.logEntries);
    expect((await fetch(`${gw.url}/system/logs?name=zz`)).status).toBe(404);
    expect((await fetch(`${gw.url}/system/logs`)).status).toBe(400);
    expect((await fetch(`${gw.url}/system/logs?name=fn&since=yesterday`)).status).toBe(400);
    expect((await fetch(`${gw.url}/system/logs?name=fn&tail=abc`)).status).toBe(400);
  });

  it('GET /system/logs?follow=true answers at once, before the first line comes', async () => {
    const gw = await gateway();
    gw.provider.functions.set('fn', status('fn'));
    gw.provider.logEntries = [{ name: 'fn', namespace: 'openfaas-fn', instance: 't1', timestamp: '2024-05-01T10:00:00Z', text: 'late' }];
    gw.provider.logDelayMs = 1500;
    const started = Date.now();
    const res = await fetch(`${gw.url}/system/logs?name=fn&follow=true`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(await res.text())).toMatchObject({ text: 'late' });
  });

  it('GET /metrics exposes the process metrics alongside the gateway metrics', async () => {
    const gw = await gateway();
    gw.provider.functions.set('fn', status('fn', { replicas: 4 }));
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/# TYPE gateway_function_invocation_total counter/);
    expect(text).toMatch(/# TYPE gateway_functions_seconds histogram/);
    expect(text).toMatch(/gateway_service_count\{function_name="fn"\} 4/);
  });
});

describe('basic auth', () => {
  const credentials = { user: 'admin', password: 's3cret-pass' };
  const good = { authorization: `Basic ${Buffer.from('admin:s3cret-pass').toString('base64')}` };
  const wrong = { authorization: `Basic ${Buffer.from('admin:guess').toString('base64')}` };

  it('guards /system/* and /ui with a 401 and a Basic challenge', async () => {
    const gw = await gateway({ credentials });
    gw.provider.functions.set('fn', status('fn'));
    const res = await fetch(`${gw.url}/system/functions`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
    expect((await fetch(`${gw.url}/system/functions`, { headers: wrong })).status).toBe(401);
    expect((await fetch(`${gw.url}/system/functions`, { headers: good })).status).toBe(200);
    expect((await fetch(`${gw.url}/system/info`, { headers: good })).status).toBe(200);
    expect((await fetch(`${gw.url}/ui/`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${gw.url}/ui`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${gw.url}/system/functions`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(gw.provider.calls).toEqual([]);
  });

  it('leaves /function/*, /healthz and /metrics open', async () => {
    const gw = await gateway({ credentials });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${gw.url}/function/unknown`)).status).toBe(404); // reached the proxy, not 401
  });

  it.each(['/function/../system/functions', '/function/%2e%2e/system/functions', '//system/functions', '/SYSTEM/functions', '/System/Functions', '/./system/functions', '/ui/../system/functions'])(
    'is not bypassed by %s',
    async (path) => {
      const gw = await gateway({ credentials });
      gw.provider.functions.set('fn', status('fn'));
      expect(await rawGet(gw.url, path)).toBe(401);
    },
  );

  it('refuses an encoded slash outright', async () => {
    const gw = await gateway({ credentials });
    expect(await rawGet(gw.url, '/system%2Ffunctions')).toBe(400);
    expect(await rawGet(gw.url, '/system%2ffunctions', good)).toBe(400);
  });

  it('routes the normalised path once authenticated, and not a case-changed one', async () => {
    const gw = await gateway({ credentials });
    gw.provider.functions.set('fn', status('fn'));
    expect(await rawGet(gw.url, '/function/../system/functions', good)).toBe(200);
    expect(await rawGet(gw.url, '//system/functions', good)).toBe(200);
    expect(await rawGet(gw.url, '/SYSTEM/functions', good)).toBe(404);
  });
});
