// /async-function/* in the gateway, with a queue that keeps what it is given
// in memory (the real NATS is in test/e2e/async.test.ts): what is stored,
// and what is refused before anything is stored.
import { afterEach, describe, expect, it } from 'vitest';
import type { QueuedCall } from '../../src/queue/call-message.js';
import type { AsyncCalls } from '../../src/queue/async-calls.js';
import { QueueFull, QueueUnavailable, StoreFull } from '../../src/queue/errors.js';
import type { EventBus } from '../../src/queue/events.js';
import type { QueueLimits } from '../../src/queue/streams.js';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The queue's accepts as the gateway sees them, kept in memory, with the limits it was given. */
class MemoryQueue {
  stored: QueuedCall[] = [];
  limits: QueueLimits[] = [];
  down = false;
  full: 'function' | 'store' | undefined;
  async enqueue(call: QueuedCall, _id: string, limits: QueueLimits): Promise<number> {
    if (this.down) throw new QueueUnavailable('the queue (NATS JetStream) is not available: no connection');
    if (this.full === 'function') throw new QueueFull(`function ${call.ref.name} has as much queued as its limit allows, ${limits.messages} calls`, 5);
    if (this.full === 'store') throw new StoreFull("the queue's store is 95% full", 5);
    this.stored.push(call);
    this.limits.push(limits);
    return this.stored.length;
  }
  async depths() {
    return [];
  }
}

async function gateway(queue?: MemoryQueue, env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway({ env, ...(queue ? { queue: { calls: queue as unknown as AsyncCalls, events: {} as EventBus } } : {}) });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('fn', status('fn'));
  await gw.functions.refresh({ name: 'fn', namespace: 'openfaas-fn' });
  return gw;
}

describe('POST /async-function/{name}', () => {
  it('stores method, path, query, headers, callback and body, then answers 202 with the X-Call-Id', async () => {
    const queue = new MemoryQueue();
    const gw = await gateway(queue);
    const res = await fetch(`${gw.url}/async-function/fn.openfaas-fn/a/b?x=1`, {
      method: 'PATCH',
      body: 'payload',
      headers: { 'x-call-id': 'mine', 'x-callback-url': 'http://receiver:9000/cb', 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-call-id')).toBe('mine');
    expect(res.headers.get('x-start-time')).toMatch(/^\d{19}$/);
    expect(queue.stored).toHaveLength(1);
    const [call] = queue.stored;
    expect(call).toMatchObject({ callId: 'mine', ref: { name: 'fn', namespace: 'openfaas-fn' }, method: 'PATCH', path: '/a/b', query: 'x=1', callbackUrl: 'http://receiver:9000/cb' });
    expect(Buffer.from(call!.body).toString()).toBe('payload');
    expect(call!.headers).toMatchObject({ 'x-call-id': 'mine', 'content-type': 'text/plain' });
    expect(call!.headers['content-length']).toBeUndefined();
  });

  it('refuses, storing nothing: 404 unknown function, 405 GET, 400 bad callback URL, 413 over ASYNC_BODY_LIMIT', async () => {
    const queue = new MemoryQueue();
    const gw = await gateway(queue, { ASYNC_BODY_LIMIT: '1kb' });
    const post = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { method: 'POST', ...init });
    const unknown = await post('/async-function/nope', { body: 'x' });
    expect([unknown.status, await unknown.text()]).toEqual([404, 'function nope not found']);
    const get = await fetch(`${gw.url}/async-function/fn`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, PUT, PATCH, DELETE');
    const bad = await post('/async-function/fn', { headers: { 'x-callback-url': '/relative' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('X-Callback-Url must be an absolute http:// or https:// URL');
    const big = await post('/async-function/fn', { body: 'x'.repeat(1025) });
    expect([big.status, await big.text()]).toEqual([413, 'request body larger than 1024 bytes (ASYNC_BODY_LIMIT)']);
    const chunked = await post('/async-function/fn', {
      body: (async function* () {
        for (let i = 0; i < 8; i++) yield new Uint8Array(512);
      })() as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(queue.stored).toEqual([]);
    // Exactly at the limit is fine.
    expect((await post('/async-function/fn', { body: 'x'.repeat(1024) })).status).toBe(202);
  });

  it('answers 503 when the queue cannot be reached or there is none, and 202 again once it is back', async () => {
    const queue = new MemoryQueue();
    const gw = await gateway(queue);
    queue.down = true;
    const down = await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' });
    expect(down.status).toBe(503);
    expect(await down.text()).toContain('not available');
    queue.down = false;
    expect((await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' })).status).toBe(202);

    const none = await gateway();
    const off = await fetch(`${none.url}/async-function/fn`, { method: 'POST', body: 'x' });
    expect([off.status, await off.text()]).toEqual([503, 'asynchronous invocations are off (NATS_URL=none)']);
  });

  it("refuses a function at its queue's limit with 429 and Retry-After, a full store with 503, and takes the function's labels as its limits", async () => {
    const queue = new MemoryQueue();
    const gw = await gateway(queue, { QUEUE_MAX_MESSAGES: '7', QUEUE_MAX_BYTES: '1Mi' });
    expect((await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' })).status).toBe(202);
    expect(queue.limits[0]).toMatchObject({ messages: 7, bytes: 1024 * 1024 });
    queue.full = 'function';
    const refused = await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' });
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '5']);
    expect(await refused.text()).toContain('its limit allows, 7 calls');
    queue.full = 'store';
    const full = await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' });
    expect([full.status, full.headers.get('retry-after')]).toEqual([503, '5']);
    queue.full = undefined;
    gw.provider.functions.set('fn', { ...status('fn'), labels: { 'com.openfaas.queue.max-messages': '50000', 'com.openfaas.queue.max-bytes': '2Gi' } });
    await gw.functions.refresh({ name: 'fn', namespace: 'openfaas-fn' });
    expect((await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' })).status).toBe(202);
    expect(queue.limits[1]).toMatchObject({ messages: 50000, bytes: 2 * 1024 ** 3, problems: [] });
  });

  it('counts accepted calls in gateway_async_accepted_total', async () => {
    const queue = new MemoryQueue();
    const gw = await gateway(queue);
    for (let i = 0; i < 3; i++) await fetch(`${gw.url}/async-function/fn`, { method: 'POST', body: 'x' });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_async_accepted_total\{function_name="fn"\} 3/);
  });
});
