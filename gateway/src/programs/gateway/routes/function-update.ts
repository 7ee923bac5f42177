// PUT /system/functions: rolling update of an existing function; replicas kept.
import type Router from '@koa/router';
import { confine } from '../confinement.js';
import { readJson } from '../http/json-body.js';
import { validate } from '../validation.js';
import type { RouteDeps } from './deps.js';

export function registerUpdateFunction(router: Router, deps: RouteDeps): void {
  router.put('/system/functions', async (ctx) => {
    const deployment = confine(validate(deps.schemas.update, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT)), deps.config);
    await deps.provider.update(deployment);
    await deps.functions.refresh({ name: deployment.service, namespace: deployment.namespace }).catch(() => undefined);
    ctx.status = 202;
    ctx.body = '';
  });
}
