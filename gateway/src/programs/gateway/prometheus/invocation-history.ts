// Invocations of a function through every gateway, queue worker and
// connector of the stack, from Prometheus (it scrapes them all): what a
// gateway asks before it puts a function to sleep, so that a function busy
// through another gateway or a trigger is never put to sleep by this one. Unknown (undefined) when Prometheus does
// not answer or has no series for the function yet: the idler then waits.
import { qualifiedName } from '../../../core/functions/names.js';
import type { FunctionRef } from '../provider/types.js';
import type { InvocationHistory } from '../scaling/context.js';
import type { PrometheusClient } from './client.js';
import type { InvocationSource } from '../../../core/invocation/metrics.js';

/** Prometheus needs at least two samples in the window (scrapes every 5 s): never ask for less. */
const SHORTEST_WINDOW_SECONDS = 15;

/** `source`: only the invocations of that source ("sync": the synchronous ones, not those of queue workers and connectors). */
export function prometheusInvocationHistory(prometheus: PrometheusClient, defaultNamespace: string, options: { source?: InvocationSource } = {}): InvocationHistory {
  const source = options.source ? `,source="${options.source}"` : '';
  return async (ref: FunctionRef, seconds: number) => {
    const name = qualifiedName(ref, defaultNamespace).replace(/["\\]/g, '\\$&');
    const window = Math.max(SHORTEST_WINDOW_SECONDS, Math.round(seconds));
    try {
      const result = await prometheus.query(`sum(increase(gateway_function_invocation_total{function_name="${name}"${source}}[${window}s]))`);
      // sum() of no series is no series: Prometheus has not seen the function's counters (yet).
      return result.length === 0 ? undefined : result[0]!.value;
    } catch {
      return undefined;
    }
  };
}
