// Basic auth on the deployed gateway: /system/* and /ui need the stack's
// credentials (Docker secrets); path tricks do not get around it; the
// invocation, health and metrics routes stay open.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { authHeader, fn, gatewayUrl } from './support/gateway.js';

/** Sends the path exactly as written (fetch would clean up "..", "//"). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; challenge?: string }> {
  const { hostname, port } = new URL(gatewayUrl());
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, challenge: res.headers['www-authenticate'] as string | undefined });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('basic auth', () => {
  it('answers 401 with a Basic challenge on /system/* and /ui without credentials', async () => {
    for (const path of ['/system/functions', '/system/info', `/system/function/${fn('echoit')}`, '/system/logs?name=x', '/ui/', '/ui']) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(401);
      expect(res.challenge, path).toMatch(/^Basic realm="/);
    }
    const wrong = { authorization: `Basic ${Buffer.from('admin:wrong-password').toString('base64')}` };
    expect((await rawGet('/system/functions', wrong)).status).toBe(401);
  });

  it('lets the right credentials through', async () => {
    expect((await rawGet('/system/functions', authHeader())).status).toBe(200);
    expect((await rawGet('/ui/', authHeader())).status).toBe(200);
  });

  it.each(['/function/../system/functions', '/function/%2e%2e/system/functions', '//system/functions', '/SYSTEM/functions', '/./system/info'])(
    'is not bypassed by %s',
    async (path) => {
      expect((await rawGet(path)).status).toBe(401);
    },
  );

  it('refuses an encoded slash', async () => {
    expect((await rawGet('/system%2Ffunctions')).status).toBe(400);
  });

  it('keeps /function/*, /healthz and /metrics open', async () => {
    const res = await fetch(gatewayUrl(`/function/${fn('echoit')}`), { method: 'POST', body: 'open' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('open');
    expect((await rawGet('/healthz')).status).toBe(200);
    expect((await rawGet('/metrics')).status).toBe(200);
  });
});
