// grafana/swarm-faas-dashboard.json: valid, with the original demo's three
// graphs and the per-function panels, and every query using only metrics the
// gateway exports, read from a real GatewayMetrics registry (not a hand list).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../gateway/src/programs/gateway/metrics.js';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string | { query: string } }> };
  annotations: { list: Array<{ expr?: string; name: string }> };
}

const dashboard = JSON.parse(readFileSync(new URL('../../grafana/swarm-faas-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries: string[] = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
];

/** PromQL's functions, aggregations and keywords: every other bare name in a query is a metric. */
const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'group', 'count_values',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'changes', 'resets', 'histogram_quantile', 'label_replace',
  'label_values', 'abs', 'ceil', 'floor', 'round', 'clamp_min', 'clamp_max', 'vector', 'scalar', 'time', 'timestamp',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'absent',
]);

/** The metric names a query reads: label matchers, ranges, strings and grouping labels taken out first. */
function metricsOf(query: string): string[] {
  const bare = query
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w));
  return [...new Set(names)];
}

/** Every series name the gateway's registry exports (a histogram's _bucket, _sum and _count included). */
async function exported(): Promise<Set<string>> {
  const metrics = new GatewayMetrics(() => []);
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

describe('the Grafana dashboard', () => {
  it('reads only metrics the gateway exports', async () => {
    const known = await exported();
    expect(known.has('gateway_service_available_replicas')).toBe(true);
    expect(queries.length).toBeGreaterThan(10);
    const unknown = queries.flatMap((q) => metricsOf(q).filter((name) => !known.has(name)).map((name) => `${name} in ${q}`));
    expect(unknown).toEqual([]);
    // Each query reads at least one metric (the extraction is not vacuous), all of them the gateway's own
    // (the contract's three and the two the UI added), none of the process metrics that may change.
    for (const q of queries) expect(metricsOf(q).length, q).toBeGreaterThan(0);
    expect(new Set(queries.flatMap(metricsOf).map((name) => name.replace(/^(gateway_functions_seconds)_(bucket|sum|count)$/, '$1')))).toEqual(
      new Set(['gateway_service_count', 'gateway_function_invocation_total', 'gateway_functions_seconds', 'gateway_service_available_replicas', 'gateway_scaling_events_total']),
    );
  });

  it("has the original demo's three graphs", () => {
    const read = (metric: string) => queries.some((q) => metricsOf(q).includes(metric));
    expect(queries).toContain('gateway_service_count');
    expect(queries.some((q) => /rate\(gateway_function_invocation_total\[/.test(q))).toBe(true);
    expect(queries.some((q) => /gateway_functions_seconds_sum.*\/.*gateway_functions_seconds_count/.test(q))).toBe(true);
    for (const metric of ['gateway_service_count', 'gateway_function_invocation_total', 'gateway_functions_seconds_sum', 'gateway_functions_seconds_count', 'gateway_scaling_events_total']) {
      expect(read(metric), metric).toBe(true);
    }
  });

  it('has a function variable from the gateway series, and per-function panels that use it', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'function');
    const query = typeof variable?.query === 'string' ? variable.query : variable?.query.query;
    expect(query).toBe('label_values(gateway_service_count, function_name)');
    const perFunction = panels.filter((p) => (p.targets ?? []).some((t) => t.expr.includes('function_name="$function"')));
    expect(perFunction.length).toBeGreaterThanOrEqual(6);
  });

  it('names no data source of its own: every panel and query uses the datasource variable', () => {
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels.filter((panel) => panel.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('lays the panels out without overlaps, with unique ids', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
        cells.add(`${i},${j}`);
      }
    }
  });
});

describe('metricsOf', () => {
  it('finds metric names and skips functions, labels, ranges and strings', () => {
    expect(metricsOf('sum by (function_name, code) (rate(gateway_function_invocation_total{code!~"2..", x="a{b}"}[$__rate_interval]))')).toEqual(['gateway_function_invocation_total']);
    expect(metricsOf('histogram_quantile(0.95, sum by (le) (rate(gateway_functions_seconds_bucket[5m])))')).toEqual(['gateway_functions_seconds_bucket']);
    expect(metricsOf('a_total / on(instance) group_left b_info')).toEqual(['a_total', 'b_info']);
  });
});
