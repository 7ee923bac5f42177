// One place that maps errors to HTTP answers: handlers throw, this answers.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { QueueUnavailable } from '../../../queue/async-queue.js';
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
  if (error instanceof QueueUnavailable) return 503; // NATS away: the gateway is fine, the queue is not
  return 500;
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
