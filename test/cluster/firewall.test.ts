// The stack's published ports other than the gateway's, attacked from
// functions on the 3-node cluster (issue 21, item 1): a function on the
// worker in the default namespace and one in another namespace try to push
// an image (a blob, a config and a manifest, as `docker push` does) to the
// registry and the mirrors on every node, by every node's address and by
// their own node's gateway address, and to reach Prometheus and AlertManager
// (the suite deploys with --publish-monitoring). The engines still pull, the
// host (a LAN client here) still reaches Prometheus, and the firewall puts
// its rules back when they are gone (a node's tables after a reboot).
import { afterAll, describe, expect, inject, it } from 'vitest';
import { systemFetch, version, waitFor } from '../e2e/support/gateway.js';
import { cluster, dockerOn, firewallTable, manager, nft, nodes, publishedUrl, report } from './support/cluster.js';

const stack = inject('stackName');
const REGISTRY_PORT = 5000;
const NAMESPACE = 'clt-attack';
const TABLE = firewallTable(stack);
const removals: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const remove of removals.reverse()) await remove().catch(() => undefined);
});

// Runs in the function (the watchdog's node, per request): GET /v2/, then a
// whole push of planted/x:latest, against every host:port in TARGETS; then
// a plain connect to each MONITORING host:port. Prints JSON.
const ATTACK_JS = `
const crypto = require('crypto');
const sha = (b) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const t = () => AbortSignal.timeout(3000);
// 'node' stands for this task's node: its default route (docker_gwbridge's address).
const route = require('fs').readFileSync('/proc/net/route', 'utf8').split('\\n').map((l) => l.split('\\t')).find((f) => f[1] === '00000000');
const node = route ? [0, 2, 4, 6].map((i) => parseInt(route[2].substr(6 - i, 2), 16)).join('.') : 'none';
const expand = (list) => list.split(',').map((x) => x.replace(/^node:/, node + ':'));
async function blob(base, body) {
  const start = await fetch(base + '/v2/planted/x/blobs/uploads/', { method: 'POST', signal: t() });
  if (start.status !== 202) return start.status;
  const loc = new URL(start.headers.get('location'), base);
  loc.searchParams.set('digest', sha(body));
  return (await fetch(loc, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' }, signal: t() })).status;
}
async function push(target) {
  const base = 'http://' + target;
  try {
    const read = (await fetch(base + '/v2/', { signal: t() })).status;
    const layer = Buffer.from('planted by a function');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
    const blobs = [await blob(base, layer), await blob(base, config)];
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }] });
    const put = (await fetch(base + '/v2/planted/x/manifests/latest', { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' }, signal: t() })).status;
    return 'read ' + read + ', blobs ' + blobs.join('/') + ', manifest ' + put;
  } catch (e) { return 'unreachable (' + ((e.cause && e.cause.code) || e.name) + ')'; }
}
async function reach(target) {
  try { return 'answered ' + (await fetch('http://' + target + '/', { signal: t() })).status; }
  catch (e) { return 'unreachable (' + ((e.cause && e.cause.code) || e.name) + ')'; }
}
(async () => {
  const registry = expand(process.env.TARGETS), monitoring = expand(process.env.MONITORING);
  const outcomes = await Promise.all([...registry.map(push), ...monitoring.map(reach)]);
  console.log(JSON.stringify(Object.fromEntries([...registry, ...monitoring].map((target, i) => [target, outcomes[i]]))));
})();
`;

async function deployAttacker(service: string, namespace: string | undefined, targets: string[], monitoring: string[]): Promise<void> {
  const body = {
    service,
    ...(namespace ? { namespace } : {}),
    image: `127.0.0.1:${REGISTRY_PORT}/swarmfaas/watchdog:${version}`,
    envProcess: 'node -e eval(process.env.ATTACK_JS)',
    envVars: { ATTACK_JS, TARGETS: targets.join(','), MONITORING: monitoring.join(','), exec_timeout: '60s', write_timeout: '60s', read_timeout: '60s' },
    constraints: ['node.role == worker'],
    labels: { 'com.openfaas.scale.zero': 'false' },
  };
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(202);
  const qualified = namespace ? `${service}.${namespace}` : service;
  removals.push(() => systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: service, namespace: namespace ?? '' }) }));
  await waitFor(`${qualified} ready`, async () => {
    const r = await systemFetch(`/system/function/${qualified}`);
    return r.status === 200 && ((await r.json()) as { availableReplicas: number }).availableReplicas >= 1 ? true : undefined;
  }, 90_000, 500);
}

async function attack(qualified: string): Promise<Record<string, string>> {
  const res = await fetch(`${inject('gatewayUrl')}/function/${qualified}`, { method: 'POST', body: '', signal: AbortSignal.timeout(90_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${qualified}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, string>;
}

/** The registry's catalog, asked from inside its container (its own loopback). */
async function catalog(): Promise<string[]> {
  const [id] = (await manager('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_registry`)).split('\n');
  return (JSON.parse(await manager('exec', id!, 'wget', '-q', '-O', '-', `http://127.0.0.1:5000/v2/_catalog`)) as { repositories: string[] }).repositories;
}

describe('functions cannot reach the ports the stack publishes, on any node', () => {
  it('a function on a worker, in the default namespace and in another one, pushes nothing and reaches neither the registry, its mirrors nor the monitoring ports', async () => {
    const all = await nodes();
    const addresses = all.map((n) => n.address);
    // "node": its own node as the function sees it (the default route, through docker_gwbridge).
    const targets = ['node', ...addresses].map((a) => `${a}:${REGISTRY_PORT}`);
    const monitoring = ['node', ...addresses].flatMap((a) => [`${a}:9090`, `${a}:9093`]);
    expect((await systemFetch(`/system/namespace/${NAMESPACE}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(201);
    removals.push(() => systemFetch(`/system/namespace/${NAMESPACE}`, { method: 'DELETE' }));
    await Promise.all([deployAttacker('clt-attacker', undefined, targets, monitoring), deployAttacker('clt-attacker', NAMESPACE, targets, monitoring)]);
    const [fromDefault, fromNamespace] = await Promise.all([attack('clt-attacker'), attack(`clt-attacker.${NAMESPACE}`)]);
    const planted = (await catalog()).filter((r) => r.startsWith('planted'));
    const prometheus = await publishedUrl(`${stack}_prometheus`, 9090);
    const fromHost = (await fetch(`${prometheus}/-/healthy`, { signal: AbortSignal.timeout(5_000) })).status;
    report([
      `firewall: from a function on the worker (default namespace): ${Object.entries(fromDefault).map(([t, r]) => `${t} ${r}`).join('; ')}`,
      `firewall: from a function on the worker (namespace ${NAMESPACE}): ${Object.entries(fromNamespace).map(([t, r]) => `${t} ${r}`).join('; ')}`,
      `firewall: the registry's catalog holds ${planted.length ? planted.join(', ') : 'nothing planted'}; Prometheus from the host (${prometheus}): ${fromHost}`,
    ]);
    for (const outcome of [...Object.values(fromDefault), ...Object.values(fromNamespace)]) expect(outcome).toMatch(/^unreachable/);
    expect(Object.keys(fromDefault)).toHaveLength(targets.length + monitoring.length);
    expect(planted).toEqual([]);
    expect(fromHost).toBe(200);
  });

  it('every engine still pulls from its own 127.0.0.1 (the registry on the manager, the mirrors elsewhere)', async () => {
    const pulled: string[] = [];
    for (const host of cluster().nodeHosts) {
      await dockerOn(host, 'pull', '-q', `127.0.0.1:${REGISTRY_PORT}/swarmfaas/echoit:${version}`);
      pulled.push(host.replace(/^unix:\/\/\/run\/[a-z0-9]+\//, '').replace('/docker.sock', ''));
    }
    report([`firewall: engines that pulled 127.0.0.1:${REGISTRY_PORT}/swarmfaas/echoit: ${pulled.join(', ')}`]);
    expect(pulled).toHaveLength(cluster().nodeHosts.length);
  });

  it('puts its rules back when a node\'s tables are emptied (a reboot, a flush)', async () => {
    const worker = (await nodes()).find((n) => !n.manager)!;
    expect(await nft(worker, 'list', 'table', 'inet', TABLE)).toContain(`tcp dport ${REGISTRY_PORT}`);
    await nft(worker, 'delete', 'table', 'inet', TABLE);
    const gone = Date.now();
    await waitFor('the firewall table back', async () => ((await nft(worker, 'list', 'tables')).includes(TABLE) ? true : undefined), 30_000, 200);
    report([`firewall: ${worker.hostname}'s table deleted, back after ${((Date.now() - gone) / 1000).toFixed(1)} s`]);
    expect(Date.now() - gone).toBeLessThan(15_000);
  });
});

