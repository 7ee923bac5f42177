// One place that maps errors to HTTP answers: handlers throw, this answers.
// The errors of the other layers (the invocation core, the queue, the
// provider, validation) are their own; only here do they become statuses.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { INVOCATION_STATUS, InvocationError } from '../../../core/invocation/errors.js';
import { QueueFull, QueueUnavailable, StoreFull } from '../../../queue/errors.js';
import { ProviderError } from '../provider/types.js';
import { ValidationError } from '../validation.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const providerStatus: Record<ProviderError['kind'], number> = {
  'not-found': 404,
  conflict: 409,
  invalid: 400,
  // The engine API is down or not answering: the gateway itself is fine, try again later.
  unavailable: 503,
};

export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof ValidationError) return 400;
  if (error instanceof ProviderError) return providerStatus[error.kind];
  if (error instanceof InvocationError) return INVOCATION_STATUS[error.kind];
  if (error instanceof QueueFull) return 429; // the function's own queue is at its limit: the others still take calls
  if (error instanceof QueueUnavailable) return 503; // NATS away, or its store full: the gateway is fine, the queue is not
  return 500;
}

/** Seconds a refused caller should wait before trying again (Retry-After), when the error says. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof InvocationError) return error.retryAfterSeconds;
  return error instanceof QueueFull || error instanceof StoreFull ? error.retryAfterSeconds : undefined;
}

/** Answers errors as text/plain (like OpenFaaS) and logs server-side failures. */
export function errorHandler(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      explainRouterMiss(ctx);
    } catch (error) {
      const status = statusOf(error);
      if (status >= 500) log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      else log.debug({ status, method: ctx.method, path: ctx.path, reason: (error as Error).message }, 'request refused');
      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = status;
      const retryAfter = retryAfterOf(error);
      if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = status === 500 ? 'internal error' : (error as Error).message;
    }
  };
}

/** Koa's bare "Method Not Allowed" / "Not Found" become answers that say what was asked and what would work. */
function explainRouterMiss(ctx: Context): void {
  if (ctx.status === 405 && ctx.body == null) {
    ctx.body = `method ${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow') || 'none'})`;
    ctx.status = 405; // setting a body makes Koa's status 200
  } else if (ctx.status === 404 && ctx.body === undefined) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `no route for ${ctx.method} ${ctx.path}`;
    ctx.status = 404;
  }
}
