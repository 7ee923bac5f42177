// FAAS_REPO=<host:port>/<user>: a user with a registry of their own. The
// stack then brings no registry; deploy_stack.sh pushes what it built (and the
// local stand-ins) to the user's registry and deploys by digest, and a second
// deploy pushes nothing again. The "user's registry" is a plain registry
// container on the manager, reachable by every node at the manager's address
// (scripts/cluster.sh makes the nodes trust plain HTTP on the cluster's subnet,
// as a LAN registry would be set up). A second stack (clusterown, ports
// 18080/19090/19093) beside the suite's own.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { version, waitFor } from '../e2e/support/gateway.js';
import { cluster, dockerOn, manager, nodeHost, nodes, publishedUrl, report, stackServices } from './support/cluster.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const STACK = 'clusterown';
const REGISTRY_CONTAINER = 'clt-own-registry';

function deployEnv(repo: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DOCKER_HOST: cluster().dockerHost,
    CLUSTER_ADDRESS: cluster().address,
    CLUSTER_NODE_HOSTS: cluster().nodeHosts.join(' '),
    STACK_NAME: STACK,
    FAAS_REPO: repo,
    GATEWAY_PORT: '18080',
    PROMETHEUS_PORT: '19090',
    ALERTMANAGER_PORT: '19093',
  };
}

function deploy(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('./deploy_stack.sh', args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`deploy_stack.sh ${args.join(' ')} exited ${code}:\n${output.slice(-3000)}`))));
  });
}

afterAll(async () => {
  await deploy(['--remove', '--purge-secrets'], deployEnv('unused')).catch((e: Error) => report([`removing ${STACK} failed: ${e.message}`]));
  await manager('rm', '-f', REGISTRY_CONTAINER).catch(() => undefined);
});

describe('FAAS_REPO: a registry of your own', () => {
  it('pushes the images built here to it, brings no registry, and every node pulls from it by digest', async () => {
    // The same registry image the suite's stack runs (registry:2, or its local stand-in).
    const registryImage = (await manager('service', 'inspect', `${inject('stackName')}_registry`, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}')).replace(/@sha256:\w+$/, '');
    await manager('run', '-d', '--name', REGISTRY_CONTAINER, '-p', '5001:5000', registryImage);
    const repo = `${cluster().address}:5001/clt`;
    await waitFor('the own registry answering', async () => ((await fetch(`http://${cluster().address}:5001/v2/`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000, 500);

    let started = Date.now();
    // --build: what this run builds is pushed, whatever an earlier run left in the local image store.
    const first = await deploy(['--no-auth', '--build'], deployEnv(repo));
    const firstSeconds = (Date.now() - started) / 1000;
    // An image missing here but in the registry is pulled, not built again (nor pushed back).
    await manager('image', 'rm', `${repo}/echoit:${version}`);
    started = Date.now();
    const second = await deploy(['--no-auth'], deployEnv(repo));
    const secondSeconds = (Date.now() - started) / 1000;

    // Pushes of the project's images (the local stand-ins of Prometheus and AlertManager go on every deploy).
    const pushes = (output: string): string[] => output.split('\n').filter((l) => l.includes('==> pushing') && l.includes('(built here)'));
    const pushed = pushes(first);
    const catalog = ((await (await fetch(`http://${cluster().address}:5001/v2/_catalog`)).json()) as { repositories: string[] }).repositories;
    const services = await stackServices(STACK);
    const specImages = await Promise.all(services.map((s) => manager('service', 'inspect', s.name, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}')));
    const workerImages: string[] = [];
    for (const node of (await nodes()).filter((n) => !n.manager)) {
      const ids = (await dockerOn(nodeHost(node.hostname), 'ps', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`)).split('\n').filter(Boolean);
      if (ids.length) workerImages.push(...(await dockerOn(nodeHost(node.hostname), 'inspect', ...ids, '--format', '{{.Config.Image}}')).split('\n'));
    }
    const gateway = await publishedUrl(`${STACK}_gateway`, 18080);
    const answer = await fetch(`${gateway}/function/${STACK}_echoit`, { method: 'POST', body: 'own registry', signal: AbortSignal.timeout(10_000) });
    report([
      `own registry ${repo}: first deploy ${firstSeconds.toFixed(1)} s, pushed ${pushed.length} images; second deploy ${secondSeconds.toFixed(1)} s, pushed ${pushes(second).length}`,
      `own registry: its catalog ${catalog.join(', ')}; ${workerImages.length} containers on the workers, all from it: ${workerImages.every((i) => i.startsWith(`${repo}/`))}`,
    ]);

    expect(first).toContain(`images come from your registry ${repo}`);
    expect(services.map((s) => s.name)).not.toContain(`${STACK}_registry`);
    for (const s of services) {
      const [running, wanted] = s.replicas.split('/');
      expect(running, `${s.name} ${s.replicas}`).toBe(wanted);
    }
    for (const name of ['gateway', 'echoit', 'watchdog', 'prometheus', 'alertmanager']) expect(catalog).toContain(`clt/${name}`);
    // Every service, the local stand-ins of Prometheus and AlertManager included, runs a digest of the user's registry.
    for (const image of specImages) expect(image).toMatch(new RegExp(`^${repo.replace(/\./g, '\\.')}/[\\w-]+:[\\w.-]+@sha256:[0-9a-f]{64}$`));
    expect(specImages).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`/echoit:${version.replace(/\./g, '\\.')}@`))]));
    expect(workerImages.length).toBeGreaterThan(0);
    for (const image of workerImages) expect(image.startsWith(`${repo}/`), image).toBe(true);
    // A re-deploy finds everything in the registry already.
    expect(pushed.length).toBeGreaterThanOrEqual(10);
    expect(pushes(second)).toEqual([]);
    expect(second).not.toContain('building images');
    expect(await manager('image', 'inspect', `${repo}/echoit:${version}`, '--format', '{{join .RepoDigests " "}}')).toContain(`${repo}/echoit@sha256:`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('own registry');
  }, 300_000);
});
