// POST /system/build and /build: relayed to the builder as they stream, with
// the gateway's word for its basic auth and never a client's.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { closedAfterEach, startGateway, startUpstream, type TestGateway } from './support/test-gateway.js';

const credentials = { user: 'admin', password: 'pw' };
const basic = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

const closing = closedAfterEach();
let gateway: TestGateway | undefined;

/** A stand-in builder: records what reached it, answers NDJSON in two parts with a pause between. */
async function start(env: Record<string, string> = {}) {
  const seen: { path: string; headers: IncomingHttpHeaders; bytes: number }[] = [];
  const builder = closing(await startUpstream((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, bytes });
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"log":["step 1"],"image":"x:latest","status":"in_progress","duration":0.1}\n');
      setTimeout(() => res.end('{"log":[],"image":"x:latest","status":"success","duration":0.3}\n'), 150);
    });
  }));
  gateway = closing(await startGateway({ credentials, env: { BUILDER_URL: `http://${builder.address}`, ...env } }));
  return seen;
}

describe('the build relay', () => {
  it('streams a signed /system/build through to the builder and its progress back, with no credentials needed', async () => {
    const seen = await start();
    const body = Buffer.alloc(300_000, 7);
    const res = await fetch(`${gateway!.url}/system/build`, {
      method: 'POST',
      body,
      headers: { 'x-build-signature': 'sha256=' + 'a'.repeat(64), accept: 'application/x-ndjson', 'x-gateway-authenticated': 'basic-auth' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const reader = res.body!.getReader();
    const first = Buffer.from((await reader.read()).value!).toString();
    expect(first).toContain('"in_progress"'); // arrives before the build is over
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
    expect(rest).toContain('"success"');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: '/build', bytes: body.length });
    expect(seen[0]!.headers['x-build-signature']).toBe('sha256=' + 'a'.repeat(64));
    // A client cannot claim the gateway checked its credentials.
    expect(seen[0]!.headers['x-gateway-authenticated']).toBeUndefined();
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it('vouches for its basic auth on /system/build, and wants one or the other', async () => {
    const seen = await start();
    expect((await fetch(`${gateway!.url}/system/build`, { method: 'POST', body: 'x', headers: { authorization: basic } })).status).toBe(200);
    expect(seen[0]!.headers['x-gateway-authenticated']).toBe('basic-auth');
    const neither = await fetch(`${gateway!.url}/system/build`, { method: 'POST', body: 'x' });
    expect(neither.status).toBe(401);
    expect(seen).toHaveLength(1);
  });

  it('relays /build (where faas-cli posts) without vouching, even with credentials', async () => {
    const seen = await start();
    await fetch(`${gateway!.url}/build`, { method: 'POST', body: 'x', headers: { authorization: basic, 'x-build-signature': 'sha256=' + 'b'.repeat(64) } });
    expect(seen[0]!.headers['x-gateway-authenticated']).toBeUndefined();
  });

  it('refuses a build from another origin\'s page', async () => {
    const seen = await start();
    const res = await fetch(`${gateway!.url}/system/build`, { method: 'POST', body: 'x', headers: { authorization: basic, origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it('refuses a declared size over BUILD_MAX_CONTEXT itself with 413, before the upload is read whole, and relays nothing', async () => {
    const seen = await start({ BUILD_MAX_CONTEXT: '1mb' });
    const declared = 64 * 1024 * 1024;
    let sent = 0;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${gateway!.url}/build`);
      const req = httpRequest(url, { method: 'POST', headers: { 'content-length': declared, 'x-build-signature': 'sha256=' + 'd'.repeat(64) } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024);
      const pump = () => {
        while (sent < declared && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'failed', error: expect.stringMatching(/more than BUILD_MAX_CONTEXT/) });
    expect(sent).toBeLessThan(declared / 2);
    expect(seen).toHaveLength(0);
  });

  it('answers 503 in the API shape when there is no builder, or it does not answer', async () => {
    const without = await startGateway({ credentials });
    const none = await fetch(`${without.url}/system/build`, { method: 'POST', body: 'x', headers: { authorization: basic } });
    expect(none.status).toBe(503);
    expect(await none.json()).toMatchObject({ status: 'failed', error: expect.stringMatching(/no builder/) });
    await without.close();
    gateway = closing(await startGateway({ credentials, env: { BUILDER_URL: 'http://127.0.0.1:1' } }));
    const down = await fetch(`${gateway.url}/build`, { method: 'POST', body: 'x', headers: { 'x-build-signature': 'sha256=' + 'c'.repeat(64) } });
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'failed', error: expect.stringMatching(/did not answer/) });
  });
});
