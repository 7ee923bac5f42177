// No container of the stack keeps zombies on any node of the cluster (issue
// 21, item 4): every container's own health check run 10 times (docker exec,
// as the engine runs it), then the zombies under each container's PID 1
// counted from this machine's /proc (the nodes' engines share it).
import { describe, expect, inject, it } from 'vitest';
import { healthCheckAndCountZombies } from '../e2e/support/zombies.js';
import { cluster, dockerOn, report } from './support/cluster.js';

describe('zombies on every node', () => {
  it('0 in every container of the stack after 10 health checks each', async () => {
    const stack = inject('stackName');
    const started = Date.now();
    const perNode = await Promise.all(
      cluster().nodeHosts.map(async (host) => {
        const docker = (...args: string[]) => dockerOn(host, ...args);
        const ids = (await docker('ps', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`)).split('\n').filter(Boolean);
        return { node: host.replace(/^unix:\/\/\/run\/[a-z0-9]+\//, '').replace('/docker.sock', ''), counted: await healthCheckAndCountZombies(docker, ids, 10) };
      }),
    );
    report(perNode.map(({ node, counted }) => `zombies on ${node} after 10 health checks each (${((Date.now() - started) / 1000).toFixed(1)} s): ${counted.map((c) => `${c.name.replace(`${stack}_`, '')} ${c.zombies}`).join(', ')}`));
    for (const { node, counted } of perNode) {
      expect(counted.length, node).toBeGreaterThan(0);
      expect(counted.filter((c) => c.zombies > 0), node).toEqual([]);
    }
  });
});
