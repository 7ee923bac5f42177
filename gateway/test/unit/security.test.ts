// What the gateway refuses or confines so that a deployed function cannot
// read others' secrets, pose as the stack, or act with the admin's
// credentials (issue: security), in-process against the fake provider.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_POLICY } from '../../src/programs/gateway/routes/invoke.js';
import { status } from './support/fake-provider.js';
import { startGateway, startUpstream, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway({ env });
  cleanups.push(() => gw.close());
  return gw;
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});

describe('functions deployed through the API are confined', () => {
  it('get a read-only root, a memory limit, the process limit, no capability and a non-root user by default', async () => {
    const gw = await gateway();
    const deployed: unknown[] = [];
    const deploy = gw.provider.deploy.bind(gw.provider);
    gw.provider.deploy = async (d) => {
      deployed.push(d);
      await deploy(d);
    };
    expect((await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'e/fn:1' }))).status).toBe(202);
    expect(deployed[0]).toMatchObject({
      readOnlyRootFilesystem: true,
      limits: { memory: '256Mi' },
      confinement: { user: '10001:10001', dropCapabilities: true, pidsLimit: 256, tmpBytes: 64 * 1024 * 1024 },
    });
  });

  it('refuses beyond what the admin allows, naming the setting', async () => {
    const gw = await gateway();
    const refused = async (body: Record<string, unknown>, message: RegExp) => {
      const res = await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'e/fn:1', ...body }));
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(message);
    };
    await refused({ readOnlyRootFilesystem: false }, /FUNCTION_ALLOW_WRITABLE_ROOT/);
    await refused({ limits: { memory: '3Gi' } }, /limits\.memory: 3Gi is above .*FUNCTION_MEMORY_MAX=2Gi/);
    await refused({ labels: { 'swarmfaas.run-as-image-user': 'true' } }, /FUNCTION_ALLOW_ROOT/);
    expect(gw.provider.calls).toEqual([]);
  });

  it('allows a writable root and the image\'s own user when the admin does', async () => {
    const gw = await gateway({ FUNCTION_ALLOW_WRITABLE_ROOT: 'true', FUNCTION_ALLOW_ROOT: 'true' });
    const res = await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'e/fn:1', readOnlyRootFilesystem: false, labels: { 'swarmfaas.run-as-image-user': 'true' } }));
    expect(res.status).toBe(202);
  });

  it.each(['gateway', 'prometheus', 'alertmanager', 'nats', 'queue-worker'])('refuses the name of the stack\'s own service %s', async (service) => {
    const gw = await gateway();
    const res = await fetch(`${gw.url}/system/functions`, json({ service, image: 'e/fn:1' }));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/one of the stack's own services/);
  });
});

describe('/system/* changes only from the gateway\'s own pages', () => {
  it('refuses a change whose Origin is another site, or a sandboxed page (null); takes its own origin and clients with none', async () => {
    const gw = await gateway();
    const host = new URL(gw.url).host;
    const body = { service: 'fn', image: 'e/fn:1' };
    for (const origin of ['http://evil.example', 'null', `http://${host}.evil.example`]) {
      const res = await fetch(`${gw.url}/system/functions`, json(body, { origin }));
      expect(res.status, origin).toBe(403);
      expect(await res.text()).toMatch(/cross-origin request refused/);
    }
    // A form posted from elsewhere (text/plain, JSON-looking) is refused the same way.
    const form = await fetch(`${gw.url}/system/functions`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'text/plain', origin: 'http://evil.example' } });
    expect(form.status).toBe(403);
    expect(gw.provider.calls).toEqual([]);
    expect((await fetch(`${gw.url}/system/functions`, json(body, { origin: `http://${host}` }))).status).toBe(202);
    expect((await fetch(`${gw.url}/system/functions`, json({ ...body, service: 'fn2' }))).status).toBe(202);
    // Reading is not a change.
    expect((await fetch(`${gw.url}/system/functions`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });

  it('trusts the origins in ALLOWED_ORIGINS (a UI behind a proxy that rewrites Host)', async () => {
    const gw = await gateway({ ALLOWED_ORIGINS: 'https://faas.example.com' });
    expect((await fetch(`${gw.url}/system/functions`, json({ service: 'fn', image: 'e/fn:1' }, { origin: 'https://faas.example.com' }))).status).toBe(202);
  });
});

describe('invocations', () => {
  async function echoHeaders(gw: TestGateway, labels: Record<string, string> = {}, answer: Record<string, string> = {}) {
    let seen: IncomingHttpHeaders = {};
    const task = await startUpstream((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'text/html', ...answer });
      res.end('<p>page</p>');
    });
    cleanups.push(() => task.close());
    gw.provider.functions.set('fn', status('fn', { labels: { function: 'true', ...labels } }));
    gw.provider.addresses.set('fn', [task.address]);
    const res = await fetch(`${gw.url}/function/fn`, { headers: { authorization: 'Basic YWRtaW46c2VjcmV0', cookie: 'session=1', 'x-other': 'kept' } });
    await res.text();
    return { seen: () => seen, res };
  }

  it('do not pass the caller\'s Authorization or cookies to the function unless it asks', async () => {
    const gw = await gateway();
    const plain = await echoHeaders(gw);
    expect(plain.seen()).not.toHaveProperty('authorization');
    expect(plain.seen()).not.toHaveProperty('cookie');
    expect(plain.seen()['x-other']).toBe('kept');
    const asking = await echoHeaders(gw, { 'swarmfaas.forward-credentials': 'true' });
    expect(asking.seen().authorization).toBe('Basic YWRtaW46c2VjcmV0');
    expect(asking.seen().cookie).toBe('session=1');
  });

  it('answer with a CSP sandbox (a page a function serves runs in an opaque origin), keeping the function\'s own policy', async () => {
    const gw = await gateway();
    expect((await echoHeaders(gw)).res.headers.get('content-security-policy')).toBe(SANDBOX_POLICY);
    const own = await echoHeaders(gw, {}, { 'content-security-policy': "default-src 'self'" });
    expect(own.res.headers.get('content-security-policy')).toBe(`default-src 'self', ${SANDBOX_POLICY}`);
    expect((await echoHeaders(gw, { 'swarmfaas.sandbox': 'false' })).res.headers.get('content-security-policy')).toBeNull();
  });
});

describe('Prometheus and AlertManager through the gateway', () => {
  async function fakeMonitoring(name: string) {
    const seen: Array<{ url: string; auth?: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ from: name }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  it('relays /system/prometheus/* and /system/alertmanager/* with the prefix stripped and the caller\'s credentials kept back', async () => {
    const prometheus = await fakeMonitoring('prometheus');
    const alertmanager = await fakeMonitoring('alertmanager');
    const gw = await gateway({ PROMETHEUS_URL: prometheus.url, ALERTMANAGER_URL: alertmanager.url });
    const res = await fetch(`${gw.url}/system/prometheus/api/v1/query?query=up`, { headers: { authorization: 'Basic eDp5' } });
    expect(await res.json()).toEqual({ from: 'prometheus' });
    expect(prometheus.seen).toEqual([{ url: '/api/v1/query?query=up' }]);
    expect(await (await fetch(`${gw.url}/system/alertmanager/api/v2/alerts`)).json()).toEqual({ from: 'alertmanager' });
  });

  it('answers 503 naming it when it does not answer', async () => {
    const gw = await gateway({ PROMETHEUS_URL: 'http://127.0.0.1:1' });
    const res = await fetch(`${gw.url}/system/prometheus/-/healthy`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/prometheus did not answer/);
  });
});
