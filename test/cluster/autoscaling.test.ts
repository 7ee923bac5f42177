// Autoscaling on the cluster with the real Prometheus and AlertManager, which
// may run on any node: a bounded load above the 5/s threshold drives echoit
// above 1 replica, on more than one node, and it comes back to 1 after the load.
import { describe, expect, it } from 'vitest';
import { changes, functionState, paceLoad, secondsBackAtOne, watchReplicas } from '../e2e/support/scaling.js';
import { fn, gatewayUrl, monitoringFetch, waitFor } from '../e2e/support/gateway.js';
import { report, runningPerNode } from './support/cluster.js';

const echoit = fn('echoit');
const RATE = 20;
const LOAD_SECONDS = 30;

async function prometheusQuery(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  // Through the gateway (Prometheus publishes no port), wherever Prometheus runs.
  const res = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`Prometheus answered ${res.status} to ${query}`);
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

describe('autoscaling on the cluster', () => {
  it('scales echoit above 1 under load, over several nodes, and back to 1 after it', async () => {
    await waitFor('echoit at 1 ready replica', async () => {
      const s = await functionState(echoit);
      return s.replicas === 1 && s.availableReplicas === 1 ? s : undefined;
    }, 90_000, 1000);
    await waitFor('Prometheus scraping the gateway', async () => {
      const up = await prometheusQuery('up{job="gateway"}');
      return up.length > 0 && up.every((s) => s.value[1] === '1') ? up : undefined;
    }, 60_000, 1000);
    expect((await fetch(gatewayUrl(`/function/${echoit}`), { method: 'POST', body: 'warm-up' })).status).toBe(200);
    await waitFor("two samples of echoit's counter in Prometheus", async () => {
      const r = await prometheusQuery(`count_over_time(gateway_function_invocation_total{function_name="${echoit}"}[30s])`);
      return r.some((s) => Number(s.value[1]) >= 2) ? r : undefined;
    }, 30_000, 1000);

    const watch = watchReplicas(echoit, 500);
    let mostNodes: Record<string, number> = {};
    const spreadWatch = (async () => {
      const until = performance.now() + LOAD_SECONDS * 1000;
      while (performance.now() < until) {
        const perNode = await runningPerNode(echoit).catch(() => ({}));
        if (Object.keys(perNode).length >= Object.keys(mostNodes).length) mostNodes = perNode;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    const load = await paceLoad(echoit, RATE, LOAD_SECONDS);
    await spreadWatch;
    const loadStopped = (performance.now() - watch.origin) / 1000;
    let backAtMin: number | undefined;
    try {
      backAtMin = await secondsBackAtOne(watch, 'echoit', loadStopped);
    } finally {
      await watch.stop();
    }
    const during = watch.samples.filter((s) => s.t <= loadStopped);
    const firstUp = during.find((s) => s.replicas > 1);
    report([
      `autoscaling: load ${load.sent} requests at ${RATE}/s over ${load.seconds.toFixed(1)} s, ${load.ok} ok, failures ${JSON.stringify(load.failures)}`,
      `autoscaling: replicas ${changes(watch.samples).map((s) => `${s.replicas}@${s.t.toFixed(1)}s`).join(' -> ')}; first scale-up ${firstUp ? `${firstUp.t.toFixed(1)} s` : 'never'} after the load started; back at 1 replica ${backAtMin?.toFixed(1)} s after it stopped`,
      `autoscaling: most spread during the load: ${JSON.stringify(mostNodes)}`,
    ]);
    expect(firstUp, 'replicas rose above 1 during the load').toBeDefined();
    expect(Object.keys(mostNodes).length, 'scaled-up tasks ran on more than one node').toBeGreaterThan(1);
    expect(backAtMin).toBeDefined();
    expect(load.failures).toEqual({});
  }, 240_000);
});
