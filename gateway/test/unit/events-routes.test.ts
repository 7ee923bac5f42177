// POST /system/events/{subject} and GET /system/function/{name}/events in the
// gateway, over a NATS connection of the test's own (the real NATS is in
// test/e2e/events*.test.ts): which path a message takes, and what is refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { AsyncCalls } from '../../src/queue/async-calls.js';
import type { EventBus, MessageHeaders } from '../../src/queue/events.js';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Sent {
  how: 'core' | 'jetstream' | 'request';
  subject: string;
  body: string;
  headers: Record<string, string>;
  msgID?: string;
}

/** The events port as the route uses it, recording which path each message took. */
function fakeEvents() {
  const sent: Sent[] = [];
  const flat = (h: MessageHeaders) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v[0]!]));
  const events = {
    isConnected: true,
    async publish(subject: string, data: Uint8Array, headers: MessageHeaders) {
      sent.push({ how: 'core', subject, body: Buffer.from(data).toString(), headers: flat(headers) });
    },
    async publishDurable(subject: string, data: Uint8Array, headers: MessageHeaders, messageId?: string) {
      sent.push({ how: 'jetstream', subject, body: Buffer.from(data).toString(), headers: flat(headers), ...(messageId ? { msgID: messageId } : {}) });
      return { seq: sent.length, duplicate: false };
    },
    async request(subject: string, data: Uint8Array, headers: MessageHeaders) {
      sent.push({ how: 'request', subject, body: Buffer.from(data).toString(), headers: flat(headers) });
      if (subject === 'nobody') throw new Error('503 no responders');
      return { data: Buffer.from(`answer to ${Buffer.from(data).toString()}`), headers: { 'X-Function-Name': ['fn'], 'X-Function-Status': ['200'], 'Content-Type': ['text/plain'] } };
    },
    // What the backlog reader and the queue scaler ask: not known here.
    async consumers() {
      throw new Error('not here');
    },
  };
  const calls = {
    async depths() {
      throw new Error('not here');
    },
  };
  return { queue: { events: events as unknown as EventBus, calls: calls as unknown as AsyncCalls }, sent };
}

async function gateway(withNats = true): Promise<{ gw: TestGateway; sent: Sent[] }> {
  const nats = fakeEvents();
  const gw = await startGateway({ env: { PROMETHEUS_URL: 'http://127.0.0.1:1' }, ...(withNats ? { queue: nats.queue } : {}) });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('orders-fn', { ...status('orders-fn'), annotations: { topic: 'orders.*' } });
  gw.provider.functions.set('audit', { ...status('audit'), annotations: { topic: 'payments', 'topic-delivery': 'durable' } });
  gw.provider.functions.set('nightly', { ...status('nightly'), annotations: { topic: 'cron-function', schedule: '0 3 * * *' } });
  for (const name of ['orders-fn', 'audit', 'nightly']) await gw.functions.refresh({ name, namespace: 'openfaas-fn' });
  return { gw, sent: nats.sent };
}

const post = (gw: TestGateway, path: string, body = 'hi', headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } });

describe('POST /system/events/{subject}', () => {
  it('publishes with core NATS where nobody subscribes durably, with the content type and X-* headers', async () => {
    const { gw, sent } = await gateway();
    const res = await post(gw, '/system/events/orders.eu', '{"id":1}', { 'content-type': 'application/json', 'x-order': '7', 'x-forwarded-for': '10.0.0.1', authorization: 'Basic eDp5' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ subject: 'orders.eu', delivery: 'at-most-once', subscribers: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ how: 'core', subject: 'orders.eu', body: '{"id":1}' });
    expect(sent[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-order': '7', 'x-call-id': expect.any(String), 'x-published-at': expect.stringMatching(/^\d+$/) });
    expect(sent[0]!.headers).not.toHaveProperty('authorization');
    expect(sent[0]!.headers).not.toHaveProperty('x-forwarded-for');
  });

  it('stores it in JetStream where a function subscribes durably, once per X-Message-Id', async () => {
    const { gw, sent } = await gateway();
    const res = await post(gw, '/system/events/payments', 'p', { 'x-message-id': 'pay-1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ subject: 'payments', delivery: 'durable', subscribers: 1, sequence: 1 });
    expect(sent[0]).toMatchObject({ how: 'jetstream', msgID: 'pay-1' });
  });

  it("makes a request with reply=true and answers the function's answer", async () => {
    const { gw, sent } = await gateway();
    const res = await post(gw, '/system/events/orders.eu?reply=true&timeout=2s', 'q');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('answer to q');
    expect(res.headers.get('x-function-status')).toBe('200');
    expect(sent[0]!.how).toBe('request');
    expect((await post(gw, '/system/events/nobody?reply=true')).status).toBe(404);
    const durable = await post(gw, '/system/events/payments?reply=true');
    expect(durable.status).toBe(409);
    expect(await durable.text()).toMatch(/durably/);
    expect((await post(gw, '/system/events/orders.eu?reply=true&timeout=5m')).status).toBe(400);
  });

  it('refuses subjects it must not publish to, naming why, and answers 503 without NATS', async () => {
    const { gw, sent } = await gateway();
    for (const subject of ['faas-async.openfaas-fn.x', 'faas-async-fn.openfaas-fn.x', 'faas-internal.wake', '%24KV.faas-functions.x', '%24JS.API.STREAM.LIST', 'orders.*', 'a..b', 'cron-function', '_INBOX.x']) {
      const res = await post(gw, `/system/events/${subject}`);
      expect(res.status, subject).toBe(400);
      expect(await res.text()).toMatch(/invalid subject/);
    }
    expect(sent).toEqual([]);
    const { gw: off } = await gateway(false);
    expect((await post(off, '/system/events/orders.eu')).status).toBe(503);
  });
});

describe('GET /system/function/{name}/events', () => {
  it('answers the topics, the schedule with its next ticks, and what is not known now', async () => {
    const { gw } = await gateway(false);
    const res = await fetch(`${gw.url}/system/function/nightly/events`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'nightly', topics: [], problems: [], scaling: { type: 'rate', target: 10 }, pending: null, runs: null, queue: null, window: '15m' });
    const schedule = body.schedule as { expression: string; next: string[] };
    expect(schedule.expression).toBe('0 3 * * *');
    expect(schedule.next).toHaveLength(3);
    for (const t of schedule.next) expect(t).toMatch(/T03:00:00\.000Z$/);
    expect((await fetch(`${gw.url}/system/function/orders-fn/events`)).status).toBe(200);
    expect((await fetch(`${gw.url}/system/function/none/events`)).status).toBe(404);
    expect((await fetch(`${gw.url}/system/function/nightly/events?window=2y`)).status).toBe(400);
  });
});
