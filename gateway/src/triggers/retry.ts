// What the queue worker does after one attempt at a call: done (the function
// answered: its answer goes to the callback, whatever the status), try again
// later (the function is overloaded or unreachable), or give up and keep the
// call as a dead letter. Pure: the worker and the unit tests share it.

/** Statuses that say "not now" rather than "this is the answer". */
const RETRYABLE = new Set([429, 502, 503, 504]);

export interface RetryPolicy {
  maxAttempts: number;
  /** Wait before the first retry, in ms; doubled each attempt. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export type Outcome =
  | { kind: 'done'; status: number }
  | { kind: 'retry'; status: number; delayMs: number; reason: string }
  | { kind: 'dead'; status: number; reason: string };

export function isRetryable(status: number): boolean {
  // 0: no answer at all (the connection failed).
  return status === 0 || RETRYABLE.has(status);
}

/**
 * Which answers a trigger tries again and which it keeps as dead letters at
 * once. The default (asynchronous calls, NATS events): 429, 502, 503, 504
 * and no answer are retried; every other answer is the outcome.
 */
export interface StatusPolicy {
  retryable(status: number): boolean;
  /** A final answer that is a failure to keep as a dead letter (not retried). */
  deadLetter(status: number): boolean;
}

export const DEFAULT_STATUSES: StatusPolicy = { retryable: isRetryable, deadLetter: () => false };

/** RabbitMQ triggers: a message is acknowledged only after a 2xx; 429, any 5xx and no answer are retried; any other answer is a dead letter. */
export const ACK_ON_2XX: StatusPolicy = {
  retryable: (status) => status === 0 || status === 429 || status >= 500,
  deadLetter: (status) => status !== 0 && status !== 429 && status < 500 && (status < 200 || status >= 300),
};

/**
 * After attempt number `attempt` (1 for the first) ended with `status`:
 * what next. `notFound`: the function is gone (404 from the gateway, not
 * from the function): nothing to retry, kept as a dead letter for a replay
 * once it is back. `random` in [0, 1) spreads retries (jitter).
 */
export function decide(
  attempt: number,
  status: number,
  reason: string,
  policy: RetryPolicy,
  options: { notFound?: boolean; random?: () => number; statuses?: StatusPolicy } = {},
): Outcome {
  if (options.notFound) return { kind: 'dead', status, reason };
  const statuses = options.statuses ?? DEFAULT_STATUSES;
  if (statuses.deadLetter(status)) return { kind: 'dead', status, reason };
  if (!statuses.retryable(status)) return { kind: 'done', status };
  if (attempt >= policy.maxAttempts) return { kind: 'dead', status, reason: `${reason} (after ${attempt} attempt${attempt === 1 ? '' : 's'})` };
  return { kind: 'retry', status, delayMs: retryDelayMs(attempt, policy, options.random ?? Math.random), reason };
}

/**
 * Exponential backoff with jitter: initial * 2^(attempt-1), capped at max,
 * then between 80 % and 100 % of that, so calls that failed together do
 * not all come back in the same millisecond.
 */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.round(base * (0.8 + 0.2 * random()));
}
