// The queue worker's and the connector's /metrics: the token Prometheus
// sends, or a request from the container itself; anyone else gets 401.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsGate } from '../../src/core/metrics-access.js';

const dir = mkdtempSync(join(tmpdir(), 'metrics-token-'));
const tokenFile = join(dir, 'metrics-token');
writeFileSync(tokenFile, 's3cret-token\n');
/** A non-loopback address of this machine, so that a request does not come from the loopback. */
const outside = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

let server: Server;
let port = 0;
beforeAll(async () => {
  const allowed = metricsGate({ METRICS_TOKEN_FILE: tokenFile });
  server = createServer((req, res) => {
    if (!allowed(req, res)) return;
    res.end('metrics');
  });
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const get = async (host: string, authorization?: string) => {
  const res = await fetch(`http://${host}:${port}/metrics`, { headers: authorization ? { authorization } : {} });
  return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') };
};

describe('/metrics behind the token', () => {
  it('answers the token from anywhere, anyone else 401, and the container itself without one', async () => {
    if (!outside) throw new Error('no non-loopback IPv4 address on this machine');
    expect(await get(outside)).toMatchObject({ status: 401, challenge: 'Bearer realm="metrics"' });
    expect((await get(outside, 'Bearer wrong')).status).toBe(401);
    expect((await get(outside, 'Basic czNjcmV0LXRva2Vu')).status).toBe(401);
    expect((await get(outside, 'Bearer s3cret-token')).body).toBe('metrics');
    expect((await get('127.0.0.1')).body).toBe('metrics');
  });

  it('is open without a token file, and refuses to start with a missing or empty one', () => {
    expect(typeof metricsGate({ METRICS_TOKEN_FILE: '' })).toBe('function');
    expect(() => metricsGate({ METRICS_TOKEN_FILE: join(dir, 'missing') })).toThrow(/METRICS_TOKEN_FILE=.*missing/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => metricsGate({ METRICS_TOKEN_FILE: join(dir, 'empty') })).toThrow(/is empty/);
  });
});
