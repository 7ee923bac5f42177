// GET /system/functions[?namespace=]: the functions of one namespace (the
// default one unless named), read from the orchestrator now (which also
// refreshes the view invocations use). When it does not answer, 503: a list
// from memory could show functions that are gone or miss new ones.
import type Router from '@koa/router';
import { qualifiedName } from '../../../core/functions/names.js';
import type { RouteDeps } from './deps.js';
import { functionJson } from './function-json.js';
import { namespaceParam } from './function-ref.js';

export function registerListFunctions(router: Router, deps: RouteDeps): void {
  router.get('/system/functions', async (ctx) => {
    const namespace = namespaceParam(ctx) ?? deps.config.DEFAULT_NAMESPACE;
    const [entries, countOf] = await Promise.all([deps.functions.readAll(), deps.invocationCounts.snapshot()]);
    ctx.body = entries
      .filter((entry) => entry.status.namespace === namespace)
      .sort((a, b) => a.status.name.localeCompare(b.status.name))
      .map((entry) => functionJson(entry, countOf(qualifiedName(entry.status, deps.config.DEFAULT_NAMESPACE)), deps.config));
  });
}
