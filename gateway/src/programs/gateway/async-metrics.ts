// The gateway's own figure of asynchronous calls: how many it accepted (202)
// per function. The queue worker counts what became of them (worker-metrics.ts).
import { Counter, type Registry } from 'prom-client';

export function asyncAcceptedCounter(registry: Registry): Counter<'function_name'> {
  const existing = registry.getSingleMetric('gateway_async_accepted_total');
  if (existing) return existing as Counter<'function_name'>;
  return new Counter({
    name: 'gateway_async_accepted_total',
    help: 'Asynchronous invocations accepted (stored in the queue, answered 202), by function',
    labelNames: ['function_name'],
    registers: [registry],
  });
}
