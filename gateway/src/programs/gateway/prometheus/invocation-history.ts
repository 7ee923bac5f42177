// Invocations of a function through every gateway of the stack, from
// Prometheus (it scrapes them all): what a gateway asks before it puts a
// function to sleep, so that a function busy through another gateway is
// never put to sleep by this one. Unknown (undefined) when Prometheus does
// not answer or has no series for the function yet: the idler then waits.
import { qualifiedName } from '../../../core/functions/names.js';
import type { FunctionRef } from '../provider/types.js';
import type { InvocationHistory } from '../scaling/context.js';
import type { PrometheusClient } from './client.js';

/** Prometheus needs at least two samples in the window (scrapes every 5 s): never ask for less. */
const SHORTEST_WINDOW_SECONDS = 15;

/** `job`: only the invocations of that scrape job ("gateway": the synchronous ones, not those of queue workers and connectors). */
export function prometheusInvocationHistory(prometheus: PrometheusClient, defaultNamespace: string, options: { job?: string } = {}): InvocationHistory {
  const job = options.job ? `,job="${options.job.replace(/["\\]/g, '\\$&')}"` : '';
  return async (ref: FunctionRef, seconds: number) => {
    const name = qualifiedName(ref, defaultNamespace).replace(/["\\]/g, '\\$&');
    const window = Math.max(SHORTEST_WINDOW_SECONDS, Math.round(seconds));
    try {
      const result = await prometheus.query(`sum(increase(gateway_function_invocation_total{function_name="${name}"${job}}[${window}s]))`);
      // sum() of no series is no series: Prometheus has not seen the function's counters (yet).
      return result.length === 0 ? undefined : result[0]!.value;
    } catch {
      return undefined;
    }
  };
}
