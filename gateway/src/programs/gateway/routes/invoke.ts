// /function/{name}[.{namespace}] and /function/{name}/{path...}, any method:
// the synchronous invocation. The server hands invocations to this handler
// before Koa (see http/invocation-target.ts); the Koa route below serves the
// spellings that only Koa's URL parsing recognises. The work is done by the
// invocation core; this module turns Node's request into an Invocation and
// failures into text/plain answers.
import { LABEL } from '../../../core/labels.js';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { forwardableHeaders, RequestBody } from '@swarm-faas/http-relay';
import { parseFunctionName } from '../../../core/functions/names.js';
import { HttpError, retryAfterOf, statusOf } from '../http/errors.js';
import { invocationTarget, type InvocationTarget } from '../http/invocation-target.js';
import type { InvocationCore } from '../../../core/invocation/core.js';
import { ResponseSink } from '../../../core/invocation/sink.js';
import { ClientGone } from '../../../core/upstream/client-gone.js';
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

/** The client's Host names the gateway: undici sets the instance's own. */
const NOT_FORWARDED = new Set(['host']);
/** Nor, unless the function asks for them (LABEL.forwardCredentials), the caller's credentials for the gateway or another site. */
const NOT_FORWARDED_CREDENTIALS = new Set(['host', 'authorization', 'cookie']);
/**
 * Sent with every answer of a function (unless it opts out): a page it
 * serves runs in an opaque origin, so its scripts cannot act on /system/*
 * with the user's credentials; scripts, forms and popups still work.
 */
export const SANDBOX_POLICY = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

export function createInvoker(deps: RouteDeps, core: InvocationCore): Invoker {
  const { config } = deps;
  return async (req, res, target) => {
    const ref = parseFunctionName(target.name, config.DEFAULT_NAMESPACE);
    const gone = ClientGone.watch(res);
    try {
      const labels = deps.functions.get(ref)?.status.labels;
      const { headers, answerHeaders } = invocationHeaders(req.headers, req.socket.remoteAddress ?? '', {
        credentials: labels?.[LABEL.forwardCredentials] === 'true',
        sandbox: labels?.[LABEL.sandbox] !== 'false',
      });
      const declared = req.headers['content-length'];
      await core.invoke(
        {
          ref,
          method: req.method ?? 'GET',
          path: target.path,
          headers,
          ...(declared !== undefined ? { declaredLength: Number(declared) } : {}),
          // Read only once the function is known and the declared length allowed.
          body: RequestBody.expected(req.headers) ? () => RequestBody.start(req, config.FUNCTION_BODY_LIMIT) : undefined,
          signal: gone,
          answerHeaders,
        },
        new ResponseSink(res),
      );
    } catch (error) {
      if (!gone.aborted) answerError(req, res, error, target.name, deps);
    }
  };
}

/**
 * What goes to the function: the client's headers that a proxy passes on
 * (not its Authorization or Cookie unless the function asks), X-Forwarded-For/-Host, and the call's X-Call-Id (the client's, else a new
 * one) and X-Start-Time (Unix nanoseconds, as OpenFaaS sends it), which also
 * go back to the client.
 */
export function invocationHeaders(incoming: IncomingHttpHeaders, clientIp: string, options: { credentials?: boolean; sandbox?: boolean } = {}) {
  const headers = forwardableHeaders(incoming, options.credentials ? NOT_FORWARDED : NOT_FORWARDED_CREDENTIALS);
  const prior = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${clientIp}` : clientIp;
  if (incoming.host) headers['x-forwarded-host'] = incoming.host;
  const given = incoming['x-call-id'];
  const callId = typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : randomUUID();
  const startTime = `${Date.now()}000000`;
  headers['x-call-id'] = callId;
  headers['x-start-time'] = startTime;
  const answerHeaders: Record<string, string> = { 'x-call-id': callId, 'x-start-time': startTime };
  if (options.sandbox ?? true) answerHeaders['content-security-policy'] = SANDBOX_POLICY;
  return { headers, answerHeaders, callId };
}

/** Answers an invocation that failed (text/plain, like every error of the gateway). */
function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, name: string, deps: RouteDeps): void {
  if (res.headersSent) {
    // The answer had started and broke off: the connection was cut, nothing more to say.
    deps.log.warn({ err: error, function: name }, 'answer from the function broke off');
    if (!res.writableEnded) res.destroy();
    return;
  }
  const status = statusOf(error);
  if (status >= 500) deps.log.error({ err: error, method: req.method, function: name }, 'invocation failed');
  else deps.log.debug({ status, method: req.method, function: name, reason: (error as Error).message }, 'invocation refused');
  const body = Buffer.from(status === 500 ? 'internal error' : (error as Error).message);
  if (!res.destroyed) {
    const retryAfter = retryAfterOf(error);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}) });
    res.end(body);
  }
}
