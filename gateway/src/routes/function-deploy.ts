// POST /system/functions: deploys a new function. 202 once Swarm accepted it.
import type Router from '@koa/router';
import { readJson } from '../http/json-body.js';
import { parseDeployment } from '../validation.js';
import type { RouteDeps } from './deps.js';

export function registerDeployFunction(router: Router, deps: RouteDeps): void {
  router.post('/system/functions', async (ctx) => {
    const deployment = parseDeployment(await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    await deps.provider.deploy(deployment);
    await deps.functions.refresh(deployment.service).catch(() => undefined);
    ctx.status = 202;
    ctx.body = '';
  });
}
