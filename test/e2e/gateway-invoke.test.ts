// The invocation path end to end on the real Swarm: what is forwarded and
// passed back, the errors, the metrics, and the logs of an invocation.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const envFn = fn('gwe2e-env');
const brokenFn = fn('gwe2e-broken');

async function deploy(body: Record<string, unknown>): Promise<void> {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: body.service }) });
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`deploying ${String(body.service)}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  // env prints the request as the watchdog hands it over (cgi_headers: Http_* variables).
  await deploy({ service: envFn, image: image('watchdog'), envProcess: 'env', envVars: { cgi_headers: 'true', write_debug: 'true' } });
  await waitFor(`${envFn} to answer`, async () => {
    const res = await fetch(gatewayUrl(`/function/${envFn}`), { method: 'POST', body: 'x' }).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 60_000, 250);
});

afterAll(async () => {
  for (const name of [envFn, brokenFn, fn('gwe2e-gone')]) {
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name }) }).catch(() => undefined);
  }
});

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('/function/{name}/{path...}', () => {
  it('forwards the method, path suffix, query string, headers and body', async () => {
    const res = await fetch(gatewayUrl(`/function/${envFn}/orders/42?expand=true&page=2`), {
      method: 'PUT',
      headers: { 'x-request-tag': 'e2e-123', 'content-type': 'text/plain' },
      body: 'payload',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-duration-seconds')).toBeTruthy();
    const env = parseEnv(await res.text());
    expect(env).toMatchObject({
      Http_Method: 'PUT',
      Http_Path: '/orders/42',
      Http_Query: 'expand=true&page=2',
      Http_X_Request_Tag: 'e2e-123',
      Http_Content_Length: '7',
    });
    expect(env.Http_X_Forwarded_For).toBeTruthy();
    expect(env.Http_X_Forwarded_Host).toBe(new URL(gatewayUrl()).host);
  });

  it('streams a large body through both ways unchanged', async () => {
    const echo = fn('echoit');
    const bytes = Buffer.alloc(3 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const res = await fetch(gatewayUrl(`/function/${echo}`), { method: 'POST', body: bytes });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 404 for an unknown function and never proxies to a service that is not a function', async () => {
    expect((await fetch(gatewayUrl(`/function/${fn('gwe2e-nothing')}`), { method: 'POST', body: 'x' })).status).toBe(404);
    for (const other of ['gateway', 'prometheus', 'alertmanager']) {
      expect((await fetch(gatewayUrl(`/function/${fn(other)}/metrics`))).status, other).toBe(404);
    }
  });

  it('answers 504 with a message when the function has no healthy task within WAKE_TIMEOUT', async () => {
    // mode=http without upstream_url: the watchdog refuses to start, so no task ever becomes healthy.
    await deploy({ service: brokenFn, image: image('watchdog'), envProcess: 'cat', envVars: { mode: 'http' } });
    const started = Date.now();
    const res = await fetch(gatewayUrl(`/function/${brokenFn}`), { method: 'POST', body: 'x', signal: AbortSignal.timeout(90_000) });
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(new RegExp(`${brokenFn} has no ready replica after waiting \\d+ s \\(WAKE_TIMEOUT\\)`));
    process.stderr.write(`[gateway e2e] 504 for a function without a healthy task after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 120_000);
});

describe('GET /metrics', () => {
  it('counts invocations by function and code, times them, and shows replicas', async () => {
    const before = await (await fetch(gatewayUrl('/metrics'))).text();
    const count = (text: string) => Number(new RegExp(`gateway_function_invocation_total\\{function_name="${envFn}",code="200",source="sync"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    for (let i = 0; i < 3; i++) await (await fetch(gatewayUrl(`/function/${envFn}`), { method: 'POST', body: 'x' })).text();
    const after = await (await fetch(gatewayUrl('/metrics'))).text();
    expect(count(after) - count(before)).toBe(3);
    expect(after).toMatch(new RegExp(`gateway_functions_seconds_count\\{function_name="${envFn}"\\} \\d+`));
    expect(after).toMatch(new RegExp(`gateway_service_count\\{function_name="${fn('echoit')}"\\} 1`));
    expect(after).toMatch(/process_cpu_seconds_total/);
    const listed = (await (await systemFetch(`/system/function/${envFn}`)).json()) as { invocationCount: number };
    expect(listed.invocationCount).toBeGreaterThanOrEqual(3);
  });

  it('names a function no more once it is removed', async () => {
    const gone = fn('gwe2e-gone');
    await deploy({ service: gone, image: image('watchdog'), envProcess: 'cat' });
    await waitFor(`${gone} to answer`, async () => ((await fetch(gatewayUrl(`/function/${gone}`), { method: 'POST', body: 'x' }).catch(() => undefined))?.status === 200 ? true : undefined), 60_000, 250);
    expect((await systemFetch(`/system/scale-function/${gone}`, { method: 'POST', body: JSON.stringify({ serviceName: gone, replicas: 2 }) })).status).toBe(202);
    const named = new RegExp(`function_name="${gone}"`);
    const series = (text: string) => text.split('\n').filter((line) => named.test(line)).map((line) => line.split('{')[0]);
    const before = series(await (await fetch(gatewayUrl('/metrics'))).text());
    expect(before).toEqual(expect.arrayContaining(['gateway_function_invocation_total', 'gateway_scaling_events_total', 'gateway_service_count']));
    expect((await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: gone }) })).status).toBe(202);
    // Every series naming it goes: kept, they would pile up with each name ever deployed.
    await waitFor(`${gone} gone from /metrics`, async () => (series(await (await fetch(gatewayUrl('/metrics'))).text()).length === 0 ? true : undefined), 30_000, 500);
  });
});

describe('GET /system/logs', () => {
  it('returns the logs of an invocation as newline-delimited JSON', async () => {
    const marker = `marker-${Date.now()}`;
    expect((await fetch(gatewayUrl(`/function/${envFn}/${marker}`), { method: 'POST', body: 'x' })).status).toBe(200);
    const entry = await waitFor('the invocation in the logs', async () => {
      const res = await systemFetch(`/system/logs?name=${envFn}&tail=50`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/ndjson/);
      const entries = (await res.text()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
      return entries.find((e) => e.text?.includes(marker));
    }, 30_000, 1000);
    expect(entry).toMatchObject({ name: envFn });
    expect(entry.instance).toBeTruthy();
    expect(Number.isNaN(Date.parse(entry.timestamp!))).toBe(false);
  });

  it('streams new lines while follow=true, answering before any line comes', async () => {
    const marker = `follow-${Date.now()}`;
    let headersAt = 0;
    const lines: string[] = [];
    const { hostname, port } = new URL(gatewayUrl());
    const headers = authHeader();
    const seen = new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, path: `/system/logs?name=${envFn}&follow=true&tail=0`, headers }, (res) => {
        headersAt = Date.now();
        expect(res.statusCode).toBe(200);
        let buffered = '';
        res.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const parts = buffered.split('\n');
          buffered = parts.pop()!;
          lines.push(...parts);
          if (lines.some((l) => l.includes(marker))) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (lines.some((l) => l.includes(marker)) ? resolve() : reject(e)));
      req.end();
      setTimeout(() => reject(new Error(`no ${marker} in ${lines.length} followed lines`)), 30_000).unref();
    });
    await waitFor('the follow stream to answer', async () => (headersAt > 0 ? true : undefined), 5_000, 50);
    const invokedAt = Date.now();
    await fetch(gatewayUrl(`/function/${envFn}/${marker}`), { method: 'POST', body: 'x' });
    await seen;
    // The stream's headers came before the invocation was sent (the same millisecond at the closest).
    expect(headersAt).toBeLessThanOrEqual(invokedAt);
  });

  it('answers 404 for an unknown function and 400 without a name', async () => {
    expect((await systemFetch(`/system/logs?name=${fn('gwe2e-nothing')}`)).status).toBe(404);
    expect((await systemFetch('/system/logs')).status).toBe(400);
  });
});
