// GET /system/function/{name}[?namespace=]: one function, with its instances
// (the node each runs on, its state); 404 when there is none.
import type Router from '@koa/router';
import { qualifiedName } from '../../../core/functions/names.js';
import { HttpError } from '../http/errors.js';
import type { RouteDeps } from './deps.js';
import { functionJson } from './function-json.js';
import { functionRefOf } from './function-ref.js';

export function registerGetFunction(router: Router, deps: RouteDeps): void {
  router.get('/system/function/:name', async (ctx) => {
    const ref = functionRefOf(ctx, ctx.params.name!, deps.config.DEFAULT_NAMESPACE);
    // The view answers; a miss is confirmed with the orchestrator (it may have appeared since the last read).
    const entry = deps.functions.get(ref) ?? (await deps.functions.refresh(ref));
    const name = qualifiedName(ref, deps.config.DEFAULT_NAMESPACE);
    if (!entry) throw new HttpError(404, `function ${name} not found`);
    const countOf = await deps.invocationCounts.snapshot();
    ctx.body = functionJson(entry, countOf(name), deps.config, { instances: true });
  });
}
