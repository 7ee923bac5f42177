// DELETE /system/functions {"functionName", "namespace"?} (or ?namespace=):
// removes a function, and only a function (and the source the UI kept for
// it, so that a new function of that name starts from its template).
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
    // The function is gone either way: a source that cannot be forgotten now (NATS away) is only logged.
    await deps.sources?.delete(ref.name, ref.namespace || deps.config.DEFAULT_NAMESPACE).catch((error: unknown) => deps.log.warn({ err: error, function: ref.name }, 'the kept source of a deleted function stays'));
    ctx.status = 202;
    ctx.body = '';
  });
}
