// How the connector makes a message into a request, and its per-function limit.
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { requestHeaders } from '../../src/triggers/delivery.js';
import { Gate, MAX_WAITING } from '../../src/triggers/handler.js';

describe('a message as a request', () => {
  it('carries the message headers an HTTP request can, then the subject, a call id and the start time', () => {
    const h = natsHeaders();
    h.set('Content-Type', 'application/json');
    h.set('X-Order', '7');
    h.set('Nats-Msg-Id', 'abc');
    h.set('Authorization', 'Basic x');
    h.set('X-Topic', 'spoofed');
    h.append('X-Many', 'a');
    h.append('X-Many', 'b');
    const { headers, callId } = requestHeaders(h, 'orders.eu', { 'x-delivery-attempt': '2' });
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-order': '7', 'x-many': ['a', 'b'], 'x-topic': 'orders.eu', 'x-delivery-attempt': '2' });
    expect(headers).not.toHaveProperty('nats-msg-id');
    expect(headers).not.toHaveProperty('authorization');
    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['x-call-id']).toBe(callId);
    expect(String(headers['x-start-time'])).toMatch(/^\d+000000$/);
  });

  it('keeps the caller\'s X-Call-Id', () => {
    const h = natsHeaders();
    h.set('X-Call-Id', 'mine');
    expect(requestHeaders(h, 's').callId).toBe('mine');
    expect(requestHeaders(undefined, 's').headers['x-topic']).toBe('s');
  });
});

describe('the per-function limit', () => {
  it('runs at most `limit` at once, the rest in order, and refuses beyond the wait list', async () => {
    const gate = new Gate(2);
    let now = 0;
    let most = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const task = (i: number) => () =>
      new Promise<void>((resolve) => {
        now++;
        most = Math.max(most, now);
        order.push(i);
        releases.push(() => {
          now--;
          resolve();
        });
      });
    for (let i = 0; i < 5; i++) expect(gate.run(task(i))).toBe(true);
    expect(order).toEqual([0, 1]);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    const full = new Gate(0);
    for (let i = 0; i < MAX_WAITING; i++) full.run(async () => undefined);
    expect(full.run(async () => undefined)).toBe(false);
  });
});
