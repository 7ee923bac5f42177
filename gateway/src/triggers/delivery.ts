// One delivery, start to end, whatever the trigger: the message becomes a
// request (the trigger's adapter), the request one invocation through the
// invocation core (routing, waking from zero, retries on unreachable
// instances, metrics) with a CollectingSink for the answer, the answer an
// outcome (retry.ts: done, try again later, or a dead letter), and the
// outcome goes back to the adapter (a callback, a reply, a run record) and
// to the message (acknowledged only after everything else: at-least-once).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Invocation } from '../core/invocation/core.js';
import { INVOCATION_STATUS, InvocationError } from '../core/invocation/errors.js';
import type { InvocationSource } from '../core/invocation/metrics.js';
import { CollectingSink, type AnswerSink } from '../core/invocation/sink.js';
import type { FunctionRef } from '../core/functions/types.js';
import { ClientGone } from '../core/upstream/client-gone.js';
import type { UpstreamBody } from '../core/upstream/forward.js';
import type { Delivery } from '../queue/consumers.js';
import type { MessageHeaders } from '../queue/events.js';
import { decide, type Outcome, type RetryPolicy, type StatusPolicy } from './retry.js';

/** What a trigger asks of the function for one message. */
export interface TriggerRequest {
  ref: FunctionRef;
  method: string;
  /** Path and query, as the function sees them. */
  path: string;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
  callId: string;
  source: InvocationSource;
}

/** How one invocation went. */
export interface Attempt {
  /** The function's status; the core's 404/413/502/503/504 when it gave none; 0: no answer at all. */
  status: number;
  reason: string;
  /** The answer, when the function gave one. */
  sink?: CollectingSink;
  /** The function is gone (not a failure of the function: nothing to retry). */
  notFound?: boolean;
  durationMs: number;
}

/** What a delivery needs: the core's invoke, and how much of an answer to keep. */
export interface DeliveryDeps {
  invoke: (invocation: Invocation, sink: AnswerSink) => Promise<number>;
  answerLimit: number;
  /** A delivery being worked on says so this often (a third of the ack wait). */
  keepAliveMs: number;
  log: Logger;
}

/** The final outcome of a delivery, as its trigger hears it. */
export type Settled =
  | { kind: 'done'; attempt: Attempt }
  | { kind: 'retry'; attempt: Attempt; delayMs: number; reason: string }
  | { kind: 'dead'; attempt: Attempt; reason: string; deadLetter: number };

/** A trigger's part: a message in, a request out, the outcome back. */
export interface TriggerAdapter {
  /** The request for a delivered message; undefined: nobody can work it (it is dropped). */
  request(delivery: Delivery): TriggerRequest | undefined;
  /** Attempts (the first included) before a retryable failure becomes a dead letter. */
  retryPolicy(ref: FunctionRef): RetryPolicy;
  /** Which answers are retried and which are dead letters at once; default: retry.ts's DEFAULT_STATUSES. */
  readonly statuses?: StatusPolicy;
  /** Keeps a message that failed for good; resolves with the dead letter's id. */
  deadLetter(delivery: Delivery, request: TriggerRequest, reason: string, attempt: Attempt): Promise<number>;
  /** Told how the delivery went (before it is acknowledged): the callback, the reply, the run record, the metrics. */
  settled(delivery: Delivery, request: TriggerRequest, outcome: Settled): Promise<void>;
}

/** One invocation with the answer collected. Never throws: a failure is an Attempt with its status. */
export async function attempt(deps: Pick<DeliveryDeps, 'invoke' | 'answerLimit'>, request: TriggerRequest): Promise<Attempt> {
  const sink = new CollectingSink(deps.answerLimit);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const status = await deps.invoke(
      {
        ref: request.ref,
        method: request.method,
        path: request.path,
        headers: request.headers,
        declaredLength: request.body.length,
        body: request.body.length > 0 ? bufferBody(request.body) : undefined,
        signal: new ClientGone(),
        source: request.source,
      },
      sink,
    );
    if (sink.broken) return { status: 0, reason: 'the function answer broke off', durationMs: elapsed() };
    return { status, reason: `the function answered ${status}`, sink, durationMs: elapsed() };
  } catch (error) {
    if (error instanceof InvocationError) return { status: INVOCATION_STATUS[error.kind], reason: error.message, notFound: error.kind === 'not-found', durationMs: elapsed() };
    // Not the core's own failure: an unexpected one, worth another try (0: no answer at all).
    return { status: 0, reason: (error as Error).message, durationMs: elapsed() };
  }
}

/** The one delivery step every durable trigger runs for each message. */
export async function deliver(deps: DeliveryDeps, trigger: TriggerAdapter, delivery: Delivery): Promise<void> {
  let request: TriggerRequest | undefined;
  try {
    request = trigger.request(delivery);
  } catch (error) {
    deps.log.error({ err: error, subject: delivery.subject, seq: delivery.seq }, 'dropping a message that cannot be made into a request');
  }
  if (!request) {
    delivery.drop();
    return;
  }
  // Tell the queue the message is being worked on, so it is not handed to another replica meanwhile.
  const keepAlive = setInterval(() => delivery.working(), deps.keepAliveMs);
  try {
    const result = await attempt(deps, request);
    const outcome: Outcome = decide(delivery.deliveryCount, result.status, result.reason, trigger.retryPolicy(request.ref), {
      notFound: result.notFound,
      ...(trigger.statuses ? { statuses: trigger.statuses } : {}),
    });
    if (outcome.kind === 'retry') {
      await trigger.settled(delivery, request, { kind: 'retry', attempt: result, delayMs: outcome.delayMs, reason: outcome.reason });
      delivery.retryAfter(outcome.delayMs);
      return;
    }
    if (outcome.kind === 'dead') {
      const id = await trigger.deadLetter(delivery, request, outcome.reason, result);
      await trigger.settled(delivery, request, { kind: 'dead', attempt: result, reason: outcome.reason, deadLetter: id });
    } else {
      await trigger.settled(delivery, request, { kind: 'done', attempt: result });
    }
    try {
      await delivery.done();
    } catch (error) {
      // The queue went away between the invocation and its acknowledgement: it will be delivered again (a duplicate).
      deps.log.warn({ callId: request.callId, err: error }, 'acknowledgement not confirmed: the message may be delivered again');
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/** Headers of a message that are NATS's own (JetStream's message id, the status of a no-responders answer). */
const NATS_OWN = /^nats-/i;
/** What an HTTP header name may be (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers a message may not set for the function: they are the trigger's, or would confuse the request. */
const NOT_FROM_MESSAGE = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'x-topic', 'authorization', 'cookie']);

/** The request headers of an event: the message's own (lower-cased, those an HTTP request can carry), then the trigger's. */
export function eventHeaders(messageHeaders: MessageHeaders, topic: string, extra: Record<string, string> = {}): { headers: Record<string, string | string[]>; callId: string } {
  const headers: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(messageHeaders)) {
    const name = key.toLowerCase();
    if (NATS_OWN.test(name) || !TOKEN.test(name) || NOT_FROM_MESSAGE.has(name)) continue;
    const clean = values.filter((v) => !/[\r\n\0]/.test(v));
    if (clean.length > 0) headers[name] = clean.length === 1 ? clean[0]! : clean;
  }
  const given = headers['x-call-id'];
  const callId = typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : randomUUID();
  headers['x-call-id'] = callId;
  headers['x-topic'] = topic;
  headers['x-start-time'] = `${Date.now()}000000`;
  for (const [name, value] of Object.entries(extra)) headers[name] = value;
  return { headers, callId };
}

/** A stored body, sent (and sent again on a retry) as one Buffer. */
function bufferBody(bytes: Uint8Array): UpstreamBody {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { started: false, tooLarge: false, forUndici: () => buffer };
}
