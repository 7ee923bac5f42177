// POST /system/scale-function/{name}: {"serviceName", "replicas", "namespace"?}
// sets a function's replicas by hand (0 puts it to sleep). 202 with what changed.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { scaleRequestSchema } from '../scaling/manual.js';
import { validate } from '../validation.js';
import type { RouteDeps } from './deps.js';
import { functionRefOf } from './function-ref.js';

export function registerScaleFunction(router: Router, deps: RouteDeps): void {
  router.post('/system/scale-function/:name', async (ctx) => {
    const request = validate(scaleRequestSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    const ref = functionRefOf(ctx, ctx.params.name!, deps.config.DEFAULT_NAMESPACE);
    const namespace = request.namespace || undefined;
    const result = await deps.scaler.scale(namespace && !ctx.params.name!.includes('.') ? { ...ref, namespace } : ref, request);
    ctx.status = 202;
    ctx.body = result;
  });
}
