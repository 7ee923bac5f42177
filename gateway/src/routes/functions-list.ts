// GET /system/functions: every function, read from the engine now (which also
// refreshes the view invocations use). When the engine does not answer, 503:
// a list from memory could show functions that are gone or miss new ones.
import type Router from '@koa/router';
import type { FunctionStatus } from '../provider/types.js';
import type { RouteDeps } from './deps.js';

export function functionJson(status: FunctionStatus, invocationCount: number) {
  return {
    name: status.name,
    image: status.image,
    invocationCount,
    replicas: status.replicas,
    availableReplicas: status.availableReplicas,
    envProcess: status.envProcess,
    envVars: status.envVars,
    labels: status.labels,
    annotations: status.annotations,
    constraints: status.constraints,
    secrets: status.secrets,
    ...(status.createdAt ? { createdAt: status.createdAt } : {}),
  };
}

export function registerListFunctions(router: Router, deps: RouteDeps): void {
  router.get('/system/functions', async (ctx) => {
    const list = (await deps.functions.readAll())
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((status) => functionJson(status, deps.metrics.invocationCount(status.name)));
    ctx.body = list;
  });
}
