// /system/prometheus/* and /system/alertmanager/*: the stack's Prometheus
// and AlertManager, reached through the gateway behind its auth, so that
// neither has to publish a port that anyone who reaches the host could use
// (AlertManager takes posted alerts, which scale functions). Prometheus and
// AlertManager run with --web.external-url=/system/<name>/ so the links of
// their pages lead back here; the gateway strips the prefix.
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { request } from 'undici';
import { forwardableHeaders } from '@swarm-faas/http-relay';
import type { RouteDeps } from './deps.js';

/** How long Prometheus or AlertManager may take to answer (a range query over a day is the slowest). */
const TIMEOUT_MS = 30_000;
/** Neither the caller's credentials for the gateway nor its cookies go further. */
const NOT_FORWARDED = new Set(['authorization', 'cookie', 'content-length']);

export function registerMonitoringProxy(router: Router, deps: RouteDeps): void {
  const targets = [
    ['prometheus', deps.config.PROMETHEUS_URL],
    ['alertmanager', deps.config.ALERTMANAGER_URL],
  ] as const;
  for (const [name, base] of targets) {
    const prefix = `/system/${name}`;
    router.get(prefix, (ctx) => ctx.redirect(`${prefix}/`));
    router.all(`${prefix}/{*path}`, (ctx) => relay(ctx, base, ctx.path.slice(prefix.length), name));
  }
}

async function relay(ctx: Context, base: string, path: string, name: string): Promise<void> {
  const url = new URL(base.replace(/\/$/, '') + path + (ctx.querystring ? `?${ctx.querystring}` : ''));
  try {
    const answer = await request(url, {
      method: ctx.method as 'GET',
      headers: forwardableHeaders(ctx.req.headers, NOT_FORWARDED),
      body: ctx.method === 'GET' || ctx.method === 'HEAD' ? null : (ctx.req as Readable),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    ctx.status = answer.statusCode;
    for (const [key, value] of Object.entries(forwardableHeaders(answer.headers as Record<string, string | string[] | undefined>))) {
      if (key !== 'content-length') ctx.set(key, value);
    }
    ctx.body = answer.body;
  } catch (error) {
    ctx.status = 503;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${name} did not answer at ${base}: ${(error as Error).message}`;
  }
}
