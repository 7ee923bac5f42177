// GET /system/function/{name}/history?window=15m and
// GET /system/functions/history?window=15m: the UI's charts and sparklines
// from Prometheus (see src/prometheus/history.ts for the queries and the
// answer's shape). 400 for a window not on the list, 404 for an unknown
// function, 503 with the reason when Prometheus does not answer.
import { qualifiedName } from '../../../core/functions/names.js';
import { functionRefOf } from './function-ref.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError } from '../http/errors.js';
import type { RangeSeries } from '../prometheus/client.js';
import {
  allFunctionsQueries,
  byLabel,
  eventsOf,
  functionQueries,
  pairsOf,
  parseWindow,
  rangeOf,
  sinceOf,
  type FunctionHistory,
  type FunctionsHistory,
  type HistoryWindow,
  type Range,
} from '../prometheus/history.js';
import type { RouteDeps } from './deps.js';
import { monitoringOutage } from './monitoring-outage.js';

export function registerFunctionHistory(router: Router, deps: RouteDeps): void {
  const { prometheus } = deps;
  const outage = monitoringOutage(deps.log, 'Prometheus');
  const query = (q: string, range: Range) => prometheus.queryRange(q, range.start, range.end, range.step);

  router.get('/system/function/:name/history', async (ctx) => {
    const window = windowOf(ctx);
    const ref = functionRefOf(ctx, ctx.params.name!, deps.config.DEFAULT_NAMESPACE);
    // The metric label: the bare name in the default namespace, name.namespace elsewhere.
    const name = qualifiedName(ref, deps.config.DEFAULT_NAMESPACE);
    const status = (deps.functions.get(ref) ?? (await deps.functions.refresh(ref)))?.status;
    if (!status) throw new HttpError(404, `function ${name} not found`);
    const range = rangeOf(window, Date.now());
    const since = sinceOf(status.createdAt);
    const queries = functionQueries(name, window);
    const answer = await outage.guard(ctx, async () => {
      const [rate, duration, replicas, available, events] = await Promise.all([
        query(queries.rate, range),
        query(queries.duration, range),
        query(queries.replicas, range),
        query(queries.availableReplicas, range),
        query(queries.events, range),
      ]);
      const history: FunctionHistory = {
        name,
        window: window.name,
        ...range,
        rate: Object.fromEntries([...byLabel(rate, 'code')].sort(([a], [b]) => a.localeCompare(b)).map(([code, s]) => [code, pairsOf(s, since)])),
        duration: pairsOf(duration[0], since),
        replicas: pairsOf(replicas[0], since),
        availableReplicas: pairsOf(available[0], since),
        events: eventsOf(events, range, since),
      };
      return history;
    });
    if (answer) reply(ctx, answer);
  });

  router.get('/system/functions/history', async (ctx) => {
    const window = windowOf(ctx);
    const range = rangeOf(window, Date.now());
    const queries = allFunctionsQueries(window);
    const known = deps.functions.list().map(({ status }) => ({ name: qualifiedName(status, deps.config.DEFAULT_NAMESPACE), createdAt: status.createdAt }));
    const answer = await outage.guard(ctx, async () => {
      const [rate, duration, replicas, available] = (
        await Promise.all([query(queries.rate, range), query(queries.duration, range), query(queries.replicas, range), query(queries.availableReplicas, range)])
      ).map((series: RangeSeries[]) => byLabel(series, 'function_name'));
      // Only the functions there are now: Prometheus still holds removed ones.
      const functions = Object.fromEntries(
        [...known]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((fn) => {
            const since = sinceOf(fn.createdAt);
            return [
              fn.name,
              {
                rate: pairsOf(rate!.get(fn.name), since),
                duration: pairsOf(duration!.get(fn.name), since),
                replicas: pairsOf(replicas!.get(fn.name), since),
                availableReplicas: pairsOf(available!.get(fn.name), since),
              },
            ];
          }),
      );
      const history: FunctionsHistory = { window: window.name, ...range, functions };
      return history;
    });
    if (answer) reply(ctx, answer);
  });
}

function windowOf(ctx: Context): HistoryWindow {
  const parsed = parseWindow(ctx.query.window);
  if (!parsed.ok) throw new HttpError(400, parsed.message);
  return parsed.window;
}

function reply(ctx: Context, body: unknown): void {
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}
