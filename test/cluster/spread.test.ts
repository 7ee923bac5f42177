// Functions spread over the nodes: echoit scaled to 12 through the gateway's
// API runs on all three nodes and every invocation answers; nodeinfo, which
// prints the hostname of the task that answered, shows the gateway reaching
// tasks on every node. Invocations stay below the 5/s alert threshold so that
// AlertManager keeps out of it.
import { afterAll, describe, expect, it } from 'vitest';
import { functionState, scaleFunction } from '../e2e/support/scaling.js';
import { fn, gatewayUrl, waitFor } from '../e2e/support/gateway.js';
import { dockerOn, nodeHost, nodes, report, runningPerNode, sleep, sum } from './support/cluster.js';

const echoit = fn('echoit');
const nodeinfo = fn('nodeinfo');
/** Sequential invocations are paced to this many per second (alert threshold: 5/s). */
const RATE = 4;

afterAll(async () => {
  await scaleFunction(echoit, 1).catch(() => undefined);
  await scaleFunction(nodeinfo, 1).catch(() => undefined);
});

async function scaleAndWait(name: string, replicas: number): Promise<{ perNode: Record<string, number>; swarmMs: number; gatewayMs: number }> {
  const started = Date.now();
  const res = await scaleFunction(name, replicas);
  expect(res.status, await res.text()).toBe(202);
  let swarmMs = 0;
  let gatewayMs = 0;
  const perNode = await waitFor(`${name} at ${replicas} running tasks, in Swarm and in the gateway`, async () => {
    const running = await runningPerNode(name);
    if (!swarmMs && sum(running) === replicas) swarmMs = Date.now() - started;
    if (!gatewayMs && (await functionState(name)).availableReplicas === replicas) gatewayMs = Date.now() - started;
    return swarmMs && gatewayMs ? running : undefined;
  }, 90_000, 250);
  return { perNode, swarmMs, gatewayMs };
}

/** `count` sequential invocations, one every 1/RATE s; answers [status, body, ms]. */
async function sequential(name: string, count: number, body: (i: number) => string): Promise<Array<{ status: number | string; text: string; ms: number }>> {
  const answers: Array<{ status: number | string; text: string; ms: number }> = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    try {
      const res = await fetch(gatewayUrl(`/function/${name}`), { method: 'POST', body: body(i), signal: AbortSignal.timeout(10_000) });
      answers.push({ status: res.status, text: await res.text(), ms: performance.now() - started });
    } catch (error) {
      answers.push({ status: (error as Error).name, text: '', ms: performance.now() - started });
    }
    const wait = 1000 / RATE - (performance.now() - started);
    if (wait > 0) await sleep(wait);
  }
  return answers;
}

describe('functions spread over the nodes', () => {
  it('12 replicas of echoit run on all three nodes and every invocation answers', async () => {
    const { perNode, swarmMs, gatewayMs } = await scaleAndWait(echoit, 12);
    const count = 48;
    const answers = await sequential(echoit, count, (i) => `spread ${i}`);
    const failed = answers.filter((a, i) => a.status !== 200 || a.text !== `spread ${i}`);
    const slowest = Math.max(...answers.map((a) => a.ms));
    report([
      `echoit at 12 replicas: running per node ${JSON.stringify(perNode)}; Swarm had 12 running after ${(swarmMs / 1000).toFixed(1)} s, the gateway showed 12 available after ${(gatewayMs / 1000).toFixed(1)} s`,
      `echoit at 12 replicas: ${count} sequential invocations (${RATE}/s): ${count - failed.length} answered 200, ${failed.length} failed${failed.length ? ` (${failed.map((a) => a.status).join(', ')})` : ''}, slowest ${slowest.toFixed(0)} ms`,
    ]);
    expect(Object.keys(perNode).sort()).toEqual((await nodes()).map((n) => n.hostname).sort());
    expect(failed).toEqual([]);
  }, 180_000);

  it('the gateway reaches tasks on every node (nodeinfo names the task that answered)', async () => {
    const { perNode } = await scaleAndWait(nodeinfo, 6);
    // The hostname nodeinfo prints is its container's ID: find each node's containers.
    const containerNode = new Map<string, string>();
    for (const node of await nodes()) {
      const ids = (await dockerOn(nodeHost(node.hostname), 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${nodeinfo}`)).split('\n').filter(Boolean);
      for (const id of ids) containerNode.set(id.slice(0, 12), node.hostname);
    }
    const count = 36;
    const answers = await sequential(nodeinfo, count, () => '');
    const answeredBy: Record<string, number> = {};
    for (const a of answers) {
      const host = /^Hostname: (\w+)/.exec(a.text)?.[1];
      const node = a.status === 200 && host ? (containerNode.get(host) ?? `unknown task ${host}`) : `failed ${a.status}`;
      answeredBy[node] = (answeredBy[node] ?? 0) + 1;
    }
    report([`nodeinfo at 6 replicas (${JSON.stringify(perNode)}): ${count} invocations answered per node ${JSON.stringify(answeredBy)}`]);
    expect(Object.keys(answeredBy).sort()).toEqual(Object.keys(perNode).sort());
  }, 180_000);
});
