// How a queued call is kept in JetStream: the request's body is the message's
// data, untouched (binary bodies stay binary); everything else about the
// request rides in one message header as JSON (NATS headers hold one line,
// and JSON escapes every control character). A dead letter is the same
// message with a second header saying why it failed. Pure: no NATS here.
import { z } from 'zod';
import type { FunctionRef } from '../core/functions/types.js';

/** A call accepted by /async-function, as stored until a worker has done it. */
export interface QueuedCall {
  callId: string;
  ref: FunctionRef;
  method: string;
  /** Path after /async-function/<name> ("/" when none). */
  path: string;
  /** The query string without "?" ("" when none). */
  query: string;
  /** The headers that go to the function (X-Call-Id, X-Start-Time included). */
  headers: Record<string, string | string[]>;
  /** Where the answer is POSTed; absent: nobody is told. */
  callbackUrl?: string;
  /** When the gateway accepted it (ms since the epoch). */
  acceptedAt: number;
  body: Uint8Array;
}

/** Why a call ended as a dead letter. */
export interface Failure {
  /** The last status (the function's, or the gateway's 502/503/504); 0: no answer at all. */
  status: number;
  reason: string;
  attempts: number;
  failedAt: number;
}

/** The NATS header that carries the call (JSON). */
export const CALL_HEADER = 'Faas-Call';
/** The NATS header that carries a dead letter's failure (JSON). */
export const FAILURE_HEADER = 'Faas-Failure';

const VERSION = 1;

const headerValue = z.union([z.string(), z.array(z.string())]);
const callSchema = z.object({
  v: z.literal(VERSION),
  callId: z.string().min(1).max(200),
  name: z.string().min(1),
  namespace: z.string().min(1),
  method: z.string().regex(/^[A-Z]+$/),
  path: z.string().startsWith('/'),
  query: z.string(),
  headers: z.record(z.string(), headerValue),
  callbackUrl: z.string().optional(),
  acceptedAt: z.number(),
});
const failureSchema = z.object({ status: z.number().int(), reason: z.string(), attempts: z.number().int(), failedAt: z.number() });

export class UndecodableMessage extends Error {}

export function encodeCall(call: QueuedCall): { header: string; data: Uint8Array } {
  const meta: z.input<typeof callSchema> = {
    v: VERSION,
    callId: call.callId,
    name: call.ref.name,
    namespace: call.ref.namespace,
    method: call.method,
    path: call.path,
    query: call.query,
    headers: call.headers,
    ...(call.callbackUrl !== undefined ? { callbackUrl: call.callbackUrl } : {}),
    acceptedAt: call.acceptedAt,
  };
  return { header: JSON.stringify(meta), data: call.body };
}

export function decodeCall(header: string | undefined, data: Uint8Array): QueuedCall {
  if (!header) throw new UndecodableMessage(`no ${CALL_HEADER} header`);
  let json: unknown;
  try {
    json = JSON.parse(header);
  } catch {
    throw new UndecodableMessage(`${CALL_HEADER} is not JSON`);
  }
  const parsed = callSchema.safeParse(json);
  if (!parsed.success) throw new UndecodableMessage(`${CALL_HEADER}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const meta = parsed.data;
  return {
    callId: meta.callId,
    ref: { name: meta.name, namespace: meta.namespace },
    method: meta.method,
    path: meta.path,
    query: meta.query,
    headers: meta.headers,
    ...(meta.callbackUrl !== undefined ? { callbackUrl: meta.callbackUrl } : {}),
    acceptedAt: meta.acceptedAt,
    body: data,
  };
}

export function encodeFailure(failure: Failure): string {
  return JSON.stringify(failure);
}

export function decodeFailure(header: string | undefined): Failure | undefined {
  if (!header) return undefined;
  try {
    const parsed = failureSchema.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One subject token for a function name: the name itself when it holds only
 * what subjects and consumer names allow (every Swarm service name does),
 * else its hex spelling (so no name can reach another's subject).
 */
export function nameToken(name: string): string {
  return /^[A-Za-z0-9_-]{1,200}$/.test(name) ? name : `~${Buffer.from(name).toString('hex')}`;
}

export function tokenToName(token: string): string {
  return token.startsWith('~') ? Buffer.from(token.slice(1), 'hex').toString() : token;
}

/** Where a function's calls are kept: "<stream>.<namespace>.<name>". */
export function callSubject(stream: string, ref: FunctionRef): string {
  return `${stream}.${nameToken(ref.namespace)}.${nameToken(ref.name)}`;
}

/** The function a subject of the stream (or of its dead letters) belongs to. */
export function refOfSubject(subject: string): FunctionRef | undefined {
  const parts = subject.split('.');
  if (parts.length !== 3) return undefined;
  return { namespace: tokenToName(parts[1]!), name: tokenToName(parts[2]!) };
}

/**
 * The durable consumer that every worker shares for one function. A
 * namespace holds no "_", so "<namespace>_<name>" names one function only;
 * names with other characters are hashed into the token above.
 */
export function consumerName(ref: FunctionRef): string {
  const token = (text: string) => (/^[A-Za-z0-9_-]{1,100}$/.test(text) ? text : `x${Buffer.from(text).toString('hex').slice(0, 96)}`);
  return `fn_${token(ref.namespace)}_${token(ref.name)}`;
}
