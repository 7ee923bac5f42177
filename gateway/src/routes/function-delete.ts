// DELETE /system/functions {"functionName"}: removes a function, and only a function.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { deleteSchema, validate } from '../validation.js';
import type { RouteDeps } from './deps.js';

export function registerDeleteFunction(router: Router, deps: RouteDeps): void {
  router.delete('/system/functions', async (ctx) => {
    const { functionName } = validate(deleteSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    await deps.provider.remove(functionName);
    await deps.functions.refresh(functionName).catch(() => undefined);
    ctx.status = 202;
    ctx.body = '';
  });
}
