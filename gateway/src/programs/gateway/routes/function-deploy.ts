// POST /system/functions: deploys a new function, starting at its minimum
// replicas (com.openfaas.scale.min, at least 1). 202 once the orchestrator accepted it.
import type Router from '@koa/router';
import { confine } from '../confinement.js';
import { HttpError } from '../http/errors.js';
import { readJson } from '../http/json-body.js';
import { limitsOf, wakeReplicas } from '../scaling/policy.js';
import { validate } from '../validation.js';
import type { RouteDeps } from './deps.js';

/** A new function may not take the name of one of the stack's own services. */
function refuseReserved(name: string, deps: RouteDeps): void {
  if (deps.provider.rules.reservedNames.has(name)) {
    throw new HttpError(400, `invalid request: service: ${name} is the name of one of the stack's own services; choose another`);
  }
}

export function registerDeployFunction(router: Router, deps: RouteDeps): void {
  router.post('/system/functions', async (ctx) => {
    const deployment = confine(validate(deps.schemas.deployment, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT)), deps.config);
    refuseReserved(deployment.service, deps);
    const replicas = wakeReplicas(limitsOf(deployment.labels ?? {}, deps.config));
    await deps.provider.deploy({ ...deployment, replicas });
    await deps.functions.refresh({ name: deployment.service, namespace: deployment.namespace }).catch(() => undefined);
    ctx.status = 202;
    ctx.body = '';
  });
}
