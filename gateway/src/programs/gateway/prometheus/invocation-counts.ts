// invocationCount of GET /system/functions: every invocation of a function,
// whoever made it (synchronous calls through any gateway, queued calls,
// topics, schedules), as Prometheus sums gateway_function_invocation_total
// over the gateways, queue workers and connectors it scrapes (as OpenFaaS's
// gateway reads it). Read again in the background when older than two
// seconds, so a list never waits for Prometheus (the first one at most half
// a second); never below this gateway's own count (fresher for its own
// calls); this gateway's own count alone while Prometheus does not answer.
import type { InvocationMetrics } from '../../../core/invocation/metrics.js';
import type { PrometheusClient } from './client.js';

const FRESH_MS = 2_000;
/** The first list waits this long at most for the first read. */
const FIRST_WAIT_MS = 500;

export class InvocationCounts {
  private totals: { at: number; byName: Map<string, number> } | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly prometheus: Pick<PrometheusClient, 'query'>,
    private readonly local: Pick<InvocationMetrics, 'count'>,
  ) {}

  /** A reader of every function's count now. */
  async snapshot(): Promise<(name: string) => number> {
    if (!this.totals || Date.now() - this.totals.at > FRESH_MS) {
      this.reading ??= this.read().finally(() => (this.reading = undefined));
      if (!this.totals) await Promise.race([this.reading, new Promise((r) => setTimeout(r, FIRST_WAIT_MS))]);
    }
    const byName = this.totals?.byName;
    return (name) => Math.max(this.local.count(name), byName?.get(name) ?? 0);
  }

  private async read(): Promise<void> {
    try {
      const rows = await this.prometheus.query('sum by (function_name) (gateway_function_invocation_total)');
      this.totals = { at: Date.now(), byName: new Map(rows.map((r) => [r.metric.function_name ?? '', Math.round(r.value)])) };
    } catch {
      // Prometheus away: this gateway's own figures until it answers (asked again after FRESH_MS).
      this.totals = { at: Date.now(), byName: this.totals?.byName ?? new Map() };
    }
  }
}
