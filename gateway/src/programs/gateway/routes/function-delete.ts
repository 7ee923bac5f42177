// DELETE /system/functions {"functionName", "namespace"?} (or ?namespace=):
// removes a function, and only a function.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { validate } from '../validation.js';
import type { RouteDeps } from './deps.js';
import { namespaceParam } from './function-ref.js';

export function registerDeleteFunction(router: Router, deps: RouteDeps): void {
  router.delete('/system/functions', async (ctx) => {
    const body = validate(deps.schemas.remove, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    const fromQuery = namespaceParam(ctx);
    const ref = { name: body.functionName, namespace: fromQuery ?? body.namespace };
    await deps.provider.remove(ref);
    await deps.functions.refresh(ref).catch(() => undefined);
    ctx.status = 202;
    ctx.body = '';
  });
}
