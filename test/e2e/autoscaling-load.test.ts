// The 2017 demo, repaired, on the real stack: a bounded load on echoit through
// the gateway; Prometheus sees the rate, AlertManager calls /system/alert, the
// gateway steps echoit up; when the load stops it returns to its minimum.
// A trickle of requests (below the alert threshold) keeps running during the
// scale-down, so losses while tasks are removed would show.
import { describe, expect, inject, it } from 'vitest';
import { changes, functionState, paceLoad, scaleFunction, secondsBackAtOne, watchReplicas, type LoadResult } from './support/scaling.js';
import { fn, gatewayUrl, monitoringFetch, waitFor } from './support/gateway.js';

const echoit = fn('echoit');
/** Modest: well above the 5 requests/s threshold, light on two shared cores. */
const RATE = 20;
const LOAD_SECONDS = 30;
/** During the scale-down: traffic to catch losses, below the 1/s under which a repeated alert no longer steps up. */
const TRICKLE_RATE = 0.5;

async function prometheusQuery(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(query)}`);
  if (res.status !== 200) throw new Error(`Prometheus answered ${res.status} to ${query}`);
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

describe('autoscaling with the real Prometheus and AlertManager', () => {
  it('Prometheus scrapes the gateway (DNS discovery of tasks.gateway) and loads the rules', async () => {
    await waitFor('the gateway target to be up in Prometheus', async () => {
      const up = await prometheusQuery('up{job="gateway"}');
      return up.length > 0 && up.every((s) => s.value[1] === '1') ? up : undefined;
    }, 60_000, 1000);
    const rules = (await (await monitoringFetch('prometheus', '/api/v1/rules')).json()) as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
    const names = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    expect(names).toEqual(expect.arrayContaining(['APIHighInvocationRate', 'service_down']));
  });

  it('scales echoit above 1 under load and back to 1 after it, with no failed request', async () => {
    // Start from rest: one replica, no alert for echoit, and its counter already
    // scraped (a series Prometheus has never seen needs two scrapes before rate() has a value).
    await waitFor('echoit at 1 ready replica', async () => {
      const s = await functionState(echoit);
      return s.replicas === 1 && s.availableReplicas === 1 ? s : undefined;
    }, 60_000, 1000);
    expect((await fetch(gatewayUrl(`/function/${echoit}`), { method: 'POST', body: 'warm-up' })).status).toBe(200);
    await waitFor('Prometheus to hold two samples of echoit\'s counter', async () => {
      // Only series of gateway tasks that are up now (a replaced gateway's old series do not count).
      const r = await prometheusQuery(`count_over_time(gateway_function_invocation_total{function_name="${echoit}"}[30s]) and on(instance) (up{job="gateway"} == 1)`);
      return r.some((s) => Number(s.value[1]) >= 2) ? r : undefined;
    }, 30_000, 1000);

    const watch = watchReplicas(echoit, 500);
    const load = await paceLoad(echoit, RATE, LOAD_SECONDS);
    const loadStopped = (performance.now() - watch.origin) / 1000;

    const trickleStop = new AbortController();
    const trickle = paceLoad(echoit, TRICKLE_RATE, 90, { stop: trickleStop.signal });
    let backAtMin: number | undefined;
    try {
      backAtMin = await secondsBackAtOne(watch, 'echoit', loadStopped);
      // Let the removed tasks stop while the trickle goes on.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      trickleStop.abort();
      await watch.stop();
    }
    const trickled: LoadResult = await trickle;

    const during = watch.samples.filter((s) => s.t <= loadStopped);
    const firstUp = during.find((s) => s.replicas > 1);
    const lines = changes(watch.samples).map((s) => `  t=${s.t.toFixed(1)} s  replicas ${s.replicas} (ready ${s.availableReplicas})`);
    process.stderr.write(
      [
        `[autoscaling] load: ${load.sent} requests at ${RATE}/s over ${load.seconds.toFixed(1)} s, ${load.ok} ok, failures ${JSON.stringify(load.failures)}`,
        `[autoscaling] trickle during scale-down: ${trickled.sent} requests, ${trickled.ok} ok, failures ${JSON.stringify(trickled.failures)}`,
        `[autoscaling] timeline (seconds from load start):`,
        ...lines,
        `[autoscaling] first scale-up ${firstUp ? `${firstUp.t.toFixed(1)} s after the load started` : 'never'}; load stopped at ${loadStopped.toFixed(1)} s; back at 1 replica ${backAtMin?.toFixed(1)} s after the load stopped`,
        '',
      ].join('\n'),
    );

    expect(load.failures).toEqual({});
    expect(trickled.failures).toEqual({});
    expect(load.ok).toBe(load.sent);
    expect(firstUp, 'replicas rose above 1 during the load').toBeDefined();
    // The 2017 rule dropped the function back to 1 in the middle of the load: never again.
    for (let i = 1; i < during.length; i++) {
      if (during[i - 1]!.t > firstUp!.t) expect(during[i]!.replicas, `at t=${during[i]!.t.toFixed(1)} s`).toBeGreaterThanOrEqual(during[i - 1]!.replicas);
    }
    expect(backAtMin).toBeDefined();
  }, 200_000);

  it('loses no request when tasks are removed under load (manual scale 5 -> 1)', async () => {
    // Below the alert threshold (5/s), so that AlertManager stays out of it.
    const rate = 4;
    expect((await scaleFunction(echoit, 5)).status).toBe(202);
    try {
      await waitFor('echoit at 5 ready replicas', async () => ((await functionState(echoit)).availableReplicas === 5 ? true : undefined), 60_000, 500);
      // Let the gateway's address list take in all five tasks.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const load = paceLoad(echoit, rate, 20);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect((await scaleFunction(echoit, 1)).status).toBe(202);
      const result = await load;
      const after = await functionState(echoit);
      process.stderr.write(`[autoscaling] scale-down 5 -> 1 under ${rate} requests/s: ${result.sent} requests, ${result.ok} ok, failures ${JSON.stringify(result.failures)}\n`);
      expect(after.replicas).toBe(1);
      expect(result.failures).toEqual({});
      expect(result.ok).toBe(result.sent);
    } finally {
      await scaleFunction(echoit, 1);
    }
  }, 120_000);
});
