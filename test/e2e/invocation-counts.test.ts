// Every invocation counted, whoever made it: synchronous calls, queued calls
// (the queue worker), topic messages and schedule ticks (the connector) all
// show in gateway_function_invocation_total by source, in the function's
// invocationCount (the list and GET /system/function) and in the rate the
// UI charts (GET /system/function/{name}/history), on the real stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeAsync } from './support/async.js';
import { deployRecorder, publish, records } from './support/events.js';
import { removeFunction, invoke } from './support/functions.js';
import { fn, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';

const counted = fn('counted');

beforeAll(async () => {
  // A function subscribed to a topic and run by a schedule every two seconds.
  await deployRecorder(counted, { annotations: { topic: 'counted.jobs' } });
}, 180_000);
afterAll(async () => {
  await removeFunction(counted);
});

async function prometheusSum(query: string): Promise<number | undefined> {
  const res = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(query)}`);
  const rows = ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
  return rows.length ? Number(rows[0]!.value[1]) : undefined;
}

describe('every invocation counted', () => {
  it('sync, async, topic and schedule invocations show by source in the metrics, in invocationCount and in the rate the UI charts', async () => {
    // One call of each source first, and the rest once Prometheus has scraped each source's
    // series: rate() cannot see a counter's first value, so a series whose first sample
    // already holds every call adds nothing to the chart (CI: the 7 async calls were all
    // made between two scrapes). Left in the product: issue 22's note.
    expect((await invoke(counted, 'sync 0')).status).toBe(200);
    expect((await invokeAsync(counted, 'async 0')).status).toBe(202);
    await waitFor('the topic subscription', async () => ((await publish('counted.jobs', 'probe')).json?.subscribers === 1 ? true : undefined), 30_000, 500);
    await waitFor('a sample of each source in Prometheus', async () => {
      const firsts = await Promise.all(['sync', 'async', 'topic'].map((source) => prometheusSum(`sum(gateway_function_invocation_total{function_name="${counted}",source="${source}"})`)));
      return firsts.every((n) => n !== undefined && n >= 1) ? true : undefined;
    }, 60_000, 1_000);
    for (let i = 1; i < 5; i++) expect((await invoke(counted, `sync ${i}`)).status).toBe(200);
    for (let i = 1; i < 7; i++) expect((await invokeAsync(counted, `async ${i}`)).status).toBe(202);
    for (let i = 0; i < 4; i++) expect((await publish('counted.jobs', `topic ${i}`)).status).toBe(202);
    // The recorder saw them all (the probe included).
    await waitFor('every call at the function', async () => ((await records(counted)).length >= 5 + 7 + 5 ? true : undefined), 60_000, 500);

    // Prometheus scrapes the gateway, the queue worker and the connector: each source counted where it was made.
    const bySource = await waitFor(
      'the counts by source in Prometheus',
      async () => {
        const [sync, async_, topic] = await Promise.all(['sync', 'async', 'topic'].map((source) => prometheusSum(`sum(gateway_function_invocation_total{function_name="${counted}",source="${source}"})`)));
        return sync !== undefined && sync >= 5 && async_ !== undefined && async_ >= 7 && topic !== undefined && topic >= 5 ? { sync, async: async_, topic } : undefined;
      },
      60_000,
      1_000,
    );
    expect(bySource.async).toBe(7);

    // invocationCount: every one of them, in the list and in the function's own answer.
    const count = await waitFor(
      'invocationCount with every source',
      async () => {
        const one = (await (await systemFetch(`/system/function/${counted}`)).json()) as { invocationCount: number };
        return one.invocationCount >= 5 + 7 + 5 ? one.invocationCount : undefined;
      },
      30_000,
      1_000,
    );
    const listed = ((await (await systemFetch('/system/functions')).json()) as Array<{ name: string; invocationCount: number }>).find((f) => f.name === counted);
    expect(listed?.invocationCount).toBeGreaterThanOrEqual(count);

    // The rate the function page charts counts them too: its area (rate x step) is more than the 5 synchronous calls alone could make.
    await waitFor(
      'the charted rate to hold more than the synchronous calls',
      async () => {
        const history = (await (await systemFetch(`/system/function/${counted}/history?window=5m`)).json()) as { step: number; rate: Record<string, Array<[number, number]>> };
        const area = Object.values(history.rate).flat().reduce((sum, [, v]) => sum + v * history.step, 0);
        return area > 8 ? area : undefined;
      },
      60_000,
      2_000,
    );
  });

  it('counts the ticks of a schedule as source="schedule"', async () => {
    const ticking = fn('tickcount');
    await deployRecorder(ticking, { annotations: { topic: 'cron-function', schedule: '*/2 * * * * *' } });
    try {
      await waitFor('three ticks at the function', async () => ((await records(ticking)).length >= 3 ? true : undefined), 60_000, 500);
      const ticks = await waitFor(
        'the ticks in Prometheus',
        async () => {
          const n = await prometheusSum(`sum(gateway_function_invocation_total{function_name="${ticking}",source="schedule"})`);
          return n !== undefined && n >= 3 ? n : undefined;
        },
        60_000,
        1_000,
      );
      expect(ticks).toBeGreaterThanOrEqual(3);
      // invocationCount follows Prometheus within a few seconds (it is read again in the background every 2 s).
      await waitFor(
        'the ticks in invocationCount',
        async () => (((await (await systemFetch(`/system/function/${ticking}`)).json()) as { invocationCount: number }).invocationCount >= 3 ? true : undefined),
        15_000,
        1_000,
      );
    } finally {
      await removeFunction(ticking);
    }
  });
});
