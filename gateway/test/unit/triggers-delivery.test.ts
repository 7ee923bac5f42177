// How a trigger makes a message into a request (triggers/delivery.ts), and
// the per-function limit of at-most-once triggers (triggers/gate.ts).
import { describe, expect, it } from 'vitest';
import { eventHeaders } from '../../src/triggers/delivery.js';
import { Gate } from '../../src/triggers/gate.js';

const MAX_WAITING = 1_000;

describe('a message as a request', () => {
  it('carries the message headers an HTTP request can, then the subject, a call id and the start time', () => {
    const h = { 'Content-Type': ['application/json'], 'X-Order': ['7'], 'Nats-Msg-Id': ['abc'], Authorization: ['Basic x'], 'X-Topic': ['spoofed'], 'X-Many': ['a', 'b'], 'X-Bad': ['a\r\nb'] };
    const { headers, callId } = eventHeaders(h, 'orders.eu', { 'x-delivery-attempt': '2' });
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-order': '7', 'x-many': ['a', 'b'], 'x-topic': 'orders.eu', 'x-delivery-attempt': '2' });
    expect(headers).not.toHaveProperty('nats-msg-id');
    expect(headers).not.toHaveProperty('authorization');
    expect(headers).not.toHaveProperty('x-bad');
    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['x-call-id']).toBe(callId);
    expect(String(headers['x-start-time'])).toMatch(/^\d+000000$/);
  });

  it('keeps the caller\'s X-Call-Id', () => {
    expect(eventHeaders({ 'X-Call-Id': ['mine'] }, 's').callId).toBe('mine');
    expect(eventHeaders({}, 's').headers['x-topic']).toBe('s');
  });
});

describe('the per-function limit', () => {
  it('runs at most `limit` at once, the rest in order, and refuses beyond the wait list', async () => {
    const gate = new Gate(2, MAX_WAITING);
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
    const full = new Gate(0, MAX_WAITING);
    for (let i = 0; i < MAX_WAITING; i++) full.run(async () => undefined);
    expect(full.run(async () => undefined)).toBe(false);
  });
});
