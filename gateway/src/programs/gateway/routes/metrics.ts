// GET /metrics: Prometheus exposition of the gateway's metrics.
import type Router from '@koa/router';
import type { RouteDeps } from './deps.js';

export function registerMetrics(router: Router, deps: RouteDeps): void {
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
}
