// scripts/cluster.sh as a user meets it: `up` again changes nothing, `status`
// lists every node Ready under its own hostname, and `down` (twice) leaves
// nothing behind. The removal is tried on a second, small cluster with its own
// prefix and subnet (the overrides), so the suite's cluster stays up.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cluster, clusterScript, clusterUp, nodes, report } from './support/cluster.js';

const run = promisify(execFile);

/** What a cluster with this prefix may have left on the machine. */
async function leftovers(prefix: string, bridge: string): Promise<string[]> {
  const found: string[] = [];
  const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${prefix}-`));
  found.push(...netns.map((n) => `netns ${n}`));
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(` ${prefix}-`));
  found.push(...links.map((l) => `link ${l.split(':')[1]?.trim()}`));
  const rules = (await run('iptables', ['-S', 'FORWARD'])).stdout.split('\n').filter((l) => l.includes(bridge));
  found.push(...rules.map((r) => `iptables ${r}`));
  for (const dir of [`/var/lib/${prefix}`, `/run/${prefix}`]) if (existsSync(dir)) found.push(`directory ${dir}`);
  const engines = (await run('ps', ['-eo', 'pid,args'])).stdout.split('\n').filter((l) => l.includes(`/var/lib/${prefix}/`));
  found.push(...engines.map((l) => `process ${l.trim().slice(0, 80)}`));
  const cgroups = (await run('sh', ['-c', `ls -d /sys/fs/cgroup/${prefix}-node-* /sys/fs/cgroup/*/${prefix}-node-* 2>/dev/null || true`])).stdout.split('\n').filter(Boolean);
  found.push(...cgroups.map((c) => `cgroup ${c}`));
  return found;
}

describe('scripts/cluster.sh', () => {
  it('up on a running cluster changes nothing: same nodes, same exports', async () => {
    const before = await nodes();
    const started = Date.now();
    const again = await clusterUp();
    const took = Date.now() - started;
    const after = await nodes();
    report([`up on the running ${before.length}-node cluster took ${(took / 1000).toFixed(1)} s and changed nothing`]);
    expect(again).toEqual(cluster());
    expect(after.map((n) => [n.id, n.hostname]).sort()).toEqual(before.map((n) => [n.id, n.hostname]).sort());
  });

  it('status lists every node Ready, with distinct hostnames', async () => {
    const { stdout } = await clusterScript(['status']);
    const rows = stdout.split('\n').filter((l) => /^node-\d+ /.test(l));
    report(['status:', ...stdout.trimEnd().split('\n').map((l) => `  ${l}`)]);
    expect(rows).toHaveLength(cluster().nodeHosts.length);
    for (const row of rows) expect(row.split(/\s+/)[3], row).toBe('Ready');
    const hostnames = (await nodes()).map((n) => n.hostname).sort();
    expect(hostnames).toEqual(cluster().nodeHosts.map((_, i) => `node-${i + 1}`).sort());
  });

  it('a second cluster (own prefix and subnet) comes up beside it and down twice removes everything', async () => {
    const env = { CLUSTER_PREFIX: 'sfaast', CLUSTER_SUBNET: '10.99.201.0/24' };
    try {
      let started = Date.now();
      const first = await clusterScript(['up', '2'], env);
      const upTook = Date.now() - started;
      const second = await clusterScript(['up', '2'], env);
      expect(second.stdout).toBe(first.stdout);
      expect(first.stdout).toContain('export CLUSTER_ADDRESS=10.99.201.11');
      const status = await clusterScript(['status'], env);
      expect(status.stdout.split('\n').filter((l) => / Ready /.test(l))).toHaveLength(2);

      started = Date.now();
      const down = await clusterScript(['down'], env);
      const downTook = Date.now() - started;
      expect(down.stdout.trim()).toBe('unset DOCKER_HOST CLUSTER_ADDRESS CLUSTER_NODE_HOSTS');
      const again = await clusterScript(['down'], env);
      expect(again.stderr).toContain('no cluster to remove');
      const left = await leftovers('sfaast', 'sfaast-br');
      report([`second cluster: up 2 in ${(upTook / 1000).toFixed(1)} s, down in ${(downTook / 1000).toFixed(1)} s, down again ok; left behind: ${left.length ? left.join(', ') : 'nothing'}`]);
      expect(left).toEqual([]);
      // The suite's own cluster was not touched.
      expect((await nodes()).filter((n) => n.status === 'ready')).toHaveLength(cluster().nodeHosts.length);
    } finally {
      await clusterScript(['down'], env).catch(() => undefined);
    }
  }, 180_000);
});
