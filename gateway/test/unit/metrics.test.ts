// The gateway's Prometheus series as Prometheus scrapes them.
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../src/programs/gateway/metrics.js';
import type { FunctionStatus } from '../../src/programs/gateway/provider/types.js';
import { status } from './support/fake-provider.js';

function viewOf(known: Map<string, FunctionStatus>) {
  return () => [...known.values()].map((s) => ({ name: s.name, replicas: s.replicas, availableReplicas: s.availableReplicas }));
}

describe('gateway_function_invocation_total', () => {
  it('has a code="200" series at 0 for every known function before its first invocation, so rate() works from the first request', async () => {
    const known = new Map([['fn_a', status('fn_a')], ['fn_b', status('fn_b')]]);
    const metrics = new GatewayMetrics(viewOf(known), { processMetrics: false });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/gateway_function_invocation_total\{function_name="fn_a",code="200",source="sync"\} 0\n/);
    expect(text).toMatch(/gateway_function_invocation_total\{function_name="fn_b",code="200",source="sync"\} 0\n/);

    metrics.invocations.record('fn_a', 200, 0.01, 'sync');
    known.set('fn_c', status('fn_c'));
    text = await metrics.registry.metrics();
    expect(text).toMatch(/gateway_function_invocation_total\{function_name="fn_a",code="200",source="sync"\} 1\n/);
    expect(text).toMatch(/gateway_function_invocation_total\{function_name="fn_c",code="200",source="sync"\} 0\n/);
    // Only code 200 is made up front.
    expect(text).not.toMatch(/code="500"/);
  });

  it('drops every series of a removed function', async () => {
    const known = new Map([['fn_a', status('fn_a')]]);
    const metrics = new GatewayMetrics(viewOf(known), { processMetrics: false });
    metrics.invocations.record('fn_a', 500, 0.01, 'sync');
    known.delete('fn_a');
    metrics.forget('fn_a');
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/fn_a/);
    expect(metrics.invocations.count('fn_a')).toBe(0);
  });
});

describe('gateway_service_available_replicas', () => {
  it('reports the ready replicas of every known function next to gateway_service_count, read at scrape time', async () => {
    const known = new Map([['fn_a', status('fn_a', { replicas: 5, availableReplicas: 2 })]]);
    const metrics = new GatewayMetrics(viewOf(known), { processMetrics: false });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/gateway_service_count\{function_name="fn_a"\} 5\n/);
    expect(text).toMatch(/gateway_service_available_replicas\{function_name="fn_a"\} 2\n/);
    known.set('fn_a', status('fn_a', { replicas: 5, availableReplicas: 5 }));
    known.set('fn_b', status('fn_b', { replicas: 0, availableReplicas: 0 }));
    text = await metrics.registry.metrics();
    expect(text).toMatch(/gateway_service_available_replicas\{function_name="fn_a"\} 5\n/);
    expect(text).toMatch(/gateway_service_available_replicas\{function_name="fn_b"\} 0\n/);
    known.delete('fn_a');
    expect(await metrics.registry.metrics()).not.toMatch(/gateway_service_available_replicas\{function_name="fn_a"\}/);
  });
});
