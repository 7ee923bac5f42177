// Why an invocation got no answer from the function, in the invocation
// core's words. Each edge says it in its own terms: the gateway as an HTTP
// status (programs/gateway/http/errors.ts), the triggers as the status of the
// outcome they retry, dead-letter or report (triggers/delivery.ts); both
// take the status from INVOCATION_STATUS, so a sync and an async caller hear
// the same.
export type InvocationFailure =
  /** No such function. */
  | 'not-found'
  /** The request body is over FUNCTION_BODY_LIMIT. */
  | 'too-large'
  /** No instance became ready within WAKE_TIMEOUT. */
  | 'no-instance'
  /** The function did not answer within UPSTREAM_TIMEOUT. */
  | 'timeout'
  /** No instance could be reached, or the answer broke off before it started. */
  | 'unreachable'
  /** The function cannot be woken now (the orchestrator, or the gateways, are away). */
  | 'unavailable'
  /** Every replica has its concurrency limit in flight, and the call waited as long as it may, or too many wait already. */
  | 'overloaded';

export class InvocationError extends Error {
  constructor(
    readonly kind: InvocationFailure,
    message: string,
    /** Seconds after which a new try may do better (said as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'InvocationError';
  }
}

/** The HTTP status each failure is reported with. */
export const INVOCATION_STATUS: Record<InvocationFailure, number> = {
  'not-found': 404,
  'too-large': 413,
  'no-instance': 504,
  timeout: 504,
  unreachable: 502,
  unavailable: 503,
  overloaded: 429,
};
