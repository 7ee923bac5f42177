// /function/{name} and /function/{name}/{path...}, any method: forwards the
// request to one of the function's tasks and streams the answer back.
// The function is looked up in the live view (no Docker call per request).
// The invoker works on Node's request and response directly: the server hands
// it invocations before Koa (see http/invocation-target.ts), and the Koa route
// below serves the spellings that only Koa's URL parsing recognises.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError, statusOf } from '../http/errors.js';
import { invocationTarget, type InvocationTarget } from '../http/invocation-target.js';
import { ClientGone } from '../upstream/client-gone.js';
import { ProviderError } from '../provider/types.js';
import { WakeTimeoutError } from '../scaling/index.js';
import type { RouteDeps } from './deps.js';

export type Invoker = (req: IncomingMessage, res: ServerResponse, target: InvocationTarget) => Promise<void>;

export function registerInvoke(router: Router, invoke: Invoker): void {
  const handler = async (ctx: Context) => {
    // The same reading of the path as the hot path's, from Koa's parse of the URL.
    const target = invocationTarget(ctx.path + (ctx.querystring ? `?${ctx.querystring}` : ''));
    if (!target) throw new HttpError(404, `no function in ${ctx.path}`);
    ctx.respond = false; // the invoker answers, errors included
    await invoke(ctx.req, ctx.res, target);
  };
  router.all('/function/:name', handler);
  router.all('/function/:name/{*path}', handler);
}

export function createInvoker(deps: RouteDeps): Invoker {
  return async (req, res, { name, path }) => {
    const status = deps.functions.get(name);
    // Unknown names are not counted: a metric label per mistyped name would grow without bound.
    if (!status) return void answerError(req, res, new HttpError(404, `function ${name} not found`), name, deps);
    deps.scaler.recordInvocation(name);
    const started = performance.now();
    const gone = ClientGone.watch(res);
    let code = 0;
    try {
      const address = await firstAddress(name, status.replicas, status.availableReplicas, deps, gone);
      // The forwarder writes the answer itself.
      code = await deps.forwarder.forward({ name, method: req.method ?? 'GET', path, req, res, clientIp: req.socket.remoteAddress ?? '', signal: gone }, address);
    } catch (error) {
      code = gone.aborted ? 499 : answerError(req, res, error, name, deps); // 499: the client went away, nobody to answer
    } finally {
      deps.metrics.recordInvocation(name, code, (performance.now() - started) / 1000);
    }
  };
}

/** Answers an invocation that failed (text/plain, like every error of the gateway); returns the status for the metrics. */
function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, name: string, deps: RouteDeps): number {
  if (res.headersSent) {
    // The answer had started and broke off: the connection was cut, nothing more to say.
    deps.log.warn({ err: error, function: name }, 'answer from the function broke off');
    return res.statusCode;
  }
  const status = statusOf(error);
  if (status >= 500) deps.log.error({ err: error, method: req.method, function: name }, 'invocation failed');
  else deps.log.debug({ status, method: req.method, function: name, reason: (error as Error).message }, 'invocation refused');
  const body = Buffer.from(status === 500 ? 'internal error' : (error as Error).message);
  if (!res.destroyed) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
    res.end(body);
  }
  return status;
}

/** The first task to try; wakes the function (through the scaler) when it has none. */
async function firstAddress(
  name: string,
  replicas: number,
  availableReplicas: number,
  deps: RouteDeps,
  gone: ClientGone,
): Promise<string> {
  const vip = deps.config.UPSTREAM_MODE === 'vip';
  let address = vip && availableReplicas === 0 ? undefined : await deps.endpoints.select(name);
  if (address && replicas > 0) return address;
  let probed: string | undefined;
  const waitingSince = deps.endpoints.now();
  try {
    probed = await deps.scaler.ensureAvailable(name, gone.signal);
  } catch (error) {
    // The gateway waited as long as it may for the function to come up: a gateway timeout, with what it waited for.
    if (error instanceof WakeTimeoutError) throw new HttpError(504, error.message);
    if (error instanceof ProviderError && error.kind === 'not-found') throw new HttpError(404, `function ${name} not found`);
    throw new HttpError(503, `function ${name} is not available: ${(error as Error).message}`);
  }
  // Forget, not invalidate: the cached addresses are of tasks that are gone, and select() would still hand one out.
  deps.endpoints.forgetOlderThan(name, waitingSince);
  // A task that answered the scaler's readiness probe before the orchestrator listed it: this request only.
  if (probed) return probed;
  address = await deps.endpoints.select(name);
  if (!address) throw new HttpError(503, `function ${name} has no healthy task`);
  return address;
}
