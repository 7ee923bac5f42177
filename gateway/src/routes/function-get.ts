// GET /system/function/{name}: one function; 404 when there is none.
import type Router from '@koa/router';
import { HttpError } from '../http/errors.js';
import { functionJson } from './functions-list.js';
import type { RouteDeps } from './deps.js';

export function registerGetFunction(router: Router, deps: RouteDeps): void {
  router.get('/system/function/:name', async (ctx) => {
    const name = ctx.params.name!;
    // The view answers; a miss is confirmed with Docker (it may have appeared since the last event).
    const status = deps.functions.get(name) ?? (await deps.functions.refresh(name));
    if (!status) throw new HttpError(404, `function ${name} not found`);
    ctx.body = functionJson(status, deps.metrics.invocationCount(name));
  });
}
