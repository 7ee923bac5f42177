// GET /healthz: 200 once the gateway has read the functions from Docker.
import type Router from '@koa/router';
import type { RouteDeps } from './deps.js';

export function registerHealthz(router: Router, deps: RouteDeps): void {
  router.get('/healthz', (ctx) => {
    const ready = deps.ready();
    ctx.status = ready ? 200 : 503;
    ctx.type = 'text/plain';
    ctx.body = ready ? 'OK' : 'starting: functions not read yet';
  });
}
