// How a queued call is kept in JetStream: encoding, decoding, and the
// subjects and consumer names of functions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  callSubject,
  consumerName,
  decodeCall,
  decodeFailure,
  encodeCall,
  encodeFailure,
  refOfSubject,
  UndecodableMessage,
  type QueuedCall,
} from '../../src/queue/call-message.js';

const call: QueuedCall = {
  callId: 'c-1',
  ref: { name: 'func_echoit', namespace: 'openfaas-fn' },
  method: 'PUT',
  path: '/a/b',
  query: 'x=1&y=%20',
  headers: { 'content-type': 'application/octet-stream', 'x-call-id': 'c-1', 'set-cookie': ['a=1', 'b=2'] },
  callbackUrl: 'http://receiver:8080/cb',
  acceptedAt: 1_700_000_000_000,
  body: Uint8Array.from([0, 1, 2, 255, 10, 13]),
};

describe('a queued call', () => {
  it('comes back as it went in, the body untouched as the message data', () => {
    const { header, data } = encodeCall(call);
    expect(data).toBe(call.body);
    expect(header).not.toMatch(/[\r\n]/); // one NATS header line
    expect(decodeCall(header, data)).toEqual(call);
  });

  it('keeps any header value, method, path and body on one header line', () => {
    fc.assert(
      fc.property(
        fc.record({
          callId: fc.string({ minLength: 1, maxLength: 200 }),
          name: fc.string({ minLength: 1 }),
          method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
          path: fc.string().map((p) => `/${p}`),
          query: fc.string(),
          value: fc.string(),
          body: fc.uint8Array({ maxLength: 200 }),
        }),
        ({ callId, name, method, path, query, value, body }) => {
          const c: QueuedCall = { callId, ref: { name, namespace: 'ns' }, method, path, query, headers: { 'x-any': value }, acceptedAt: 1, body };
          const { header, data } = encodeCall(c);
          expect(header).not.toMatch(/[\r\n]/);
          expect(decodeCall(header, data)).toEqual(c);
        },
      ),
    );
  });

  it('refuses a message that no gateway wrote, saying what is wrong', () => {
    expect(() => decodeCall(undefined, new Uint8Array())).toThrow(UndecodableMessage);
    expect(() => decodeCall('not json', new Uint8Array())).toThrow(/not JSON/);
    expect(() => decodeCall(JSON.stringify({ v: 2 }), new Uint8Array())).toThrow(/v/);
    const { header } = encodeCall(call);
    expect(() => decodeCall(header.replace('"PUT"', '"put"'), new Uint8Array())).toThrow(/method/);
    expect(() => decodeCall(header.replace('"/a/b"', '"a/b"'), new Uint8Array())).toThrow(/path/);
  });

  it('carries a dead letter\'s failure, and tolerates a missing or broken one', () => {
    const failure = { status: 503, reason: 'busy (after 3 attempts)', attempts: 3, failedAt: 5 };
    expect(decodeFailure(encodeFailure(failure))).toEqual(failure);
    expect(decodeFailure(undefined)).toBeUndefined();
    expect(decodeFailure('{')).toBeUndefined();
    expect(decodeFailure('{"status":"x"}')).toBeUndefined();
  });
});

describe('subjects and consumers', () => {
  it('names each function\'s subject "<stream>.<namespace>.<name>" and reads it back', () => {
    expect(callSubject('faas-async', call.ref)).toBe('faas-async.openfaas-fn.func_echoit');
    expect(refOfSubject('faas-async.openfaas-fn.func_echoit')).toEqual(call.ref);
    expect(refOfSubject('faas-async.too.many.tokens')).toBeUndefined();
  });

  it('gives names with characters subjects cannot hold a token of their own, never another function\'s', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), fc.string({ minLength: 1, maxLength: 60 }), (a, b) => {
        const subject = callSubject('s', { name: a, namespace: 'ns' });
        expect(subject.split('.')).toHaveLength(3);
        expect(subject).not.toMatch(/[\s*>]/);
        expect(refOfSubject(subject)).toEqual({ name: a, namespace: 'ns' });
        if (a !== b) expect(callSubject('s', { name: b, namespace: 'ns' })).not.toBe(subject);
      }),
    );
  });

  it('names one durable consumer per function, a valid JetStream name, distinct across namespaces', () => {
    expect(consumerName(call.ref)).toBe('fn_openfaas-fn_func_echoit');
    // A namespace holds no "_": these two cannot collide.
    expect(consumerName({ name: 'b_c', namespace: 'a' })).not.toBe(consumerName({ name: 'c', namespace: 'a-b' }));
    expect(consumerName({ name: 'odd name*', namespace: 'ns' })).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
