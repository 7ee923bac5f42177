// /function/{name} and /function/{name}/{path...}, any method: forwards the
// request to one of the function's tasks and streams the answer back.
// The function is looked up in the live view (no Docker call per request).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError, statusOf } from '../http/errors.js';
import { ClientGone } from '../upstream/client-gone.js';
import { ProviderError } from '../provider/types.js';
import { WakeTimeoutError } from '../scaling/index.js';
import type { RouteDeps } from './deps.js';

export function registerInvoke(router: Router, deps: RouteDeps): void {
  const handler = (ctx: Context & { params: Record<string, string | undefined> }) => invoke(ctx, deps);
  router.all('/function/:name', handler);
  router.all('/function/:name/{*path}', handler);
}

async function invoke(ctx: Context & { params: Record<string, string | undefined> }, deps: RouteDeps): Promise<void> {
  const name = ctx.params.name!;
  const status = deps.functions.get(name);
  if (!status) throw new HttpError(404, `function ${name} not found`);
  deps.scaler.recordInvocation(name);

  const started = performance.now();
  const res = ctx.res;
  const gone = ClientGone.watch(res);
  let code = 0;
  try {
    const address = await firstAddress(name, status.replicas, status.availableReplicas, deps, gone);
    // The path suffix and query exactly as the client sent them (still percent-encoded).
    const suffix = ctx.path.slice(`/function/${name}`.length) || '/';
    code = await deps.forwarder.forward(
      { name, method: ctx.method, path: suffix + (ctx.querystring ? `?${ctx.querystring}` : ''), req: ctx.req, res, clientIp: ctx.request.ip, signal: gone },
      address,
    );
    // The forwarder wrote the answer itself.
    ctx.respond = false;
  } catch (error) {
    code = statusOf(error);
    if (gone.aborted) {
      code = 499; // the client went away: nobody to answer
      ctx.respond = false;
      return;
    }
    if (res.headersSent) {
      // The answer had started and broke off: the connection was cut, nothing more to say.
      ctx.respond = false;
      code = res.statusCode;
      if (!gone.aborted) deps.log.warn({ err: error, function: name }, 'answer from the function broke off');
      return;
    }
    throw error;
  } finally {
    deps.metrics.recordInvocation(name, code, (performance.now() - started) / 1000);
  }
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
  try {
    probed = await deps.scaler.ensureAvailable(name, gone.signal);
  } catch (error) {
    // The gateway waited as long as it may for the function to come up: a gateway timeout, with what it waited for.
    if (error instanceof WakeTimeoutError) throw new HttpError(504, error.message);
    if (error instanceof ProviderError && error.kind === 'not-found') throw new HttpError(404, `function ${name} not found`);
    throw new HttpError(503, `function ${name} is not available: ${(error as Error).message}`);
  }
  // forget, not invalidate: the cached addresses are of tasks that are gone, and select() would still hand one out.
  deps.endpoints.forget(name);
  // A task that answered the scaler's readiness probe before the orchestrator listed it: this request only.
  if (probed) return probed;
  address = await deps.endpoints.select(name);
  if (!address) throw new HttpError(503, `function ${name} has no healthy task`);
  return address;
}
