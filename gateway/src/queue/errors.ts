// What can go wrong with the queue, as the programs tell their callers: the
// gateway answers QueueUnavailable and StoreFull with 503, QueueFull with 429
// (both with Retry-After); the triggers try again later.
import { JetStreamApiError } from '@nats-io/jetstream';

/** The queue cannot be reached (NATS down, or not answering in time): the caller answers 503. */
export class QueueUnavailable extends Error {}

/** The function has as many calls queued as its limits allow: the caller may try again later (429). */
export class QueueFull extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The store itself is (nearly) full, or a shared stream is: nothing more is accepted for now (503). */
export class StoreFull extends QueueUnavailable {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export function isStreamMissing(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`;
  // A publish with no stream to take it: "no responders", which the client reports as "jetstream is not enabled".
  return /stream not found|no stream matches subject|StreamNotFound|no responders|jetstream is not enabled/i.test(text);
}

/** A request NATS did not answer in time (the client's TimeoutError). */
export function isTimeout(error: unknown): boolean {
  return (error as Error)?.name === 'TimeoutError' || /^timeout$/i.test(String((error as Error)?.message));
}

export function isNotFound(error: unknown): boolean {
  return /not found|EOF/i.test(String((error as Error)?.message));
}

export function isAlreadyThere(error: unknown): boolean {
  return error instanceof JetStreamApiError && /already in use|already exists/i.test(error.message);
}

export function unavailable(error: unknown, what = 'the queue (NATS JetStream)'): Error {
  if (error instanceof QueueUnavailable) return error;
  return new QueueUnavailable(`${what} is not available: ${(error as Error)?.message ?? String(error)}`);
}
