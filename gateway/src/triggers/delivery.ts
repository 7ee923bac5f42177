// One event (a NATS message, or a schedule's tick) made into one invocation
// of one function through the invocation core, the path synchronous calls
// take (routing, waking from zero, retries on unreachable instances,
// gateway_function_invocation_total), with a CollectingSink for the answer.
// The message's headers become request headers; X-Topic carries the subject.
import { randomUUID } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/transport-node';
import { HttpError, statusOf } from '../programs/gateway/http/errors.js';
import type { InvocationCore } from '../core/invocation/core.js';
import { CollectingSink } from '../core/invocation/sink.js';
import type { FunctionRef } from '../programs/gateway/provider/types.js';
import { ClientGone } from '../core/upstream/client-gone.js';
import type { UpstreamBody } from '../core/upstream/forward.js';

/** What a function is sent for one event. */
export interface EventRequest {
  subject: string;
  data: Uint8Array;
  /** Request headers, from the message's. */
  headers: Record<string, string | string[]>;
  callId: string;
}

export interface Attempt {
  /** The function's status; the gateway's 404/413/502/503/504 when it gave none; 0: no answer at all. */
  status: number;
  reason: string;
  sink?: CollectingSink;
  /** The function is gone (not a failure of the function: nothing to retry). */
  notFound?: boolean;
  durationMs: number;
}

/** Headers of the message that are NATS's own (JetStream's message id, the status of a no-responders answer). */
const NATS_OWN = /^nats-/i;
/** What an HTTP header name may be (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers a message may not set for the function: they are the connector's, or would confuse the request. */
const NOT_FROM_MESSAGE = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'x-topic', 'authorization', 'cookie']);

/** The request headers of a message: its own headers (lower-cased, those an HTTP request can carry), then the connector's. */
export function requestHeaders(messageHeaders: MsgHdrs | undefined, subject: string, extra: Record<string, string> = {}): { headers: Record<string, string | string[]>; callId: string } {
  const headers: Record<string, string | string[]> = {};
  if (messageHeaders) {
    for (const [key, values] of messageHeaders) {
      const name = key.toLowerCase();
      if (NATS_OWN.test(name) || !TOKEN.test(name) || NOT_FROM_MESSAGE.has(name)) continue;
      const clean = values.filter((v) => !/[\r\n\0]/.test(v));
      if (clean.length > 0) headers[name] = clean.length === 1 ? clean[0]! : clean;
    }
  }
  const given = headers['x-call-id'];
  const callId = typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : randomUUID();
  headers['x-call-id'] = callId;
  headers['x-topic'] = subject;
  headers['x-start-time'] = `${Date.now()}000000`;
  for (const [name, value] of Object.entries(extra)) headers[name] = value;
  return { headers, callId };
}

export async function invokeWithEvent(core: Pick<InvocationCore, 'invoke'>, ref: FunctionRef, event: EventRequest, answerLimit: number): Promise<Attempt> {
  const sink = new CollectingSink(answerLimit);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const status = await core.invoke(
      {
        ref,
        method: 'POST',
        path: '/',
        headers: event.headers,
        declaredLength: event.data.length,
        body: event.data.length > 0 ? bufferBody(event.data) : undefined,
        signal: new ClientGone(),
      },
      sink,
    );
    if (sink.broken) return { status: 0, reason: 'the function answer broke off', durationMs: elapsed() };
    return { status, reason: `the function answered ${status}`, sink, durationMs: elapsed() };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, reason: error.message, notFound: error.status === 404, durationMs: elapsed() };
    return { status: statusOf(error) === 500 ? 0 : statusOf(error), reason: (error as Error).message, durationMs: elapsed() };
  }
}

function bufferBody(bytes: Uint8Array): UpstreamBody {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { started: false, tooLarge: false, forUndici: () => buffer };
}
