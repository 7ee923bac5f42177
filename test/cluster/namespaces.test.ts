// A namespace on the cluster: its function's tasks spread over the nodes,
// both gateways (each on its own manager) reach every one of them, and new
// tasks (a rolling update) start on every node: the gateways are on the
// namespace's network through their service, so Swarm gives every container
// there an address of its own.
import { afterAll, describe, expect, it } from 'vitest';
import { systemFetch, version, waitFor } from '../e2e/support/gateway.js';
import { functionState } from '../e2e/support/scaling.js';
import { gateways, manager, report, runningPerNode, sleep, sum } from './support/cluster.js';

const NS = 'clt-team';
const NAME = 'echo';
const SERVICE = `${NS}--${NAME}`;
const REPLICAS = 6;

afterAll(async () => {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: NAME, namespace: NS }) }).catch(() => undefined);
  await waitFor('the function gone', async () => ((await systemFetch(`/system/function/${NAME}.${NS}`)).status === 404 ? true : undefined), 60_000).catch(() => undefined);
  await systemFetch(`/system/namespace/${NS}`, { method: 'DELETE' }).catch(() => undefined);
});

/** `count` invocations through each gateway in turn, 4 a second (below the alert threshold). */
async function throughBoth(count: number, body: string): Promise<Array<{ gateway: string; status: number | string; text: string; ms: number }>> {
  const both = await gateways();
  const answers: Array<{ gateway: string; status: number | string; text: string; ms: number }> = [];
  for (let i = 0; i < count; i++) {
    const gateway = both[i % both.length]!;
    const started = performance.now();
    try {
      const res = await fetch(`${gateway}/function/${NAME}.${NS}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
      answers.push({ gateway, status: res.status, text: (await res.text()).trim(), ms: performance.now() - started });
    } catch (error) {
      answers.push({ gateway, status: (error as Error).name, text: '', ms: performance.now() - started });
    }
    await sleep(250);
  }
  return answers;
}

describe('a namespace on the cluster', () => {
  it('spreads its function over the nodes; both gateways reach every task, before and after a rolling update', async () => {
    expect((await systemFetch(`/system/namespace/${NS}`, { method: 'POST', body: '{}' })).status).toBe(201);
    const deployed = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify({
        service: NAME,
        namespace: NS,
        image: `127.0.0.1:5000/swarmfaas/echoit:${version}`,
        envProcess: 'cat',
        labels: { 'com.openfaas.scale.min': String(REPLICAS), 'com.openfaas.scale.factor': '0', 'com.openfaas.scale.zero': 'false' },
      }),
    });
    expect(deployed.status, await deployed.text()).toBe(202);
    const perNode = await waitFor(`${SERVICE} at ${REPLICAS} running tasks`, async () => {
      const running = await runningPerNode(SERVICE);
      return sum(running) === REPLICAS && (await functionState(`${NAME}.${NS}`)).availableReplicas === REPLICAS ? running : undefined;
    }, 120_000, 500);

    const before = await throughBoth(24, 'hello');
    const failedBefore = before.filter((a) => a.status !== 200 || a.text !== 'hello');

    const updated = await systemFetch('/system/functions', {
      method: 'PUT',
      body: JSON.stringify({ service: NAME, namespace: NS, image: `127.0.0.1:5000/swarmfaas/echoit:${version}`, envProcess: 'rev', labels: { 'com.openfaas.scale.factor': '0', 'com.openfaas.scale.zero': 'false' } }),
    });
    expect(updated.status, await updated.text()).toBe(202);
    const started = Date.now();
    await waitFor(`${SERVICE} rolled onto the new process on every node`, async () => {
      const status = (await manager('service', 'inspect', SERVICE, '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}')).trim();
      return status === 'completed' ? true : undefined;
    }, 180_000, 1000);
    const rolledMs = Date.now() - started;
    const after = await throughBoth(24, 'hello');
    const failedAfter = after.filter((a) => a.status !== 200 || a.text !== 'olleh');
    const taskErrors = (await manager('service', 'ps', SERVICE, '--format', '{{.Error}}')).split('\n').filter((e) => e.trim());
    const slowest = Math.max(...[...before, ...after].map((a) => a.ms));
    report([
      `namespace ${NS}: ${REPLICAS} tasks on ${Object.keys(perNode).length} nodes (${JSON.stringify(perNode)}); through both gateways ${before.length} calls, ${failedBefore.length} failed`,
      `rolling update done in ${(rolledMs / 1000).toFixed(1)} s; then ${after.length} calls, ${failedAfter.length} failed; slowest ${slowest.toFixed(0)} ms; task errors: ${taskErrors.length ? taskErrors.join('; ') : 'none'}`,
    ]);
    expect(Object.keys(perNode).length).toBeGreaterThanOrEqual(2);
    expect(failedBefore).toEqual([]);
    expect(failedAfter).toEqual([]);
    expect(taskErrors).toEqual([]);
    expect(slowest).toBeLessThan(5_000);
  });
});
