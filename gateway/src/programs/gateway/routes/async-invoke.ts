// /async-function/{name}[.{namespace}][/{path...}]: the asynchronous
// invocation. The request (method, path, query, the headers that go to the
// function, body up to ASYNC_BODY_LIMIT) is stored in NATS JetStream, and
// only once JetStream has it is the caller answered 202 with X-Call-Id. A
// queue worker makes the call later (programs/queue-worker/) and, when the
// request had X-Callback-Url, POSTs the function's answer there. A function
// with as many calls queued as its limits allow is refused with 429 and
// Retry-After (the others still take calls); a full store answers 503.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { parseFunctionName, qualifiedName } from '../../../core/functions/names.js';
import { HttpError } from '../http/errors.js';
import type { RouteDeps } from './deps.js';
import { invocationHeaders } from './invoke.js';
import { LABEL } from '../../../core/labels.js';
import { asyncAcceptedCounter } from '../async-metrics.js';

/** Methods a queued call may have. GET and HEAD ask for an answer, which an asynchronous call does not give. */
export const ASYNC_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

export function registerAsyncInvoke(router: Router, deps: RouteDeps): void {
  const { queue } = deps;
  const accepted = asyncAcceptedCounter(deps.metrics.registry);
  const handler = async (ctx: Context) => {
    if (!ASYNC_METHODS.includes(ctx.method)) {
      ctx.set('Allow', ASYNC_METHODS.join(', '));
      throw new HttpError(405, `${ctx.method} is not allowed on /async-function/: use ${ASYNC_METHODS.join(', ')}`);
    }
    // What the function is sent: the path after the name, as the client wrote it (like /function/).
    const afterPrefix = ctx.path.slice('/async-function/'.length);
    const slash = afterPrefix.indexOf('/');
    const rest = slash === -1 ? '' : afterPrefix.slice(slash);
    const ref = parseFunctionName(ctx.params.name!, deps.config.DEFAULT_NAMESPACE);
    const name = qualifiedName(ref, deps.config.DEFAULT_NAMESPACE);
    const entry = deps.functions.get(ref);
    if (!entry) throw new HttpError(404, `function ${name} not found`);
    if (!queue) throw new HttpError(503, 'asynchronous invocations are off (NATS_URL=none)');

    const callbackUrl = ctx.get('x-callback-url');
    if (callbackUrl && !isHttpUrl(callbackUrl)) throw new HttpError(400, `X-Callback-Url must be an absolute http:// or https:// URL, got ${JSON.stringify(callbackUrl.slice(0, 200))}`);

    const limit = deps.config.ASYNC_BODY_LIMIT;
    const declared = ctx.get('content-length');
    if (declared && Number(declared) > limit) throw new HttpError(413, `request body larger than ${limit} bytes (ASYNC_BODY_LIMIT)`);
    const body = await readBody(ctx.req, limit);

    // As for synchronous calls: the caller's credentials stay here unless the function asks for them.
    const labels = entry.status.labels;
    const { headers, callId, answerHeaders } = invocationHeaders(ctx.req.headers, ctx.req.socket.remoteAddress ?? '', { credentials: labels?.[LABEL.forwardCredentials] === 'true' });
    // The stored body goes out as one Buffer: its length is set anew then.
    delete headers['content-length'];
    await queue.calls.enqueue(
      {
        callId,
        ref,
        method: ctx.method,
        path: rest === '' ? '/' : rest,
        query: ctx.querystring,
        headers,
        ...(callbackUrl ? { callbackUrl } : {}),
        acceptedAt: Date.now(),
        body,
      },
      randomUUID(),
      queue.limitsOf(ref),
    );
    accepted.inc({ function_name: name });
    // A queued call is use of the function: its idle period (scale to zero) starts again, as for a synchronous call.
    deps.scaler.recordInvocation(ref);
    ctx.status = 202;
    ctx.set('x-call-id', callId);
    ctx.set('x-start-time', answerHeaders['x-start-time']!);
    ctx.body = '';
  };
  router.all('/async-function/:name', handler);
  router.all('/async-function/:name/{*path}', handler);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** After a body over the limit, how much more is read (and dropped) so the client can read its 413; beyond, the connection is cut. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/** The whole body, refused with 413 as soon as it passes `limit`. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused) {
        if (size > limit + DRAIN_LIMIT) req.socket.destroy();
        return;
      }
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new HttpError(413, `request body larger than ${limit} bytes (ASYNC_BODY_LIMIT)`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new HttpError(400, 'the request body broke off')));
  });
}
