// The two shapes of metric every program defines over and over: a counter in
// the program's registry, and a gauge by function_name set at scrape time
// from what the program holds (a function no longer there disappears).
import { Counter, Gauge, type Registry } from 'prom-client';

export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A gauge by function_name, read from `read` at every scrape. */
export function functionGauge(registry: Registry, name: string, help: string, read: () => Iterable<{ name: string; count: number }>): Gauge<'function_name'> {
  return new Gauge({
    name,
    help,
    labelNames: ['function_name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { name: functionName, count } of read()) this.set({ function_name: functionName }, count);
    },
  });
}
