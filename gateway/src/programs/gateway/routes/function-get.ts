// GET /system/function/{name}[?namespace=]: one function, with its instances
// (the node each runs on, its state, its calls in flight) and its
// concurrency (the limit per replica, calls in flight and waiting in every
// program); 404 when there is none.
import type Router from '@koa/router';
import { concurrencyOf } from '../../../core/functions/concurrency.js';
import { qualifiedName } from '../../../core/functions/names.js';
import { keyOf, type FunctionEntry } from '../../../core/functions/types.js';
import type { LoadBoard } from '../../../queue/load-reports.js';
import { capacityTargetOf, isCapacityScaled } from '../scaling/capacity-policy.js';
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
    const body = functionJson(entry, countOf(name), deps.config, { instances: true });
    ctx.body = deps.loads ? { ...body, ...withLoad(entry, deps.loads) } : body;
  });
}

/** The function's calls in flight and waiting over every program, and each instance's (functions with a limit). */
function withLoad(entry: FunctionEntry, board: LoadBoard) {
  const { status } = entry;
  const limit = concurrencyOf(status);
  const sum = board.sum(keyOf(status));
  return {
    concurrency: {
      ...(limit !== undefined ? { limit } : {}),
      ...(isCapacityScaled(status.labels) ? { target: capacityTargetOf(status.labels, limit).target } : {}),
      inflight: sum.inflight,
      waiting: sum.waiting,
    },
    instances: entry.instances.map(({ address, ...instance }) => ({
      ...instance,
      ...(limit !== undefined && address !== undefined && instance.ready ? { inflight: sum.byInstance.get(address) ?? 0 } : {}),
    })),
  };
}
