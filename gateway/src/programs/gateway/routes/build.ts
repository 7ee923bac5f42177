// POST /system/build and POST /build: the OpenFaaS Function Builder API,
// served by the stack's builder (builder/), which the gateway reaches on a
// network only the two of them share. The gateway only relays: the request
// body streams through to the builder as it arrives and the builder's answer
// (NDJSON progress, or one JSON object) streams back, so a build costs the
// gateway no memory and the Docker socket used for builds stays out of it.
//  - /system/build: a signed request (X-Build-Signature, checked by the
//    builder), or the gateway's basic auth, which the gateway checks and
//    vouches for (X-Gateway-Authenticated; any such header from the client is
//    dropped). Behind the same-origin guard of every /system/* change.
//  - /build: the path faas-cli 0.17.6 posts to whatever path its
//    --remote-builder URL has (the OpenFaaS go-sdk joins "/build" to the
//    host); signed requests only, since it lies outside /system/*.
import type { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { request } from 'undici';
import type { BasicAuthChecker } from '../http/basic-auth.js';
import type { RouteDeps } from './deps.js';

const PATHS = { system: '/system/build', cli: '/build' } as const;
const FORWARDED = ['content-type', 'content-length', 'accept', 'x-build-signature', 'x-build-no-cache', 'user-agent'];

/** The answer when the stack has no builder (503), here and on POST /system/source. */
export const NO_BUILDER = 'this stack has no builder (BUILDER_URL is empty; deploy_stack.sh brings one unless --no-builder)';

/**
 * POSTs a build request (a tar) to the builder at `base` (BUILDER_URL). No
 * timeouts: a build may be silent for minutes when not streamed, and the
 * builder bounds it (BUILD_TIMEOUT). A connection per build: a kept-alive one
 * outlives a restarted builder (a new address) and fails the next build.
 */
export function postToBuilder(base: string, headers: Record<string, string>, body: Readable | Buffer, signal?: AbortSignal) {
  return request(`${base}/build`, { method: 'POST', headers, body, headersTimeout: 0, bodyTimeout: 0, reset: true, ...(signal ? { signal } : {}) });
}

/** How much of an unwanted upload is read and dropped after the answer, and for how long at most (closeAfterAnswer). */
const LINGER_BYTES = 32 * 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * Refused before the body was read whole (401, 413): nobody wants the rest of
 * the upload, but closing at once, with its bytes unread, resets the
 * connection, and a reset can destroy the answer before the client reads it
 * (it then hears EPIPE, or nothing). So the upload is read and dropped for a
 * moment while the answer travels (a lingering close), then the connection is
 * closed.
 */
function closeAfterAnswer(ctx: Context): void {
  let dropped = 0;
  const close = () => ctx.req.socket.destroy();
  ctx.req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) close();
  });
  ctx.res.once('finish', () => setTimeout(close, LINGER_MS).unref());
}

/** True for a signed build request to /system/build: it needs no basic auth (the builder checks the signature). */
export function isSignedBuild(ctx: Context): boolean {
  return ctx.method === 'POST' && ctx.path === PATHS.system && ctx.get('x-build-signature') !== '';
}

export function registerBuild(router: Router, deps: RouteDeps, checker: BasicAuthChecker | undefined): void {
  const base = deps.config.BUILDER_URL;
  const relay = async (ctx: Context, vouch: 'basic-auth' | 'open' | undefined) => {
    if (!base) {
      ctx.status = 503;
      ctx.body = { log: [], image: '', status: 'failed', error: NO_BUILDER };
      return;
    }
    const declared = Number(ctx.get('content-length') || NaN);
    if (declared > deps.config.BUILD_MAX_CONTEXT) {
      // The builder would refuse it as well, but its early answer races the upload it cuts off: the relay's
      // next write fails (EPIPE) before the answer is read, and the client would hear 503 or nothing.
      ctx.status = 413;
      ctx.body = { log: [], image: '', status: 'failed', error: `the request is ${declared} bytes, more than BUILD_MAX_CONTEXT (${deps.config.BUILD_MAX_CONTEXT} bytes)` };
      closeAfterAnswer(ctx);
      return;
    }
    // A build may be silent for minutes when not streamed: the builder bounds it (BUILD_TIMEOUT).
    ctx.req.socket.setTimeout(0);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = ctx.get(name);
      if (value) headers[name] = value;
    }
    if (vouch) headers['x-gateway-authenticated'] = vouch;
    try {
      const answer = await postToBuilder(base, headers, ctx.req as Readable);
      ctx.status = answer.statusCode;
      if (answer.statusCode >= 400 && !ctx.req.complete) closeAfterAnswer(ctx);
      const type = answer.headers['content-type'];
      if (typeof type === 'string') ctx.type = type;
      ctx.set('cache-control', 'no-store');
      ctx.body = answer.body;
    } catch (error) {
      ctx.status = 503;
      ctx.body = { log: [], image: '', status: 'failed', error: `the builder did not answer at ${base}: ${(error as Error).message}` };
    }
  };
  router.post(PATHS.system, (ctx) => {
    // With basic auth on, the auth middleware let this through only with a signature or good credentials.
    const authenticated = checker ? checker.check(ctx.get('authorization')) : true;
    return relay(ctx, authenticated ? (checker ? 'basic-auth' : 'open') : undefined);
  });
  router.post(PATHS.cli, (ctx) => relay(ctx, undefined));
}
