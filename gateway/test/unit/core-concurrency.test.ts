// A function with a concurrency limit, end to end in-process: the gateway
// (its invocation core) in front of plain HTTP servers standing in for
// replicas. Calls beyond the limit wait and are answered, never refused
// while there is time; a replica's own 429 (its watchdog's max_inflight)
// sends the call to another replica; the wait is bounded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { status } from './support/fake-provider.js';
import { startGateway, startUpstream, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function gatewayWith(addresses: string[], labels: Record<string, string>, env: Record<string, string> = {}, envVars: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway({ env });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('fn', status('fn', { labels: { function: 'true', ...labels }, envVars }));
  gw.provider.addresses.set('fn', addresses);
  return gw;
}

/** A replica that takes `ms` per call and notes how many it had at once. */
async function replica(ms: number, options: { maxInflight?: number; name?: string } = {}) {
  const seen = { now: 0, most: 0, served: 0, refused: 0, order: [] as string[] };
  const u = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    if (options.maxInflight !== undefined && seen.now >= options.maxInflight) {
      seen.refused++;
      req.resume();
      res.writeHead(429, { 'x-max-inflight': String(options.maxInflight), 'retry-after': '1' }).end('too many requests in flight\n');
      return;
    }
    seen.now++;
    seen.most = Math.max(seen.most, seen.now);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.order.push(Buffer.concat(chunks).toString());
      setTimeout(() => {
        seen.now--;
        seen.served++;
        res.end(`${options.name ?? 'ok'}:${Buffer.concat(chunks).toString()}`);
      }, ms);
    });
  });
  cleanups.push(() => u.close());
  return { ...u, seen };
}

const post = (gw: TestGateway, body: string) => fetch(`${gw.url}/function/fn`, { method: 'POST', body }).then(async (res) => ({ status: res.status, text: await res.text(), headers: res.headers }));

describe('a function with com.openfaas.concurrency', () => {
  it('never gives a replica more than the limit; the other calls wait and are answered', async () => {
    const r = await replica(150);
    const gw = await gatewayWith([r.address], { 'com.openfaas.concurrency': '2' });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => post(gw, `call ${i}`)));
    expect(results.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(r.seen.most).toBe(2);
    expect(r.seen.served).toBe(8);
  });

  it('sends the waiting calls in the order they came', async () => {
    const r = await replica(60);
    const gw = await gatewayWith([r.address], { 'com.openfaas.concurrency': '1' });
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(post(gw, `call ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 10)); // a known arrival order
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(r.seen.order).toEqual(Array.from({ length: 6 }, (_, i) => `call ${i}`));
  });

  it('spreads the calls over the replicas, the limit on each', async () => {
    const replicas = await Promise.all([replica(100), replica(100), replica(100)]);
    const gw = await gatewayWith(replicas.map((r) => r.address), { 'com.openfaas.concurrency': '1' });
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => post(gw, `${i}`)));
    expect(results.every((a) => a.status === 200)).toBe(true);
    expect(replicas.map((r) => r.seen.most)).toEqual([1, 1, 1]);
    expect(replicas.map((r) => r.seen.served)).toEqual([3, 3, 3]);
  });

  it('takes the watchdog max_inflight variable as the limit when no label says one', async () => {
    const r = await replica(100);
    const gw = await gatewayWith([r.address], {}, {}, { max_inflight: '1' });
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => post(gw, `${i}`)));
    expect(results.every((a) => a.status === 200)).toBe(true);
    expect(r.seen.most).toBe(1);
  });

  it('sends a call a replica refused at its own limit (429 with X-Max-Inflight) to another replica: the caller never sees the 429', async () => {
    // Replica a is full of another program's calls: it refuses everything.
    const full = await replica(50, { maxInflight: 0, name: 'a' });
    const free = await replica(50, { name: 'b' });
    const gw = await gatewayWith([full.address, free.address], { 'com.openfaas.concurrency': '2' });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post(gw, `${i}`)));
    expect(results.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(results.every((a) => a.text.startsWith('b:'))).toBe(true);
    expect(full.seen.refused).toBeGreaterThan(0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`gateway_function_instance_full_total\\{function_name="fn"\\} ${full.seen.refused}\\b`));
  });

  it('keeps retrying a refused call on the same replica once it has room, while the call may wait', async () => {
    let refuse = 3;
    const u = await startUpstream((req, res) => {
      req.resume();
      if (refuse-- > 0) res.writeHead(429, { 'x-max-inflight': '1' }).end('full');
      else res.end('served');
    });
    cleanups.push(() => u.close());
    const gw = await gatewayWith([u.address], { 'com.openfaas.concurrency': '1' });
    const started = Date.now();
    const result = await post(gw, 'x');
    expect(`${result.status} ${result.text}`).toBe('200 served');
    // Back-offs of 50, 100 and 200 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(340);
  });

  it('passes on a 429 that the function gave itself (no X-Max-Inflight), and any 429 of a function without a limit', async () => {
    const u = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(429, req.url === '/plain' ? {} : { 'x-max-inflight': '1' }).end('slow down');
    });
    cleanups.push(() => u.close());
    const limited = await gatewayWith([u.address], { 'com.openfaas.concurrency': '1' });
    const own = await fetch(`${limited.url}/function/fn/plain`, { method: 'POST', body: 'x' });
    expect(`${own.status} ${await own.text()}`).toBe('429 slow down');
    const unlimited = await gatewayWith([u.address], {});
    const passed = await post(unlimited, 'x');
    expect(passed.status).toBe(429);
    expect(passed.headers.get('x-max-inflight')).toBe('1');
  });

  it('refuses a call that waited CONCURRENCY_MAX_WAIT for a slot with 429 and Retry-After, and one beyond CONCURRENCY_MAX_WAITING at once', async () => {
    const r = await replica(1_500);
    const gw = await gatewayWith([r.address], { 'com.openfaas.concurrency': '1' }, { CONCURRENCY_MAX_WAIT: '300ms', CONCURRENCY_MAX_WAITING: '1' });
    const first = post(gw, 'first');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = post(gw, 'second');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await post(gw, 'third');
    expect(third.status).toBe(429);
    expect(third.text).toMatch(/1 calls waiting for a free slot already \(CONCURRENCY_MAX_WAITING\)/);
    const waited = await second;
    expect(waited.status).toBe(429);
    expect(waited.headers.get('retry-after')).toBe('1');
    expect(waited.text).toMatch(/function fn had no free slot within 0\.3 s \(1 at once per replica, 1 replica; CONCURRENCY_MAX_WAIT\)/);
    expect((await first).status).toBe(200);
  });

  it('reports calls in flight and waiting in /metrics (gateway_function_inflight, gateway_function_waiting)', async () => {
    const r = await replica(400);
    const gw = await gatewayWith([r.address], { 'com.openfaas.concurrency': '2' });
    const calls = Array.from({ length: 5 }, (_, i) => post(gw, `${i}`));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_function_inflight\{function_name="fn"\} 2\b/);
    expect(metrics).toMatch(/gateway_function_waiting\{function_name="fn"\} 3\b/);
    await Promise.all(calls);
    const after = await (await fetch(`${gw.url}/metrics`)).text();
    expect(after).toMatch(/gateway_function_inflight\{function_name="fn"\} 0\b/);
    expect(after).toMatch(/gateway_function_waiting\{function_name="fn"\} 0\b/);
  });

  it('shows on GET /system/function/{name} the calls in flight and waiting, and each replica’s against the limit', async () => {
    const replicas = await Promise.all([replica(500), replica(500)]);
    const gw = await gatewayWith(replicas.map((r) => r.address), { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity' });
    const calls = Array.from({ length: 6 }, (_, i) => post(gw, `${i}`));
    // This gateway's own load report reaches its board within 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const fn = (await (await fetch(`${gw.url}/system/function/fn`)).json()) as { concurrency: unknown; instances: Array<{ inflight?: number; address?: string }> };
    expect(fn.concurrency).toEqual({ limit: 2, target: 1.4, inflight: 4, waiting: 2 });
    expect(fn.instances.map((i) => i.inflight)).toEqual([2, 2]);
    expect(fn.instances[0]!.address).toBeUndefined();
    await Promise.all(calls);
  });

  it('follows a change of the limit', async () => {
    const r = await replica(150);
    const gw = await gatewayWith([r.address], { 'com.openfaas.concurrency': '1' });
    await Promise.all(Array.from({ length: 3 }, (_, i) => post(gw, `${i}`)));
    expect(r.seen.most).toBe(1);
    gw.provider.functions.set('fn', status('fn', { labels: { function: 'true', 'com.openfaas.concurrency': '3' } }));
    await gw.functions.refresh({ name: 'fn', namespace: 'openfaas-fn' });
    await Promise.all(Array.from({ length: 3 }, (_, i) => post(gw, `${i}`)));
    expect(r.seen.most).toBe(3);
  });

  it('is checked on deploy and update: 400 naming the label and why, nothing deployed; a good one deploys with the watchdog limit set', async () => {
    const gw = await startGateway();
    cleanups.push(() => gw.close());
    const send = (method: string, labels: Record<string, string>) =>
      fetch(`${gw.url}/system/functions`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'fn', image: 'example/fn:1', labels }) });
    const bad = await send('POST', { 'com.openfaas.concurrency': '0' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/labels\.com\.openfaas\.concurrency: "0" is not a whole number from 1/);
    expect(gw.provider.calls).toEqual([]);
    expect((await send('POST', { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity' })).status).toBe(202);
    expect(gw.provider.functions.get('fn')!.envVars).toMatchObject({ max_inflight: '2' });
    const update = await send('PUT', { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '5' });
    expect(update.status).toBe(400);
    expect(await update.text()).toMatch(/labels\.com\.openfaas\.scale\.target: 5 is above the concurrency limit \(2\)/);
    expect(gw.provider.calls).toEqual(['deploy fn']);
  });
});
