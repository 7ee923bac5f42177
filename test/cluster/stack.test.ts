// The stack deployed by ./deploy_stack.sh onto the 3-node cluster: every
// service runs, tasks spread over the nodes, and the workers run images they
// pulled by digest through the stack's registry (the mirror on their own
// 127.0.0.1:5000), never images built there. A function deployed through the
// API from that registry runs on the workers too.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { systemFetch, version, waitFor } from '../e2e/support/gateway.js';
import { functionState, scaleFunction } from '../e2e/support/scaling.js';
import { cluster, dockerOn, manager, nodeHost, nodes, report, runningPerNode, stackServices, tasks } from './support/cluster.js';
import { CLUSTER_MANAGERS } from './support/cluster-env.js';

const stack = inject('stackName');
const registryImage = (name: string): string => `127.0.0.1:5000/swarmfaas/${name}:${version}`;
const apiFunction = 'clt-from-registry';

afterAll(async () => {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: apiFunction }) }).catch(() => undefined);
});

describe('the stack on three nodes', () => {
  it('runs every service, with tasks on every node', async () => {
    // (A suite before this one may have scaled a service back down: its extra task takes a stop grace period to go.)
    const services = await waitFor('every service at its replicas', async () => {
      const listed = await stackServices(stack);
      return listed.every((s) => { const [running, wanted] = s.replicas.split('/'); return running === wanted; }) ? listed : undefined;
    }, 60_000, 1_000).catch(() => stackServices(stack));
    const perNode: Record<string, string[]> = {};
    for (const { name } of services) {
      for (const task of await tasks(name)) {
        if (task.state === 'running' && task.desired === 'running') (perNode[task.node] ??= []).push(name.replace(`${stack}_`, ''));
      }
    }
    report([
      `stack services: ${services.map((s) => `${s.name.replace(`${stack}_`, '')} ${s.replicas}`).join(', ')}`,
      ...Object.entries(perNode).sort().map(([node, names]) => `tasks on ${node}: ${names.length} (${names.sort().join(', ')})`),
    ]);
    expect(services.map((s) => s.name.replace(`${stack}_`, '')).sort()).toEqual(
      ['alertmanager', 'base64', 'builder', 'connector', 'decodebase64', 'echoit', 'firewall', 'gateway', 'hubstats', 'markdown', 'nats', 'nodeinfo', 'prometheus', 'queue-worker', 'registry', 'registry-mirror', 'webhookstash', 'wordcount'],
    );
    for (const s of services) {
      const [running, wanted] = s.replicas.split('/').map(Number);
      expect(running, `${s.name} ${s.replicas}`).toBe(wanted);
    }
    expect(services.find((s) => s.name === `${stack}_registry-mirror`)?.replicas).toBe(`${cluster().nodeHosts.length - 1}/${cluster().nodeHosts.length - 1}`);
    // The firewall runs on every node.
    expect(services.find((s) => s.name === `${stack}_firewall`)?.replicas).toBe(`${cluster().nodeHosts.length}/${cluster().nodeHosts.length}`);
    // Swarm spread the stack: every node runs something besides the registry's own tasks and the firewall.
    const hostnames = (await nodes()).map((n) => n.hostname).sort();
    for (const node of hostnames) {
      expect((perNode[node] ?? []).filter((n) => !n.startsWith('registry') && n !== 'firewall').length, `stack tasks on ${node}`).toBeGreaterThan(0);
    }
  });

  it('workers run images pulled by digest through their own registry mirror, never built there', async () => {
    const workers = (await nodes()).filter((n) => !n.manager);
    expect(workers.length).toBe(cluster().nodeHosts.length - CLUSTER_MANAGERS);
    for (const worker of workers) {
      const host = nodeHost(worker.hostname);
      const ids = (await dockerOn(host, 'ps', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`)).split('\n').filter(Boolean);
      // The image each container was created from, as Swarm gave it (the pinned reference).
      const images = (await dockerOn(host, 'inspect', ...ids, '--format', '{{.Config.Image}}')).split('\n').filter(Boolean);
      const fromRegistry = images.filter((i) => !i.startsWith('swarmfaas-local/registry'));
      // The workers have nothing tagged swarmfaas/*: no image was built or copied there.
      const local = (await dockerOn(host, 'images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n').filter((i) => i.startsWith('swarmfaas/'));
      // The mirror on the worker (its 127.0.0.1:5000, published in host mode) served those repositories
      // (asked from inside its container: it answers only its node's own processes).
      const [mirror] = (await dockerOn(host, 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_registry-mirror`)).split('\n');
      const catalog = JSON.parse(await dockerOn(host, 'exec', mirror!, 'wget', '-q', '-O', '-', 'http://127.0.0.1:5000/v2/_catalog')) as { repositories: string[] };
      report([`${worker.hostname}: ${fromRegistry.length} stack containers from the registry (${fromRegistry.map((i) => i.replace(/@sha256:(\w{12})\w+/, '@$1…').replace('127.0.0.1:5000/', '')).join(', ')}); its mirror holds ${catalog.repositories.join(', ')}`]);
      expect(fromRegistry.length).toBeGreaterThan(0);
      for (const image of fromRegistry) {
        expect(image).toMatch(/^127\.0\.0\.1:5000\/[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
        const repository = image.replace(/^127\.0\.0\.1:5000\//, '').replace(/:[^/]*$/, '');
        expect(catalog.repositories, `${worker.hostname}'s mirror served ${repository}`).toContain(repository);
      }
      expect(local).toEqual([]);
    }
    // The digest a worker runs is the one the service pins (the same bytes on every node).
    const pinned = await manager('service', 'inspect', `${stack}_echoit`, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}');
    expect(pinned).toMatch(new RegExp(`^${registryImage('echoit').replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
  });

  it('a function deployed through the API with an image of the stack registry runs on the workers', async () => {
    const res = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify({ service: apiFunction, image: registryImage('echoit'), constraints: ['node.role == worker'] }),
    });
    expect(res.status, await res.text()).toBe(202);
    const started = Date.now();
    expect((await scaleFunction(apiFunction, 2)).status).toBe(202);
    await waitFor(`${apiFunction} at 2 running tasks`, async () => {
      const perNode = await runningPerNode(apiFunction);
      return Object.values(perNode).reduce((a, b) => a + b, 0) === 2 ? perNode : undefined;
    }, 90_000, 500);
    const perNode = await runningPerNode(apiFunction);
    await waitFor(`${apiFunction} answering`, async () => {
      const r = await fetch(`${inject('gatewayUrl')}/function/${apiFunction}`, { method: 'POST', body: 'from the registry', signal: AbortSignal.timeout(10_000) });
      return r.status === 200 && (await r.text()) === 'from the registry' ? true : undefined;
    }, 60_000, 500);
    const state = await functionState(apiFunction);
    report([`API-deployed ${registryImage('echoit')} on the workers: ${JSON.stringify(perNode)}, answering after ${((Date.now() - started) / 1000).toFixed(1)} s; gateway: ${state.availableReplicas}/${state.replicas} available`]);
    const managers = (await nodes()).filter((n) => n.manager).map((n) => n.hostname);
    for (const name of managers) expect(Object.keys(perNode)).not.toContain(name);
  });
});
